"""Forecasts drawn over their series: the backtest of a run and a forecast of the steps ahead."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lstmkit.plots.canvas import drawing, save, subplots

__all__ = ["ForecastWindow", "plot_forecasts"]


class ForecastWindow(NamedTuple):
    """One forecast: the point forecast at the time ``steps`` and, when given, an interval around it."""

    steps: np.ndarray
    point: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def plot_forecasts(
    timestamps: np.ndarray,
    values: np.ndarray,
    windows: Sequence[ForecastWindow],
    path: str | Path,
    *,
    title: str,
    value_label: str,
    observed_label: str = "actual",
    forecast_label: str = "model",
    interval_label: str = "interval",
    split: np.datetime64 | None = None,
) -> Path:
    """The observed ``values`` at ``timestamps`` (black) and every window's forecast (blue, with its
    interval shaded), as a PNG. ``split``, when given, is marked by a dashed line (the first origin of
    a backtest). ``value_label`` names the y axis (the series' column)."""
    with drawing([title, value_label]):
        figure, axes = subplots(figsize=(11, 4))
        axes.plot(timestamps, values, color="black", linewidth=1, label=observed_label)
        for i, window in enumerate(windows):
            first = i == 0  # one legend entry for all windows
            axes.plot(
                window.steps, window.point, color="tab:blue", linewidth=1, label=forecast_label if first else None
            )
            if window.lower is not None and window.upper is not None:
                axes.fill_between(
                    window.steps, window.lower, window.upper, color="tab:blue", alpha=0.2,
                    label=interval_label if first else None,
                )  # fmt: skip
        if split is not None:
            axes.axvline(split, color="grey", linestyle="--", linewidth=1)
        axes.set_xlabel("time")
        axes.set_ylabel(value_label)
        axes.set_title(title)
        axes.legend(loc="upper left")
        axes.grid(alpha=0.3)
        return save(figure, path)
