"""Baselines of the LTSF protocol (:mod:`lstmkit.data.ltsf`), on batches of scaled windows.

Each maps ``past (N, L, C)`` to ``forecast (N, H, C)``, every column from its own past (channel
independence, as the recurrent model), so all models are scored on the same origins the same way:

- :func:`repeat_last`: the last value, repeated.
- :func:`seasonal_repeat`: the value one season earlier (period 24 for hourly data); needs ``period <= L``.
- :class:`LinearLeastSquares`: ``forecast = W past + b``, one ``(H, L)`` map shared by every column,
  fitted in closed form (ridge least squares) on every training origin.
- :class:`DLinear` (Zeng et al. 2023): the window split into a moving-average trend and the seasonal
  rest, each mapped by its own linear layer, trained by gradient descent
  (:func:`lstmkit.tasks.forecast.ltsf.fit_ltsf`). Both parts are linear in ``past``, so in closed form
  DLinear would equal the linear model; the decomposition shapes what gradient descent finds.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from lstmkit.data.ltsf import LtsfWindows
from lstmkit.data.windows import seasonal_lags

__all__ = ["repeat_last", "seasonal_repeat", "LinearLeastSquares", "moving_average", "DLinear"]


def repeat_last(past: np.ndarray, horizon: int) -> np.ndarray:
    """``past (N, L, C)`` -> its last value repeated, ``(N, H, C)``."""
    return np.repeat(past[:, -1:], horizon, axis=1)


def seasonal_repeat(past: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """``past (N, L, C)`` -> ``(N, H, C)``: step ``k`` (0-based, after the origin) repeats the last value
    of the same phase of the season, ``seasonal_lags(k)`` steps before step ``k``."""
    lookback = past.shape[1]
    if not 1 <= period <= lookback:
        raise ValueError(f"period must be in 1..lookback={lookback}, got {period}")
    return past[:, lookback + np.arange(horizon) - seasonal_lags(horizon, period)]


class LinearLeastSquares:
    """A linear map of the window, shared by all columns, fitted by ridge least squares:
    ``min ||X W - Y||^2 + ridge ||W||^2`` over every training window of every column (``X`` the
    window with a column of ones, the bias unpenalised)."""

    def __init__(self, ridge: float = 1e-3) -> None:
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {ridge}")
        self.ridge = ridge
        self.weight: np.ndarray | None = None  # (L + 1, H), the last row the bias

    def fit(self, windows: LtsfWindows, horizon: int, batch_size: int = 2048) -> LinearLeastSquares:
        """Fit on every training origin of ``windows``; the normal equations are summed over batches so
        no matrix of all windows is built."""
        lookback = windows.split.lookback
        gram, cross = np.zeros((lookback + 1, lookback + 1)), np.zeros((lookback + 1, horizon))
        origins = windows.split.origins("train", horizon)
        for start in range(0, len(origins), batch_size):
            past, target = windows.batch(origins[start : start + batch_size], horizon)
            inputs = _with_ones(_rows(past))
            gram += inputs.T @ inputs
            cross += inputs.T @ _rows(target)
        penalty = self.ridge * len(origins) * np.eye(lookback + 1)
        penalty[-1, -1] = 0.0
        self.weight = np.linalg.solve(gram + penalty, cross)
        return self

    def __call__(self, past: np.ndarray) -> np.ndarray:
        if self.weight is None:
            raise ValueError("LinearLeastSquares: call fit before forecasting")
        if past.shape[1] + 1 != self.weight.shape[0]:
            raise ValueError(f"past must have {self.weight.shape[0] - 1} steps, got {past.shape[1]}")
        forecast = _with_ones(_rows(past)) @ self.weight  # (N * C, H)
        return forecast.reshape(past.shape[0], past.shape[2], -1).transpose(0, 2, 1)


def _rows(windows: np.ndarray) -> np.ndarray:
    """``(N, T, C)`` -> ``(N * C, T)``: one row per column of each window (channel independence)."""
    return np.asarray(windows, dtype=np.float64).transpose(0, 2, 1).reshape(-1, windows.shape[1])


def _with_ones(rows: np.ndarray) -> np.ndarray:
    return np.concatenate([rows, np.ones((len(rows), 1))], axis=1)


def moving_average(past: Tensor, kernel_size: int) -> Tensor:
    """The trend of ``past (B, L, C)``: the mean of ``kernel_size`` (odd) steps centred on each step, the
    window padded by repeating its first and last values so the trend keeps length ``L``."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
    half = (kernel_size - 1) // 2
    padded = torch.cat([past[:, :1].expand(-1, half, -1), past, past[:, -1:].expand(-1, half, -1)], dim=1)
    return F.avg_pool1d(padded.transpose(1, 2), kernel_size, stride=1).transpose(1, 2)


class DLinear(nn.Module):
    """``past (B, L, C)`` -> ``(B, H, C)``: ``trend @ W_t + seasonal @ W_s`` per column (see the module doc).
    Both maps start as the window's mean, the forecast a flat line at the average level."""

    def __init__(self, lookback: int, horizon: int, kernel_size: int = 25) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.trend = nn.Linear(lookback, horizon)
        self.seasonal = nn.Linear(lookback, horizon)
        for layer in (self.trend, self.seasonal):
            nn.init.constant_(layer.weight, 1.0 / lookback)

    def forward(self, past: Tensor) -> Tensor:
        trend = moving_average(past, self.kernel_size)
        seasonal = past - trend
        return (self.trend(trend.transpose(1, 2)) + self.seasonal(seasonal.transpose(1, 2))).transpose(1, 2)
