"""A forecast run's data: the series a config names, its split and sizes (:class:`Layout`), the scalers
fitted before the test part, and the scaled feature arrays the network reads."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.config_json import from_json
from lstmkit.data.registry import find_dataset
from lstmkit.data.series import TimeSeries, calendar_cycles, calendar_features, load_series_csv
from lstmkit.data.windows import Scaler, backtest_origins, window_origins
from lstmkit.errors import DataError
from lstmkit.io import load_json, write_json
from lstmkit.tasks.forecast.config import ForecastConfig

__all__ = [
    "NAME", "SCALERS", "Layout", "Features", "Scalers", "load_data", "resolve_layout", "make_features",
    "default_backtest",
]  # fmt: skip

NAME = "forecast"
BACKTEST_SHARE = 0.2  # the default test window: the last fifth of the series
# The default stride widens so that no more origins than this are scored: Holt-Winters is refitted at each.
MAX_DEFAULT_ORIGINS = 100
SCALERS = "scalers.json"
OLD_SCALERS = "vocab.json"  # what runs written before scalers.json was named so call it


def load_data(config: ForecastConfig, source: Any = None) -> TimeSeries:
    """The series ``config`` names, or ``source`` (a data set name, a CSV path or a pandas DataFrame) read
    with the run's columns, checked."""
    source = config.data if source is None else source
    if isinstance(source, (str, Path)):  # a data set name or a CSV path (else a DataFrame)
        source = find_dataset(str(source), NAME, ("a CSV file", "a forecast data set"))
        if not isinstance(source, Path):
            _check_csv_only_options(config, source.name)
            return source.loader().select(config.targets, config.covariates)
    if not config.targets:
        raise DataError(f"{getattr(source, 'name', 'frame')}: name the target column(s) with --target")
    series = load_series_csv(
        source, config.targets, config.date_column, config.covariates, config.known, config.freq, config.fill
    )
    periods = series.seasonal_periods
    return replace(
        series, horizon=periods[0], lookback=2 * periods[0], folds=5, step=max(1, periods[0] // 2)
    )  # fmt: skip


# Options that say how to read a CSV; a registered data set knows its own dates, frequency and columns.
_CSV_ONLY = {"date_column": "--date-column", "freq": "--freq", "known": "--known", "fill": "--fill"}


def _check_csv_only_options(config: ForecastConfig, name: str) -> None:
    """Refuse a CSV reading option given with a registered data set (it would be ignored in silence)."""
    for field, option in _CSV_ONLY.items():
        value = getattr(config, field)
        if value:
            raise DataError(f"{option} applies to a CSV file; the data set {name!r} has its own, got {value!r}")


@dataclass(frozen=True)
class Layout:
    """The resolved sizes of a run (config values, or the data set's defaults) and its split points."""

    horizon: int
    lookback: int
    folds: int
    fold_stride: int
    period: int
    base_period: int
    mase_period: int
    val_start: int
    test_start: int
    calendar: tuple[float, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        """The layout a run saved (older runs call ``fold_stride`` ``step``)."""
        values = {k: v for k, v in data.items() if k != "step"}
        values.setdefault("fold_stride", data.get("step"))
        return from_json(cls, values)


def default_backtest(
    length: int, horizon: int, folds: int | None, stride: int | None, least_folds: int, least_stride: int
) -> tuple[int, int]:
    """``(folds, stride)`` of a backtest over the end of a series of ``length`` steps: ``folds`` and
    ``stride`` as given; ``None`` fills the last :data:`BACKTEST_SHARE` of the series with origins
    ``stride`` apart (at least ``least_folds``, as many as a data set's own default), ``stride`` being
    ``least_stride`` (the data set's) widened so that at most :data:`MAX_DEFAULT_ORIGINS` fill it."""
    room = max(0, int(length * BACKTEST_SHARE) - horizon)  # origin offsets the window holds, after the first
    if stride is None:
        stride = least_stride if folds is not None else max(least_stride, math.ceil((room + 1) / MAX_DEFAULT_ORIGINS))
    if folds is None:
        folds = max(least_folds, room // stride + 1)
    return folds, stride


def resolve_layout(config: ForecastConfig, series: TimeSeries) -> Layout:
    """Sizes, split points, seasonal periods and calendar cycles, all chosen before the first test origin."""
    from lstmkit.baselines.series import choose_period

    horizon = config.horizon or series.horizon
    lookback = config.lookback or series.lookback
    length = len(series)
    folds, stride = default_backtest(length, horizon, config.folds, config.fold_stride, series.folds, series.step)
    if length < lookback + horizon:
        raise DataError(
            f"{series.name}: the series has {length} steps, fewer than lookback + horizon = {lookback} + {horizon}"
        )
    test_start = int(backtest_origins(length, horizon, folds, stride)[0])
    val_start = test_start - max(horizon, (length - test_start) // 2)
    candidates = (config.period,) if config.period else series.seasonal_periods
    longest = max(candidates + (1,))
    if window_origins(0, val_start, lookback, horizon, longest).size == 0 or val_start < lookback:
        raise DataError(
            f"{series.name}: {length} steps leave no training window before the validation and test parts "
            f"(lookback {lookback}, horizon {horizon}, {folds} folds {stride} apart); use fewer --folds or a "
            "shorter --lookback"
        )
    val_origins = np.arange(val_start, test_start - horizon + 1)
    history = series.targets[:test_start, 0]
    period = choose_period(history, candidates, horizon, val_origins)
    # The model's residual base may also be the plain naive forecast (noisy series without a season).
    base_period = choose_period(history, tuple(dict.fromkeys((period, 1))), horizon, val_origins)
    mase_period = series.seasonal_periods[0]
    if mase_period >= test_start:
        mase_period = 1
    span = float((series.timestamps[test_start - 1] - series.timestamps[0]) / np.timedelta64(1, "s"))
    calendar = calendar_cycles(series.freq, span)
    return Layout(horizon, lookback, folds, stride, period, base_period, mase_period, val_start, test_start, calendar)


@dataclass(frozen=True)
class Scalers:
    """Standardisation of the targets (per series) and of the covariates, fitted before the test part."""

    targets: Scaler
    covariates: Scaler | None

    @classmethod
    def fit(cls, series: TimeSeries, layout: Layout, log: bool) -> Scalers:
        """Scalers from the steps before the first test origin only."""
        train_part = slice(0, layout.test_start)
        try:
            targets = Scaler.fit(series.targets[train_part], log=log)
        except ValueError as exc:
            raise DataError(f"{series.name}: {exc} (drop --log)") from None
        covariates = Scaler.fit(series.covariates[train_part]) if series.covariates.shape[1] else None
        return cls(targets, covariates)

    def write(self, path: Path) -> Path:
        covariates = self.covariates.to_dict() if self.covariates else None
        return write_json(path, {"targets": self.targets.to_dict(), "covariates": covariates})

    @classmethod
    def read(cls, run_dir: Path) -> Scalers:
        """The run's ``scalers.json`` (``vocab.json`` in runs written before it was named so)."""
        path = run_dir / SCALERS
        if not path.is_file() and (run_dir / OLD_SCALERS).is_file():
            path = run_dir / OLD_SCALERS
        return load_json(path, cls.from_dict)

    @classmethod
    def from_dict(cls, saved: dict) -> Scalers:
        covariates = Scaler.from_dict(saved["covariates"]) if saved["covariates"] else None
        return cls(Scaler.from_dict(saved["targets"]), covariates)


@dataclass(frozen=True)
class Features:
    """Scaled arrays a forecaster reads, built from a series and the scalers of the run.

    ``target (T, S)`` scaled; ``inputs (T, C + F)`` covariates (scaled) then calendar features;
    ``known_columns`` indexes the columns of ``inputs`` that are known ahead.
    """

    target: np.ndarray
    inputs: np.ndarray
    known_columns: np.ndarray


def make_features(series: TimeSeries, layout: Layout, scalers: Scalers) -> Features:
    """The :class:`Features` of ``series``, scaled with the run's ``scalers``."""
    covariates = scalers.covariates.transform(series.covariates) if scalers.covariates else series.covariates
    calendar = calendar_features(series.timestamps, layout.calendar)
    width = series.covariates.shape[1]
    known_columns = [series.covariate_names.index(c) for c in series.known] + list(
        range(width, width + calendar.shape[1])
    )
    return Features(
        scalers.targets.transform(series.targets),
        np.concatenate([covariates, calendar], axis=1),
        np.asarray(known_columns, dtype=np.int64),
    )
