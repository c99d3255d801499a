"""Forecasters on the lstmkit recurrent layers, and the pinball (quantile) loss.

Both models read a lookback window ``past (B, L, P)`` (scaled target, past and known covariates,
calendar features) and the known future ``future (B, H, K)`` (known covariates, calendar features,
the scaled value one season earlier), and return ``(B, H, Q)``: one value per quantile per step.

- ``direct``: an encoder reads ``past``; a small MLP maps [final hidden state, future features of
  step h, a learned embedding of h] to the Q outputs of every step at once (multi-output, no recursion).
- ``seq2seq``: an encoder reads ``past``; a decoder, started from the encoder's final state, reads
  ``future`` step by step and a linear layer maps each of its outputs to the Q values.

With ``residual=True`` the outputs are added to ``base (B, H)`` (the seasonal naive, or naive, forecast in the
scaled space): the network learns the correction to the seasonal repeat, which it can leave at
zero, rather than the whole level and season from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmkit.heads.config import _DictConfig, check_cell
from lstmkit.heads.encoder import make_recurrent_layer
from lstmkit.heads.segment_forecaster import denormalise_windows, normalise_windows

__all__ = [
    "ForecasterConfig", "DirectForecaster", "Seq2SeqForecaster", "WindowForecaster", "make_forecaster", "pinball_loss",
]  # fmt: skip

KINDS = ("direct", "seq2seq")


@dataclass(frozen=True)
class ForecasterConfig(_DictConfig):
    """``past_size``/``future_size``: features per step of ``past``/``future``; ``quantiles`` empty for a
    point forecast (one output per step)."""

    past_size: int
    future_size: int
    horizon: int
    kind: str = "direct"
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.1
    quantiles: tuple[float, ...] = ()
    residual: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantiles", tuple(float(q) for q in self.quantiles))  # JSON gives a list
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        check_cell(self.cell, False)
        for name in ("past_size", "horizon", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if any(not 0 < q < 1 for q in self.quantiles) or list(self.quantiles) != sorted(set(self.quantiles)):
            raise ValueError(f"quantiles must be increasing and distinct in (0, 1), got {self.quantiles}")

    @property
    def num_outputs(self) -> int:
        return max(1, len(self.quantiles))


def pinball_loss(prediction: Tensor, target: Tensor, quantiles: Tensor) -> Tensor:
    """Mean quantile loss: ``prediction (..., Q)``, ``target (...)``, ``quantiles (Q,)``.

    For quantile q the loss of an error ``e = target - prediction`` is ``max(q e, (q - 1) e)``: its
    minimiser over a distribution is that distribution's q-quantile.
    """
    error = target.unsqueeze(-1) - prediction
    return torch.maximum(quantiles * error, (quantiles - 1) * error).mean()


class _Forecaster(nn.Module):
    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = make_recurrent_layer(
            config.cell,
            config.past_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )

    def _check(self, past: Tensor, future: Tensor, base: Tensor | None) -> None:
        c = self.config
        if past.dim() != 3 or past.shape[-1] != c.past_size:
            raise ValueError(f"past must be (B, L, {c.past_size}), got {tuple(past.shape)}")
        if future.shape[1:] != (c.horizon, c.future_size) or future.shape[0] != past.shape[0]:
            raise ValueError(
                f"future must be ({past.shape[0]}, {c.horizon}, {c.future_size}), got {tuple(future.shape)}"
            )
        if c.residual and (base is None or base.shape != (past.shape[0], c.horizon)):
            shape = None if base is None else tuple(base.shape)
            raise ValueError(f"residual forecaster needs base ({past.shape[0]}, {c.horizon}), got {shape}")

    def _add_base(self, out: Tensor, base: Tensor | None) -> Tensor:
        return out + base.unsqueeze(-1) if self.config.residual else out


class DirectForecaster(_Forecaster):
    """Encoder over the lookback, then all ``horizon`` steps at once from an MLP (see the module doc)."""

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__(config)
        hidden = config.hidden_size
        self.step_embedding = nn.Embedding(config.horizon, hidden)
        self.head = nn.Sequential(
            nn.Linear(hidden + config.future_size, hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(hidden, config.num_outputs),
        )

    def forward(self, past: Tensor, future: Tensor, base: Tensor | None = None) -> Tensor:
        self._check(past, future, base)
        outputs, _ = self.encoder(past)
        context = outputs[:, -1].unsqueeze(1) + self.step_embedding.weight.unsqueeze(0)  # (B, H, hidden)
        return self._add_base(self.head(torch.cat([context, future], dim=-1)), base)


class Seq2SeqForecaster(_Forecaster):
    """Encoder over the lookback; a decoder reads the known future step by step (see the module doc)."""

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__(config)
        self.decoder = make_recurrent_layer(
            config.cell,
            max(1, config.future_size),
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.num_outputs)

    def forward(self, past: Tensor, future: Tensor, base: Tensor | None = None) -> Tensor:
        self._check(past, future, base)
        _, state = self.encoder(past)
        if future.shape[-1] == 0:  # nothing known ahead: the decoder reads a constant input
            future = future.new_ones(future.shape[0], future.shape[1], 1)
        outputs, _ = self.decoder(future, state)
        return self._add_base(self.head(self.dropout(outputs)), base)


def make_forecaster(config: ForecasterConfig) -> _Forecaster:
    return (DirectForecaster if config.kind == "direct" else Seq2SeqForecaster)(config)


class WindowForecaster(nn.Module):
    """A direct or seq2seq forecaster on the windows of the LTSF protocol, as the segment model reads them:
    ``past (B, L, C) -> (B, H, C)`` (``(B, H, C, Q)`` with quantiles), every column from its own past by
    the one forecaster (channel independence), each window shifted by its last value first (the segment
    model's normalisation: the network forecasts the shape of what follows, not the level).

    ``config`` reads one value per step (``past_size=1``), nothing known ahead (``future_size=0``) and no
    base (``residual=False``: after the shift the naive base is zero).
    """

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        if (config.past_size, config.future_size, config.residual) != (1, 0, False):
            raise ValueError(
                "config must read one value per step with nothing known ahead and no base (past_size=1, "
                f"future_size=0, residual=False), got {config.past_size}, {config.future_size}, {config.residual}"
            )
        self.config = config
        self.forecaster = make_forecaster(config)

    def forward(self, past: Tensor) -> Tensor:
        if past.dim() != 3:
            raise ValueError(f"past must be (B, L, C), got {tuple(past.shape)}")
        batch, lookback, channels = past.shape
        normalised, stats = normalise_windows(past, "last")
        series = normalised.permute(0, 2, 1).reshape(batch * channels, lookback, 1)
        # (shape[0], not len(): the ONNX tracer keeps a size read so dynamic, a len() it fixes at the example's)
        outputs = self.forecaster(series, series.new_zeros(series.shape[0], self.config.horizon, 0))  # (B*C, H, Q)
        outputs = outputs.reshape(batch, channels, self.config.horizon, -1).permute(0, 2, 1, 3)
        return denormalise_windows(outputs if self.config.quantiles else outputs[..., 0], stats)
