"""What a forecast run writes when asked: forecast tables as CSV, and forecasts drawn over their series
(through :mod:`lstmkit.plots`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from lstmkit.data.series import TimeSeries
from lstmkit.io import atomic_write
from lstmkit.tasks.forecast.data import Layout
from lstmkit.tasks.forecast.objective import point_index

__all__ = ["write_csv", "plot_backtest", "plot_forecast"]


def write_csv(rows: list[dict], path: str | Path) -> Path:
    """``rows`` (dicts with the same keys) as a UTF-8 CSV with a header, written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    atomic_write(path, lambda tmp: tmp.write_text(buffer.getvalue(), encoding="utf-8"))
    return path


def _window(steps: np.ndarray, prediction: np.ndarray, quantiles: tuple[float, ...]):
    """The point forecast and, with two or more quantiles, the outer interval: ``prediction (steps, Q)``."""
    from lstmkit.plots import ForecastWindow

    point = prediction[:, point_index(quantiles)]
    if len(quantiles) > 1:
        return ForecastWindow(steps, point, prediction[:, 0], prediction[:, -1])
    return ForecastWindow(steps, point)


def _interval_label(quantiles: tuple[float, ...]) -> str:
    return f"{quantiles[0]:g}-{quantiles[-1]:g} interval" if quantiles else "interval"


def plot_backtest(
    series: TimeSeries,
    layout: Layout,
    origins: np.ndarray,
    predictions: np.ndarray,
    quantiles: tuple[float, ...],
    path: str | Path,
    model_name: str,
) -> Path:
    """The test part of the first series with the forecasts ``predictions (S, N, H, Q)`` at every origin."""
    from lstmkit.plots import plot_forecasts

    start = max(0, int(origins[0]) - 3 * layout.horizon)
    windows = [
        _window(series.timestamps[o : o + layout.horizon], predictions[0, i], quantiles) for i, o in enumerate(origins)
    ]
    return plot_forecasts(
        series.timestamps[start:],
        series.targets[start:, 0],
        windows,
        path,
        title=f"{series.name}: backtest, {len(origins)} origins, horizon {layout.horizon}",
        value_label=series.target_names[0],
        forecast_label=model_name,
        interval_label=_interval_label(quantiles),
        split=series.timestamps[origins[0]],
    )


def plot_forecast(
    series: TimeSeries,
    layout: Layout,
    stamps: np.ndarray,
    prediction: np.ndarray,
    quantiles: tuple[float, ...],
    path: str | Path,
    model_name: str,
) -> Path:
    """The end of the first series and its forecast ``prediction (H, Q)`` at the future ``stamps``."""
    from lstmkit.plots import plot_forecasts

    history = min(len(series), 4 * layout.horizon + layout.lookback)
    return plot_forecasts(
        series.timestamps[-history:],
        series.targets[-history:, 0],
        [_window(stamps, prediction, quantiles)],
        path,
        title=f"{series.name} ({series.target_names[0]}): forecast of {len(stamps)} steps",
        value_label=series.target_names[0],
        observed_label="history",
        forecast_label=f"forecast ({model_name})",
        interval_label=_interval_label(quantiles),
    )
