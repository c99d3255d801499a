"""Training and scoring on the LTSF protocol (:mod:`lstmkit.data.ltsf`).

Any module mapping ``past (B, L, C)`` to ``forecast (B, H, C)`` (or ``(B, H, C, Q)``) on the scaled values
is scored by :func:`score_ltsf` over every origin of a part, and trains either way:

- on the shared engine (:func:`lstmkit.train.engine.fit`, as ``lstmkit train forecast --protocol ltsf``
  does through the runner), with :class:`LtsfOrigins` batches and :class:`LtsfObjective`;
- with :func:`fit_ltsf`, a plain loop (Adam, MSE loss, the learning rate multiplied by ``lr_decay`` after
  each epoch, early stopping on the validation MSE, the best epoch's weights kept): the loop the
  benchmark's published rows were measured with, and the one that trains the DLinear baseline
  (:func:`fit_baseline`) in a run's scoring without writing checkpoints into it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit.data.ltsf import LtsfWindows
from lstmkit.tasks.forecast.objective import ForecastObjective

__all__ = [
    "LtsfTrainConfig", "fit_ltsf", "model_forecaster", "score_ltsf", "LtsfOrigins", "LtsfObjective", "BASELINES",
    "DLINEAR_TRAINING", "fit_baseline", "baseline_name",
]  # fmt: skip

BASELINES = ("repeat_last", "seasonal_naive", "linear", "dlinear")


@dataclass(frozen=True)
class LtsfTrainConfig:
    """``patience``: epochs without a lower validation MSE before stopping."""

    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    lr_decay: float = 0.8
    patience: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0 or not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr must be > 0 and lr_decay in (0, 1], got lr={self.lr}, lr_decay={self.lr_decay}")


def score_ltsf(
    forecaster: Callable[[np.ndarray], np.ndarray],
    windows: LtsfWindows,
    part: str,
    horizon: int,
    batch_size: int = 1024,
    point: int = 0,
) -> dict[str, float]:
    """MSE and MAE of ``forecaster (past (N, L, C) -> (N, H, C))`` over every origin of ``part``, each once.

    A forecaster of quantiles, ``(N, H, C, Q)`` (each sorted first, so crossed quantiles never count), is
    scored on its column ``point`` (the median), and ``coverage`` adds the share of the targets that lie
    between its lowest and its highest quantile.
    """
    origins = windows.split.origins(part, horizon)
    squared = absolute = 0.0
    inside, quantiles = 0, False
    for start in range(0, len(origins), batch_size):  # batches keep a 720-step horizon's memory bounded
        past, target = windows.batch(origins[start : start + batch_size], horizon)
        forecast = np.asarray(forecaster(past), dtype=np.float64)
        if forecast.ndim == 4:
            forecast = np.sort(forecast, axis=-1)
            between = (forecast[..., 0] <= target) & (target <= forecast[..., -1])
            inside, quantiles, forecast = inside + int(between.sum()), True, forecast[..., point]
        error = forecast - target
        squared, absolute = squared + float((error**2).sum()), absolute + float(np.abs(error).sum())
    count = len(origins) * horizon * windows.scaled.shape[1]
    scores = {"mse": squared / count, "mae": absolute / count, "origins": len(origins)}
    return {**scores, "coverage": inside / count} if quantiles else scores


def model_forecaster(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` as a NumPy forecaster for :func:`score_ltsf` (evaluation mode, no gradients)."""

    def forecast(past: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(past)).numpy()

    return forecast


class LtsfOrigins:
    """The windows of ``origins`` as a map-style dataset of indices; ``collate`` gathers a batch into
    ``{"past": (B, L, C), "target": (B, H, C)}`` (a DataLoader's sampler picks the indices, so the
    runner can shard them between processes)."""

    def __init__(self, windows: LtsfWindows, origins: np.ndarray, horizon: int) -> None:
        self.windows, self.origins, self.horizon = windows, np.asarray(origins), horizon

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, index: int) -> int:
        return index

    def collate(self, indices: list[int]) -> dict[str, torch.Tensor]:
        past, target = self.windows.batch(self.origins[np.asarray(indices)], self.horizon)
        return {"past": torch.from_numpy(past), "target": torch.from_numpy(target)}


class LtsfObjective(ForecastObjective):
    """The forecast objective on :class:`LtsfOrigins` batches: the model reads ``past`` alone; a point
    forecast ``(B, H, C)`` is read as one quantile. Validation reports ``loss``, ``mse`` and ``mae``."""

    def predict(self, model, batch) -> torch.Tensor:
        output = model(batch["past"])
        return output if output.dim() == 4 else output.unsqueeze(-1)


def fit_ltsf(
    model: nn.Module,
    windows: LtsfWindows,
    horizon: int,
    config: LtsfTrainConfig,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Train ``model`` in place on the training origins; returns ``{"epochs": [...], "best_epoch",
    "train_seconds"}`` with each epoch's train loss and validation MSE/MAE. ``log`` gets one line per epoch."""
    generator = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    origins = windows.split.origins("train", horizon)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=config.lr_decay)
    best_mse, best_state, best_epoch, history = math.inf, None, 0, []
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for batch in np.array_split(generator.permutation(origins), max(1, len(origins) // config.batch_size)):
            past, target = windows.batch(batch, horizon)
            loss = nn.functional.mse_loss(model(torch.from_numpy(past)), torch.from_numpy(target))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        scheduler.step()
        val = score_ltsf(model_forecaster(model), windows, "val", horizon)
        history.append(
            {"epoch": epoch, "train_loss": float(np.mean(losses)), "val_mse": val["mse"], "val_mae": val["mae"]}
        )
        log(
            f"epoch {epoch}: train loss {history[-1]['train_loss']:.4f}, val MSE {val['mse']:.4f}, "
            f"MAE {val['mae']:.4f} ({time.perf_counter() - started:.0f} s)"
        )
        if val["mse"] < best_mse:
            best_mse, best_state, best_epoch = val["mse"], copy.deepcopy(model.state_dict()), epoch
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return {"epochs": history, "best_epoch": best_epoch, "train_seconds": time.perf_counter() - started}


# The DLinear baseline's training, as the benchmark's rows were measured (its --dlinear-lr 5e-3).
DLINEAR_TRAINING = LtsfTrainConfig(epochs=12, batch_size=256, lr=5e-3, lr_decay=0.8, patience=3)


def baseline_name(name: str, period: int) -> str:
    """How tables label a baseline of :data:`BASELINES`."""
    return {
        "repeat_last": "repeat last",
        "seasonal_naive": f"seasonal naive (m={period})",
        "linear": "linear (ridge least squares)",
        "dlinear": "DLinear",
    }[name]


def fit_baseline(
    name: str,
    windows: LtsfWindows,
    horizon: int,
    period: int,
    training: LtsfTrainConfig = DLINEAR_TRAINING,
    log: Callable[[str], None] = lambda line: None,
) -> Callable[[np.ndarray], np.ndarray]:
    """The baseline ``name`` of :data:`BASELINES` fitted on the training origins, as a forecaster for
    :func:`score_ltsf`; ``training`` (its seed included) trains DLinear."""
    from lstmkit.baselines.ltsf import DLinear, LinearLeastSquares, repeat_last, seasonal_repeat

    if name == "repeat_last":
        return lambda past: repeat_last(past, horizon)
    if name == "seasonal_naive":
        return lambda past: seasonal_repeat(past, horizon, period)
    if name == "linear":
        return LinearLeastSquares().fit(windows, horizon)
    if name == "dlinear":
        torch.manual_seed(training.seed)
        model = DLinear(windows.split.lookback, horizon)
        fit_ltsf(model, windows, horizon, training, log)
        return model_forecaster(model)
    raise ValueError(f"name must be one of {BASELINES}, got {name!r}")
