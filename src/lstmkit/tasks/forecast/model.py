"""A finished forecast run: forecasts after the end of a history, and the backtest beside the baselines.

Nothing here writes a file unless asked (``csv=``, ``plot=``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lstmkit.data.series import TimeSeries, future_timestamps, load_series_csv
from lstmkit.data.windows import backtest_origins
from lstmkit.errors import DataError
from lstmkit.heads.forecaster import ForecasterConfig, make_forecaster
from lstmkit.io import parsing
from lstmkit.runs import CONFIG, load_run_model, read_run_config
from lstmkit.tasks.forecast.backtest import score_backtest
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.data import NAME, Layout, Scalers, load_data, make_features
from lstmkit.tasks.forecast.dataset import series_pairs, window_arrays
from lstmkit.tasks.forecast.output import plot_backtest, plot_forecast, write_csv

__all__ = ["ForecastModel", "run_series"]


def _when(stamp: np.datetime64) -> str:
    return str(stamp)[:19].replace("T", " ")


def run_series(config: ForecastConfig, series_info: dict, data: Any = None, argument: str = "data") -> TimeSeries:
    """The series of a run (its ``config`` and the ``series`` its ``config.json`` keeps), or ``data`` (a
    data set name, a CSV path, a pandas DataFrame, or a :class:`TimeSeries` read before, such as the run's
    own series a server keeps) with the run's target and covariate columns; errors name ``argument``."""
    if data is not None and not isinstance(data, (str, Path, TimeSeries)) and not hasattr(data, "columns"):
        raise TypeError(
            f"{argument}: expected a pandas DataFrame, a CSV path or a data set name, got {type(data).__name__}"
        )
    info = series_info
    columns = {"targets": tuple(info["targets"]), "covariates": tuple(info["covariates"])}
    config = config if data is None else replace(config, **columns, known=tuple(info["known"]))
    try:
        series = data if isinstance(data, TimeSeries) else load_data(config, data)
    except DataError as exc:
        raise DataError(f"{argument}: {exc}" if data is not None else str(exc)) from None
    given = {"targets": series.target_names, "covariates": series.covariate_names}
    if given != columns:
        raise DataError(
            f"{argument}: expected targets {list(columns['targets'])} and covariates "
            f"{list(columns['covariates'])} (as the run was trained), got {list(given['targets'])} and "
            f"{list(given['covariates'])}"
        )
    return replace(series, known=tuple(info["known"]))


class ForecastModel:
    """A trained forecaster with what it needs to read a series: the run's config, columns, layout and
    scalers (``load(run_dir)`` opens a finished run)."""

    def __init__(
        self, config: ForecastConfig, series_info: dict, layout: Layout, scalers: Scalers, model: nn.Module,
        run_dir: Path | None = None,
    ) -> None:  # fmt: skip
        self.config, self.series_info, self.layout, self.scalers = config, series_info, layout, scalers
        self.model, self.run_dir = model.eval(), run_dir

    @classmethod
    def load(cls, run_dir: str | Path, device: str | torch.device = "cpu") -> ForecastModel:
        """The finished run in ``run_dir``, its network on ``device``."""
        run_dir = Path(run_dir)
        saved = read_run_config(run_dir, NAME)
        model = load_run_model(run_dir, lambda: make_forecaster(ForecasterConfig.from_dict(saved["model"])))
        with parsing(run_dir / CONFIG):
            config = ForecastConfig.from_dict(saved["config"])
            layout = Layout.from_dict(saved["layout"])
            series_info = saved["series"]
        return cls(config, series_info, layout, Scalers.read(run_dir), model.to(device), run_dir)

    @property
    def quantiles(self) -> tuple[float, ...]:
        """The quantiles the network forecasts, sorted (none for a point forecast)."""
        return self.config.output_quantiles

    @property
    def name(self) -> str:
        """Which model this is, for tables and plots: ``LSTM forecaster (direct)``."""
        return f"{self.config.cell.upper()} forecaster ({self.config.kind})"

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _columns(self) -> list[str]:
        return [f"q{q:g}" for q in self.quantiles] if self.quantiles else ["forecast"]

    def load_series(self, data: Any = None, argument: str = "data") -> TimeSeries:
        """The run's own series, or ``data`` with the run's columns (:func:`run_series`)."""
        return run_series(self.config, self.series_info, data, argument)

    @torch.no_grad()
    def predict_windows(self, series: TimeSeries, origins: np.ndarray) -> np.ndarray:
        """Forecasts ``(S, N, H, Q)`` on the original scale from each origin (quantiles sorted)."""
        features = make_features(series, self.layout, self.scalers)
        num_series = series.targets.shape[1]
        pairs = series_pairs(num_series, np.asarray(origins))
        arrays = window_arrays(features, pairs[:, 0], pairs[:, 1], self.layout, num_series)
        inputs = (torch.from_numpy(np.ascontiguousarray(arrays[k])).to(self.device) for k in ("past", "future", "base"))
        scaled = np.sort(self.model(*inputs).cpu().numpy().astype(np.float64), axis=-1)
        values = self.scalers.targets.inverse(scaled, columns=pairs[:, 0])
        return values.reshape(num_series, len(origins), self.layout.horizon, -1)

    def backtest(
        self, series: TimeSeries | None = None, baselines: bool = True, plot: str | Path | None = None
    ) -> dict[str, Any]:
        """Rolling-origin scores of the network and the baselines on the same folds (``metrics.json``
        shape); with ``plot``, also draws the forecasts at every origin into that PNG."""
        series = series if series is not None else self.load_series()
        layout = self.layout
        origins = backtest_origins(len(series), layout.horizon, layout.folds, layout.fold_stride)
        predictions = self.predict_windows(series, origins)
        scores = score_backtest(series, layout, origins, predictions, self.quantiles, self.name, baselines)
        if plot is not None:
            plot_backtest(series, layout, origins, predictions, self.quantiles, plot, self.name)
        return scores

    def evaluate(self, data: Any = None, plot: str | Path | None = None) -> dict[str, Any]:
        """The backtest of the saved model on the run's series, or ``data`` with the same columns; writes
        nothing unless ``plot`` names a PNG to draw the backtest into."""
        return self.backtest(self.load_series(data), baselines=self.config.baselines, plot=plot)

    def forecast(
        self, history: Any = None, future: Any = None, *, csv: str | Path | None = None,
        plot: str | Path | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Forecast the ``horizon`` steps after the end of ``history``.

        ``history``: a pandas DataFrame (or a CSV path, a data set name, a TimeSeries) with the run's date, target
        and covariate columns; ``None``: the run's own series. ``future``: a DataFrame or CSV path with
        the date column and the known covariates for those steps (required when the run has known
        covariates). Returns a list of rows ``{"timestamp", "series", "q0.1", ...}``; ``csv`` writes them
        as a CSV file and ``plot`` draws history, forecast and interval into a PNG.
        """
        series = self.load_series(history, "history")
        horizon, layout = self.layout.horizon, self.layout
        needed = max(layout.lookback, layout.base_period)
        if len(series) < needed:
            raise DataError(
                f"history: expected at least {needed} steps (the lookback {layout.lookback} and the season "
                f"{layout.base_period} the model reads), got {len(series)}"
            )
        stamps = future_timestamps(series.timestamps[-1], series.freq, horizon)
        extended = replace(
            series,
            timestamps=np.concatenate([series.timestamps, stamps]),
            targets=np.concatenate([series.targets, np.full((horizon, series.targets.shape[1]), np.nan)]),
            covariates=np.concatenate([series.covariates, self._future_covariates(series, stamps, future)]),
        )
        predictions = self.predict_windows(extended, np.array([len(series)]))
        rows = []
        for s, name in enumerate(series.target_names):
            for k in range(horizon):
                row = {"timestamp": _when(stamps[k]), "series": name}
                row.update({c: float(v) for c, v in zip(self._columns(), predictions[s, 0, k])})
                rows.append(row)
        if csv is not None:
            write_csv(rows, csv)
        if plot is not None:
            plot_forecast(series, layout, stamps, predictions[0, 0], self.quantiles, plot, self.name)
        return rows

    def _future_covariates(self, series: TimeSeries, stamps: np.ndarray, future: Any) -> np.ndarray:
        """Covariates for the forecast steps: known ones from ``future``, past-only ones as NaN (unused)."""
        values = np.full((len(stamps), series.covariates.shape[1]), np.nan)
        if not series.known and future is not None:  # a file given for nothing is a mistake, not a no-op
            raise DataError(f"future: this run has no known covariates to read from it, got {str(future)!r}")
        if not series.known:
            return values
        steps = f"the {len(stamps)} steps {_when(stamps[0])} .. {_when(stamps[-1])}"
        if future is None:
            raise DataError(
                f"future: known covariate {series.known[0]!r} has no values for {steps}; expected a DataFrame or "
                f"CSV with a date column and {', '.join(series.known)}, got None (--future CSV)"
            )
        if not hasattr(future, "columns") and not Path(future).is_file():
            raise DataError(f"future: expected a DataFrame or an existing CSV file, got {str(future)!r} (not found)")
        try:
            frame = load_series_csv(
                future, targets=[series.known[0]], date_column=self.config.date_column,
                covariates=list(series.known[1:]), freq=series.freq,
            )  # fmt: skip
        except DataError as exc:
            raise DataError(f"future: {exc}") from None
        given = dict(
            zip(frame.target_names + frame.covariate_names, np.concatenate([frame.targets, frame.covariates], 1).T)
        )
        position = {int(t): i for i, t in enumerate(frame.timestamps.astype(np.int64))}
        rows = [position.get(int(t)) for t in stamps.astype(np.int64)]
        if any(r is None for r in rows):
            missing = _when(stamps[rows.index(None)])
            raise DataError(
                f"future: expected rows for {steps}, got {len(frame)} rows from {_when(frame.timestamps[0])} to "
                f"{_when(frame.timestamps[-1])} (no row for {missing})"
            )
        for name in series.known:
            values[:, series.covariate_names.index(name)] = given[name][rows]
        return values
