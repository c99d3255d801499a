"""Training and scoring on the LTSF protocol (:mod:`lstmkit.data.ltsf`): a plain loop, on purpose.

Any module mapping ``past (B, L, C)`` to ``forecast (B, H, C)`` on the scaled values trains here
(the segment forecaster, the trained DLinear): Adam, MSE loss, the learning rate multiplied by
``lr_decay`` after each epoch, early stopping on the validation MSE, and the best epoch's weights kept.
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

__all__ = ["LtsfTrainConfig", "fit_ltsf", "model_forecaster", "score_ltsf"]


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
) -> dict[str, float]:
    """MSE and MAE of ``forecaster (past (N, L, C) -> (N, H, C))`` over every origin of ``part``, each once."""
    origins = windows.split.origins(part, horizon)
    squared = absolute = 0.0
    for start in range(0, len(origins), batch_size):  # batches keep a 720-step horizon's memory bounded
        past, target = windows.batch(origins[start : start + batch_size], horizon)
        error = np.asarray(forecaster(past), dtype=np.float64) - target
        squared, absolute = squared + float((error**2).sum()), absolute + float(np.abs(error).sum())
    count = len(origins) * horizon * windows.scaled.shape[1]
    return {"mse": squared / count, "mae": absolute / count, "origins": len(origins)}


def model_forecaster(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` as a NumPy forecaster for :func:`score_ltsf` (evaluation mode, no gradients)."""

    def forecast(past: np.ndarray) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return model(torch.from_numpy(past)).numpy()

    return forecast


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
