"""A forecast run on the LTSF protocol (``ForecastConfig(protocol="ltsf")``): what the forecast task
brings to the shared lifecycle for it, and the finished run (:class:`LtsfModel`).

The series' columns (every column with ``features="M"``, the targets alone with ``"S"``) are split and
z-scored by :mod:`lstmkit.data.ltsf`; the network (the segment recurrent model, or a direct or seq2seq
forecaster read window by window) trains on the shared engine on every training origin (at most
``max_windows`` drawn per epoch) and is scored on every test origin beside repeat-last, seasonal naive,
the ridge linear map and, with ``baselines``, DLinear, all on the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler

from lstmkit.data.ltsf import LtsfWindows, choose_split, describe_split, ltsf_split
from lstmkit.data.series import TimeSeries, future_timestamps
from lstmkit.data.windows import Scaler
from lstmkit.errors import DataError
from lstmkit.heads.forecaster import ForecasterConfig, WindowForecaster
from lstmkit.heads.segment_forecaster import SegmentForecaster, SegmentForecasterConfig
from lstmkit.io import parsing
from lstmkit.runs import CONFIG, load_run_model, read_run_config
from lstmkit.tasks.forecast.config import LTSF_HORIZON, LTSF_LOOKBACK, ForecastConfig
from lstmkit.tasks.forecast.data import NAME, SCALERS, Scalers, load_data
from lstmkit.tasks.forecast.ltsf import (
    BASELINES,
    DLINEAR_TRAINING,
    LtsfObjective,
    LtsfOrigins,
    baseline_name,
    fit_baseline,
    model_forecaster,
    score_ltsf,
)
from lstmkit.tasks.forecast.model import run_series
from lstmkit.tasks.forecast.objective import point_index
from lstmkit.tasks.forecast.output import write_csv
from lstmkit.tasks.runner import Built

__all__ = [
    "LtsfData", "LtsfModel", "prepare_ltsf", "build_ltsf", "score_ltsf_run", "make_ltsf_network", "describe_settings",
]  # fmt: skip

CHEAP_BASELINES = ("repeat_last", "seasonal_naive", "linear")  # always scored; DLinear (trained) with baselines


@dataclass
class LtsfData:
    """A series read for the protocol: its ``columns`` (``features`` M or S) as ``windows`` (split and
    scaled), the sizes, the seasonal naive's ``period`` and the split's description."""

    series: TimeSeries
    features: str
    columns: tuple[str, ...]
    windows: LtsfWindows
    horizon: int
    period: int
    split: str

    @property
    def lookback(self) -> int:
        return self.windows.split.lookback

    def to_dict(self) -> dict[str, Any]:
        """What ``config.json`` keeps (``ltsf``) and ``metrics.json`` reports of the protocol."""
        split = self.windows.split
        return {
            "lookback": self.lookback, "horizon": self.horizon, "features": self.features,
            "columns": list(self.columns), "split": self.split,
            "starts": list(split.starts), "stops": list(split.stops), "period": self.period,
        }  # fmt: skip


def ltsf_columns(series: TimeSeries, features: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(values (T, C), names)``: targets then covariates (``"M"``), or the targets alone (``"S"``)."""
    if features == "S":
        return series.targets, series.target_names
    return np.concatenate([series.targets, series.covariates], axis=1), series.target_names + series.covariate_names


def prepare_ltsf(config: ForecastConfig, series: TimeSeries | None = None) -> LtsfData:
    """The run's series (or ``series``) on the protocol; a size the series cannot hold is a :class:`DataError`."""
    series = series if series is not None else load_data(config)
    features = config.features
    values, columns = ltsf_columns(series, features)
    lookback, horizon = config.lookback or LTSF_LOOKBACK, config.horizon or LTSF_HORIZON
    try:
        rows_per_month = choose_split(config.split, series.freq, len(series))
        split = ltsf_split(len(values), lookback, rows_per_month)
    except ValueError as exc:
        raise DataError(f"{series.name}: {exc}") from None
    parts = [split.stops[i] - split.starts[i] for i in range(3)]
    if min(parts) < lookback + horizon:
        raise DataError(
            f"{series.name}: the {describe_split(rows_per_month)} split leaves parts of {parts} rows (with their "
            f"lookback), fewer than lookback + horizon = {lookback} + {horizon}; use a shorter --horizon or --lookback"
        )
    windows = LtsfWindows(values, split)
    return LtsfData(series, features, columns, windows, horizon, _period(config, series, lookback),
                    describe_split(rows_per_month))  # fmt: skip


def _period(config: ForecastConfig, series: TimeSeries, lookback: int) -> int:
    """The seasonal naive's period: ``config.period``, else the series' first seasonal period the lookback holds."""
    if config.period is not None:
        if config.period > lookback:
            raise DataError(
                f"--period must be at most the lookback {lookback} (a season it can repeat), got {config.period}"
            )
        return config.period
    return next((p for p in series.seasonal_periods if p <= lookback), 1)


def network_spec(config: ForecastConfig, data: LtsfData) -> dict[str, Any]:
    """``{"class": "segment" | "window", "config": {...}}``: the network ``config.json`` describes."""
    if config.kind == "segment":
        model = SegmentForecasterConfig(
            lookback=data.lookback, horizon=data.horizon, channels=len(data.columns),
            segment_length=config.segment_length, hidden_size=config.hidden_size, cell=config.cell,
            dropout=config.dropout, quantiles=config.output_quantiles,
        )  # fmt: skip
        return {"class": "segment", "config": model.to_dict()}
    model = ForecasterConfig(
        past_size=1, future_size=0, horizon=data.horizon, kind=config.kind, cell=config.cell,
        hidden_size=config.hidden_size, num_layers=config.num_layers, dropout=config.dropout,
        quantiles=config.output_quantiles, residual=False,
    )  # fmt: skip
    return {"class": "window", "config": model.to_dict()}


def make_ltsf_network(spec: dict[str, Any]) -> nn.Module:
    """The network of a :func:`network_spec`."""
    if spec["class"] == "segment":
        return SegmentForecaster(SegmentForecasterConfig.from_dict(spec["config"]))
    return WindowForecaster(ForecasterConfig.from_dict(spec["config"]))


def network_name(config: ForecastConfig) -> str:
    """``segment GRU`` or ``LSTM forecaster (direct)``, for tables."""
    if config.kind == "segment":
        return f"segment {config.cell.upper()} (w={config.segment_length})"
    return f"{config.cell.upper()} forecaster ({config.kind})"


def describe_settings(config: ForecastConfig) -> str:
    """The network and training settings of an ltsf run in one line, for the screen."""
    train = config.train
    windows = f"at most {config.max_windows} training windows" if config.max_windows else "every training window"
    schedule = f"x{train.lr_decay:g} after each epoch" if train.schedule == "exponential" else train.schedule
    return (
        f"{network_name(config)}, hidden {config.hidden_size}, dropout {config.dropout:g}, {windows} per epoch; "
        f"{train.optimizer} lr {train.lr:g} ({schedule}), batch {train.batch_size}, weight decay "
        f"{train.weight_decay:g}, clip norm {train.clip_norm or 'off'}, epochs at most {train.epochs}, "
        f"patience {train.patience or 'off'}"
    )


def build_ltsf(config: ForecastConfig, data: LtsfData, payload: dict[str, Any]) -> Built:
    """The network, its objective and its loaders on the protocol's training and validation origins."""
    horizon, split = data.horizon, data.windows.split
    train = LtsfOrigins(data.windows, split.origins("train", horizon), horizon)
    val = LtsfOrigins(data.windows, split.origins("val", horizon), horizon)
    generator = torch.Generator().manual_seed(config.train.seed)
    sampler = RandomSampler(train, num_samples=config.windows_per_epoch(len(train)), generator=generator)
    spec = network_spec(config, data)
    scalers = Scalers(data.windows.scaler, None)
    return Built(
        model=make_ltsf_network(spec),
        objective=LtsfObjective(config.loss, config.output_quantiles),
        train_loader=DataLoader(train, batch_size=config.train.batch_size, sampler=sampler, collate_fn=train.collate),
        val_loader=DataLoader(val, batch_size=256, collate_fn=val.collate),
        payload={**payload, "ltsf": data.to_dict(), "model": spec},
        files={SCALERS: scalers.write},
    )


def score_ltsf_run(config: ForecastConfig, data: LtsfData, model: nn.Module) -> dict[str, Any]:
    """``metrics.json``'s content: the network's test MSE/MAE over every test origin, the baselines' on
    the same origins (each named for its model), and the protocol's sizes."""
    horizon, windows = data.horizon, data.windows
    quantiles = config.output_quantiles
    point = point_index(quantiles)
    scores = {
        "name": network_name(config),
        **score_ltsf(model_forecaster(model), windows, "test", horizon, point=point),
    }
    if quantiles:
        scores["interval"] = [quantiles[0], quantiles[-1]]
    names = BASELINES if config.baselines else CHEAP_BASELINES
    baselines = {}
    training = replace(DLINEAR_TRAINING, seed=config.train.seed)
    for name in names:
        forecaster = fit_baseline(name, windows, horizon, data.period, training)
        baselines[name] = {"name": baseline_name(name, data.period), **score_ltsf(forecaster, windows, "test", horizon)}
    split = windows.split
    return {
        "protocol": "ltsf",
        "data": {
            "name": data.series.name, "length": len(data.series), "columns": list(data.columns),
            "features": data.features, "split": data.split,
            # rows of each part, the lookback its first window reads from the part before not counted
            "train": split.stops[0], "val": split.stops[1] - split.stops[0], "test": split.stops[2] - split.stops[1],
            "train_windows": len(split.origins("train", horizon)), "val_windows": len(split.origins("val", horizon)),
            "test_origins": scores["origins"],
        },
        "model": scores,
        "baselines": baselines,
        "ltsf": data.to_dict(),
    }  # fmt: skip


class LtsfModel:
    """A finished forecast run on the LTSF protocol: ``evaluate`` scores the protocol again, ``forecast``
    forecasts the ``horizon`` steps after the data for every column."""

    def __init__(self, config: ForecastConfig, series_info: dict, ltsf: dict, scaler: Scaler, model: nn.Module) -> None:
        self.config, self.series_info, self.ltsf, self.scaler = config, series_info, ltsf, scaler
        self.model = model.eval()

    @classmethod
    def load(cls, run_dir: str | Path, device: str | torch.device = "cpu") -> LtsfModel:
        run_dir = Path(run_dir)
        saved = read_run_config(run_dir, NAME)
        with parsing(run_dir / CONFIG):
            config = ForecastConfig.from_dict(saved["config"])
            series_info, ltsf, spec = saved["series"], saved["ltsf"], saved["model"]
        model = load_run_model(run_dir, lambda: make_ltsf_network(spec))
        return cls(config, series_info, ltsf, Scalers.read(run_dir).targets, model.to(device))

    @property
    def name(self) -> str:
        return network_name(self.config)

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.config.output_quantiles

    def load_series(self, data: Any = None, argument: str = "data") -> TimeSeries:
        """The run's own series, or ``data`` with the run's columns (:func:`run_series`)."""
        return run_series(self.config, self.series_info, data, argument)

    def evaluate(self, data: Any = None, plot: str | Path | None = None) -> dict[str, Any]:
        """The protocol scored again on the run's series, or ``data`` with the same columns (split and
        scaled from that data, as the protocol defines); writes nothing."""
        if plot is not None:
            raise DataError(f"plot: an ltsf run's scores are a table, not drawn; drop --plot, got {str(plot)!r}")
        series = self.load_series(data)
        prepared = prepare_ltsf(self.config, series)
        return score_ltsf_run(self.config, prepared, self.model)

    @torch.no_grad()
    def forecast(
        self, history: Any = None, future: Any = None, *, csv: str | Path | None = None,
        plot: str | Path | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """The ``horizon`` steps after the end of ``history`` (the run's series by default, or a DataFrame,
        CSV path or data set with its columns), for every column the run forecasts: rows ``{"timestamp",
        "series", "forecast"}`` (or one key per quantile, ``q0.1``...); ``csv`` also writes them."""
        if future is not None:
            raise DataError(f"future: an ltsf run reads the past alone (no known covariates), got {str(future)!r}")
        if plot is not None:
            raise DataError(f"plot: an ltsf run's forecast is not drawn; drop --plot, got {str(plot)!r}")
        series = self.load_series(history, "history")
        values, columns = ltsf_columns(series, self.config.features)
        lookback, horizon = self.ltsf["lookback"], self.ltsf["horizon"]
        if len(values) < lookback:
            raise DataError(f"history: expected at least the lookback of {lookback} steps, got {len(values)}")
        past = torch.from_numpy(self.scaler.transform(values[-lookback:]).astype(np.float32)[None])
        output = self.model(past.to(next(self.model.parameters()).device)).cpu().numpy()[0].astype(np.float64)
        quantiles = self.quantiles
        output = np.sort(output, axis=-1) if quantiles else output[..., None]  # (H, C, Q)
        unscaled = np.stack([self.scaler.inverse(output[..., q]) for q in range(output.shape[-1])], axis=-1)
        keys = [f"q{q:g}" for q in quantiles] or ["forecast"]
        stamps = future_timestamps(series.timestamps[-1], series.freq, horizon)
        rows = [
            {"timestamp": str(stamps[k])[:19].replace("T", " "), "series": name,
             **{key: float(v) for key, v in zip(keys, unscaled[k, c])}}
            for c, name in enumerate(columns) for k in range(horizon)
        ]  # fmt: skip
        if csv is not None:
            write_csv(rows, csv)
        return rows
