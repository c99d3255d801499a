"""The long-horizon forecasting (LTSF) protocol as pure functions: chronological split, scaling with
training statistics, and every forecast origin of each part.

The convention is the one of the usual LTSF code (Informer, Autoformer, DLinear, PatchTST, SegRNN):

- ETT files are cut at 12 / 4 / 4 months of 30 days (hourly: 8,640 / 2,880 / 2,880 rows; 15-minute:
  four times as many); any other series at 70 % / 10 % / 20 % of its rows (train and test rounded
  down, validation the rest). Rows past the last test boundary are not used. Which split a series
  takes is an explicit choice (:func:`choose_split`: ``ett``, ``ratio``, or ``auto`` by frequency and size).
- The validation and test parts *start* ``lookback`` rows before their boundary, so their first
  forecast target is the first row of the part: every row of a part is a target, and a window's
  inputs may reach back into the previous part (they are past values, known at the origin).
- Every column is z-scored with the mean and standard deviation of the training rows only.
- Every origin is scored (stride 1): an origin ``o`` reads ``values[o - lookback:o]`` and predicts
  ``values[o:o + horizon]``; a part ``[start, stop)`` holds the origins ``start + lookback ..
  stop - horizon``, each once.

Metrics are MSE and MAE on the scaled values, averaged over origins, steps and columns
(:func:`lstmkit.tasks.forecast.ltsf.score_ltsf`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.data.windows import Scaler

__all__ = [
    "PARTS", "SPLITS", "LtsfSplit", "ltsf_split", "ett_rows_per_month", "choose_split", "describe_split", "LtsfWindows",
]  # fmt: skip

PARTS = ("train", "val", "test")
SPLITS = ("auto", "ett", "ratio")
DAY_SECONDS = 86400.0
ETT_MONTHS = (12, 4, 4)
RATIOS = (0.7, 0.1, 0.2)


@dataclass(frozen=True)
class LtsfSplit:
    """Row ranges ``[start, stop)`` of the three parts of a series (``starts``/``stops`` in
    :data:`PARTS` order); the validation and test starts lie ``lookback`` rows before their boundary."""

    starts: tuple[int, int, int]
    stops: tuple[int, int, int]
    lookback: int

    def rows(self, part: str) -> slice:
        index = _part_index(part)
        return slice(self.starts[index], self.stops[index])

    def origins(self, part: str, horizon: int) -> np.ndarray:
        """Every origin of ``part`` whose lookback and whole target lie in its rows, in time order."""
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        index = _part_index(part)
        return np.arange(self.starts[index] + self.lookback, self.stops[index] - horizon + 1)


def _part_index(part: str) -> int:
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    return PARTS.index(part)


def ett_rows_per_month(freq: str) -> int:
    """Rows in a 30-day month of a series at ``freq`` (hourly: 720; 15-minute: 2,880), for the ETT split."""
    from lstmkit.data.series import step_seconds

    seconds = step_seconds(freq)
    if seconds > DAY_SECONDS:
        raise ValueError(f"split: the ETT split counts 30-day months of sub-daily rows, got a series at {freq!r}")
    return round(30 * DAY_SECONDS / seconds)


def choose_split(split: str, freq: str, length: int) -> int | None:
    """The rows per month of the ETT split (``split="ett"``), or ``None`` for the 70/10/20 % split
    (``"ratio"``). ``"auto"`` takes the ETT split for hourly or 15-minute series of ETT size (20 to 25
    months of rows: the ETT files hold 24.2), the ratio split for anything else."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "ratio":
        return None
    if split == "ett":
        return ett_rows_per_month(freq)
    from lstmkit.data.series import step_seconds

    if step_seconds(freq) not in (3600.0, 900.0):
        return None
    rows = ett_rows_per_month(freq)
    return rows if sum(ETT_MONTHS) * rows <= length <= 25 * rows else None


def describe_split(rows_per_month: int | None) -> str:
    """``"ett (12/4/4 months of 720 rows)"`` or ``"ratio (70/10/20 %)"``, for tables and logs."""
    if rows_per_month is None:
        return "ratio (" + "/".join(f"{round(100 * r)}" for r in RATIOS) + " %)"
    return "ett (" + "/".join(map(str, ETT_MONTHS)) + f" months of {rows_per_month} rows)"


def ltsf_split(length: int, lookback: int, rows_per_month: int | None = None) -> LtsfSplit:
    """The split of a series of ``length`` rows: 12/4/4 months of ``rows_per_month`` rows when given
    (ETT), else 70/10/20 %. Raises when a part is too short to hold one lookback."""
    if lookback < 1:
        raise ValueError(f"lookback must be at least 1, got {lookback}")
    if rows_per_month is not None:
        train, val, test = (months * rows_per_month for months in ETT_MONTHS)
        if train + val + test > length:
            raise ValueError(
                f"length: an ETT split of 12/4/4 months needs {train + val + test} rows, the series has {length}"
            )
    else:
        train, test = int(length * RATIOS[0]), int(length * RATIOS[2])
        val = length - train - test
    boundaries = (0, train, train + val, train + val + test)
    if min(train, val, test) <= lookback:
        raise ValueError(
            f"lookback must be shorter than every part ({train}/{val}/{test} rows of {length}), got {lookback}"
        )
    starts = (0, boundaries[1] - lookback, boundaries[2] - lookback)
    return LtsfSplit(starts, boundaries[1:], lookback)


class LtsfWindows:
    """The scaled series ``(T, C)`` of a split, and its windows as strided views (no copy of every window).

    ``scaler`` is fitted on the training rows only, so no value of the validation or test rows reaches
    any statistic.
    """

    def __init__(self, values: np.ndarray, split: LtsfSplit) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"values must be (T, C), got shape {values.shape}")
        if values.shape[0] < split.stops[-1]:
            raise ValueError(f"values: the split needs {split.stops[-1]} rows, got {values.shape[0]}")
        self.split = split
        self.scaler = Scaler.fit(values[split.rows("train")])
        self.scaled = self.scaler.transform(values).astype(np.float32)

    def batch(self, origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """``(past (N, L, C), target (N, H, C))`` of the scaled values at ``origins`` (copies of the N
        windows only)."""
        lookback = self.split.lookback
        # (T - L - H + 1, C, L + H) view: row r is the window whose origin is r + L
        view = np.lib.stride_tricks.sliding_window_view(self.scaled, lookback + horizon, axis=0)
        windows = view[np.asarray(origins) - lookback].transpose(0, 2, 1)
        return np.ascontiguousarray(windows[:, :lookback]), np.ascontiguousarray(windows[:, lookback:])
