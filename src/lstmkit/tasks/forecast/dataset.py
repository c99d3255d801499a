"""Windows of a series as the network reads them: ``(series, origin)`` pairs gathered into batches."""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.data.windows import gather_windows, seasonal_lags
from lstmkit.tasks.forecast.data import Features, Layout

__all__ = ["WindowBatches", "window_arrays", "series_pairs", "evenly"]


def window_arrays(
    features: Features, series_index: np.ndarray, origins: np.ndarray, layout: Layout, num_series: int
) -> dict[str, np.ndarray]:
    """``past (N, L, P)``, ``future (N, H, K)``, ``base (N, H)`` for the windows ``(series_index, origins)``.

    ``past`` = [scaled target, covariates, calendar, series one-hot]; ``future`` = [known covariates,
    calendar, the seasonal-naive value, series one-hot]. Origins may reach the end of the data (a
    forecast): ``future`` then needs ``features.inputs`` to extend ``horizon`` steps past it.
    """
    lookback, horizon = layout.lookback, layout.horizon
    past_target = gather_windows(features.target, origins, np.arange(-lookback, 0))  # (N, L, S)
    past_target = np.take_along_axis(past_target, series_index[:, None, None], axis=2)
    past_inputs = gather_windows(features.inputs, origins, np.arange(-lookback, 0))
    future_inputs = gather_windows(features.inputs[:, features.known_columns], origins, np.arange(horizon))
    lags = seasonal_lags(horizon, layout.base_period)
    base = features.target[origins[:, None] + np.arange(horizon)[None, :] - lags[None, :], series_index[:, None]]
    parts_past = [past_target, past_inputs]
    parts_future = [future_inputs, base[..., None]]
    if num_series > 1:
        onehot = np.eye(num_series)[series_index]
        parts_past.append(np.broadcast_to(onehot[:, None], (len(origins), lookback, num_series)))
        parts_future.append(np.broadcast_to(onehot[:, None], (len(origins), horizon, num_series)))
    return {
        "past": np.concatenate(parts_past, axis=2).astype(np.float32),
        "future": np.concatenate(parts_future, axis=2).astype(np.float32),
        "base": base.astype(np.float32),
    }


class WindowBatches:
    """Batches of windows ``(series, origin)`` gathered on demand from the feature arrays.

    Items are indices into ``pairs``; ``collate`` gathers a batch of them (a DataLoader's batch sampler
    picks the indices, so the runner can shard it between processes).
    """

    def __init__(self, features: Features, pairs: np.ndarray, layout: Layout, num_series: int) -> None:
        self.features, self.pairs, self.layout, self.num_series = features, pairs, layout, num_series

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> int:
        return index

    def collate(self, indices: list[int]) -> dict[str, torch.Tensor]:
        pairs = self.pairs[np.asarray(indices)]
        arrays = window_arrays(self.features, pairs[:, 0], pairs[:, 1], self.layout, self.num_series)
        target = self.features.target[pairs[:, 1][:, None] + np.arange(self.layout.horizon)[None, :], pairs[:, 0:1]]
        arrays["target"] = target.astype(np.float32)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def series_pairs(num_series: int, origins: np.ndarray) -> np.ndarray:
    """Every ``(series, origin)`` pair, series-major: ``(num_series * len(origins), 2)``."""
    return np.array([(s, o) for s in range(num_series) for o in origins], dtype=np.int64).reshape(-1, 2)


def evenly(pairs: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` of ``pairs``, evenly spaced."""
    if len(pairs) <= limit:
        return pairs
    return pairs[np.linspace(0, len(pairs) - 1, limit).round().astype(np.int64)]
