"""Time-series forecasting end to end: series -> scaling and windows -> LSTM/GRU forecaster -> rolling-origin
backtest beside naive, seasonal naive and Holt-Winters -> a run directory -> forecasts.

    from lstmkit.tasks import forecast
    result = forecast.train(forecast.ForecastConfig(data="airpassengers"), "runs/air")
    model = forecast.load("runs/air")
    table = model.forecast()            # the next `horizon` steps after the data, with quantiles
    scores = model.evaluate()           # the backtest table again, from the saved model

The split: the series' last part (``folds`` rolling origins ``step`` apart, the last forecast ending
at the last value) is the test part; just before it lies a validation stretch (early stopping); the
network trains on windows whose targets end before that. Scalers, the seasonal period of the seasonal
naive, and the Holt-Winters form are all chosen on the data before the first test origin. The
network is trained once and applied at every origin (no refit); the Holt-Winters baseline keeps its
form but is refitted on the history up to each origin.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

from lstmkit.data import DATASETS, list_datasets
from lstmkit.data.series import (
    TimeSeries,
    calendar_cycles,
    calendar_features,
    future_timestamps,
    load_series_csv,
)
from lstmkit.data.windows import (
    Scaler,
    backtest_origins,
    forecast_metrics,
    gather_windows,
    interval_coverage,
    mase_scale,
    seasonal_lags,
    window_origins,
)
from lstmkit.errors import DataError, RunDirectoryError
from lstmkit.heads.forecaster import ForecasterConfig, make_forecaster, pinball_loss
from lstmkit.io import atomic_write, load_weights, read_json, save_weights, write_json
from lstmkit.runs import VOCAB, WEIGHTS, read_run_config, write_metrics, write_run_config
from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["ForecastConfig", "ForecastResult", "ForecastModel", "train", "load", "load_data", "LOSSES"]

TASK = "forecast"
LOSSES = ("quantile", "mse", "mae")


@dataclass(frozen=True)
class ForecastConfig(TaskConfig):
    """Everything a forecast run needs; saved as ``config.json`` in the run directory.

    ``data``: a registered name (``lstmkit data list``) or a CSV path. ``targets``/``covariates``
    ``None`` take the data set's (for a CSV: ``targets`` is required, covariates default to every
    other numeric column); ``known`` names the covariates whose future values are known.
    ``horizon``, ``lookback``, ``folds``, ``step`` ``None`` take the data set's defaults (for a CSV:
    two seasons of lookback, one season of horizon). ``period`` ``None`` chooses among the data set's
    seasonal periods on the validation stretch. ``max_windows``: training windows drawn per epoch.
    """

    data: str = "airpassengers"
    targets: tuple[str, ...] | None = None
    covariates: tuple[str, ...] | None = None
    known: tuple[str, ...] = ()
    date_column: str | None = None
    freq: str | None = None
    fill: bool = False
    horizon: int | None = None
    lookback: int | None = None
    folds: int | None = None
    step: int | None = None
    period: int | None = None
    kind: str = "direct"
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.1
    loss: str = "quantile"
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    residual: bool = True
    log: bool = False
    max_windows: int = 2048
    baselines: bool = True
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=40, batch_size=64, lr=3e-3, weight_decay=1e-4, patience=8, monitor="loss", monitor_mode="min"
        )
    )

    def __post_init__(self) -> None:
        for name in ("targets", "covariates", "known", "quantiles"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.loss not in LOSSES:
            raise DataError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.loss == "quantile" and not self.quantiles:
            raise DataError("the quantile loss needs --quantiles (e.g. 0.1,0.5,0.9)")
        if any(not 0 < q < 1 for q in self.quantiles):
            raise DataError(f"quantiles must lie strictly between 0 and 1, got {list(self.quantiles)}")
        for name in ("horizon", "lookback", "folds", "step", "period"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise DataError(f"{name} must be at least 1, got {value}")

    @property
    def output_quantiles(self) -> tuple[float, ...]:
        return tuple(sorted(set(self.quantiles))) if self.loss == "quantile" else ()


@dataclass
class ForecastResult:
    run_dir: Path
    metrics: dict[str, Any]


# -- data -------------------------------------------------------------------------------------------


def load_data(config: ForecastConfig, path: str | None = None) -> TimeSeries:
    """The series ``config`` names (or the CSV at ``path`` read with the run's columns), checked."""
    source = path or config.data
    if source in DATASETS:
        info = DATASETS[source]
        if info.task != TASK:
            raise DataError(f"data set {source!r} is for the {info.task!r} task, not forecast")
        return info.loader().select(config.targets, config.covariates)
    file = Path(source)
    if not file.is_file():
        known = ", ".join(info.name for info in list_datasets(TASK))
        raise DataError(f"--data {source!r} is neither a CSV file nor a forecast data set ({known})")
    if not config.targets:
        raise DataError(f"{file.name}: name the target column(s) with --target")
    series = load_series_csv(
        file, config.targets, config.date_column, config.covariates, config.known, config.freq, config.fill
    )
    periods = series.seasonal_periods
    return replace(
        series, horizon=periods[0], lookback=2 * periods[0], folds=5, step=max(1, periods[0] // 2)
    )  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """The resolved sizes of a run (config values, or the data set's defaults) and its split points."""

    horizon: int
    lookback: int
    folds: int
    step: int
    period: int
    base_period: int
    mase_period: int
    val_start: int
    test_start: int
    calendar: tuple[float, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def _layout(config: ForecastConfig, series: TimeSeries) -> Layout:
    horizon = config.horizon or series.horizon
    lookback = config.lookback or series.lookback
    folds = config.folds or series.folds
    step = config.step or series.step
    length = len(series)
    if length < lookback + horizon:
        raise DataError(
            f"{series.name}: the series has {length} steps, fewer than lookback + horizon = {lookback} + {horizon}"
        )
    test_start = int(backtest_origins(length, horizon, folds, step)[0])
    val_start = test_start - max(horizon, (length - test_start) // 2)
    candidates = (config.period,) if config.period else series.seasonal_periods
    longest = max(candidates + (1,))
    if window_origins(0, val_start, lookback, horizon, longest).size == 0 or val_start < lookback:
        raise DataError(
            f"{series.name}: {length} steps leave no training window before the validation and test parts "
            f"(lookback {lookback}, horizon {horizon}, {folds} folds {step} apart); use fewer --folds or a shorter "
            "--lookback"
        )
    from lstmkit.baselines.series import choose_period

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
    return Layout(horizon, lookback, folds, step, period, base_period, mase_period, val_start, test_start, calendar)


@dataclass(frozen=True)
class Features:
    """Scaled arrays a forecaster reads, built from a series and the scalers of the run.

    ``target (T, S)`` scaled; ``inputs (T, C + F)`` covariates (scaled) then calendar features;
    ``known_columns`` indexes the columns of ``inputs`` that are known ahead.
    """

    target: np.ndarray
    inputs: np.ndarray
    known_columns: np.ndarray


def _features(
    series: TimeSeries, layout: Layout, target_scaler: Scaler, covariate_scaler: Scaler | None, known: tuple
) -> Features:
    covariates = covariate_scaler.transform(series.covariates) if covariate_scaler else series.covariates
    calendar = calendar_features(series.timestamps, layout.calendar)
    known_columns = [series.covariate_names.index(c) for c in known] + list(
        range(series.covariates.shape[1], series.covariates.shape[1] + calendar.shape[1])
    )
    return Features(
        target_scaler.transform(series.targets),
        np.concatenate([covariates, calendar], axis=1),
        np.asarray(known_columns, dtype=np.int64),
    )


def _window_arrays(
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
    """Batches of windows ``(series, origin)`` gathered on demand from the feature arrays."""

    def __init__(self, features: Features, pairs: np.ndarray, layout: Layout, num_series: int) -> None:
        self.features, self.pairs, self.layout, self.num_series = features, pairs, layout, num_series

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> int:
        return index

    def collate(self, indices: list[int]) -> dict[str, torch.Tensor]:
        pairs = self.pairs[np.asarray(indices)]
        arrays = _window_arrays(self.features, pairs[:, 0], pairs[:, 1], self.layout, self.num_series)
        target = self.features.target[pairs[:, 1][:, None] + np.arange(self.layout.horizon)[None, :], pairs[:, 0:1]]
        arrays["target"] = target.astype(np.float32)
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def _pairs(num_series: int, origins: np.ndarray) -> np.ndarray:
    return np.array([(s, o) for s in range(num_series) for o in origins], dtype=np.int64).reshape(-1, 2)


def _evenly(pairs: np.ndarray, limit: int) -> np.ndarray:
    if len(pairs) <= limit:
        return pairs
    return pairs[np.linspace(0, len(pairs) - 1, limit).round().astype(np.int64)]


# -- objective --------------------------------------------------------------------------------------


class ForecastObjective:
    """Pinball loss over the quantiles, or MSE/MAE; validation reports the loss and the scaled MAE of
    the point forecast (the median)."""

    def __init__(self, loss: str, quantiles: tuple[float, ...]) -> None:
        self.kind = loss
        self.quantiles = torch.tensor(quantiles or (0.5,), dtype=torch.float32)
        self.point = int(np.argmin(np.abs(np.asarray(quantiles or (0.5,)) - 0.5)))

    def _loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "quantile":
            return pinball_loss(prediction, target, self.quantiles.to(prediction.device))
        error = prediction[..., 0] - target
        return (error**2).mean() if self.kind == "mse" else error.abs().mean()

    def loss(self, model, batch) -> torch.Tensor:
        return self._loss(model(batch["past"], batch["future"], batch["base"]), batch["target"])

    def eval_sums(self, model, batch) -> dict[str, torch.Tensor]:
        prediction = model(batch["past"], batch["future"], batch["base"])
        count = torch.tensor(float(batch["target"].numel()))
        return {
            "loss": self._loss(prediction, batch["target"]) * count,
            "abs": (prediction[..., self.point] - batch["target"]).abs().sum(),
            "count": count,
        }

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        return {"loss": sums["loss"] / sums["count"], "mae": sums["abs"] / sums["count"]}

    def batch_size(self, batch) -> int:
        return len(batch["target"])


# -- train ------------------------------------------------------------------------------------------


def _fit_scalers(series: TimeSeries, layout: Layout, log: bool) -> tuple[Scaler, Scaler | None]:
    """Scalers of the targets and covariates, from the steps before the first test origin only."""
    train_part = slice(0, layout.test_start)
    try:
        target_scaler = Scaler.fit(series.targets[train_part], log=log)
    except ValueError as exc:
        raise DataError(f"{series.name}: {exc} (drop --log)") from None
    covariate_scaler = Scaler.fit(series.covariates[train_part]) if series.covariates.shape[1] else None
    return target_scaler, covariate_scaler


def _forecaster_config(config: ForecastConfig, layout: Layout, features: Features, num_series: int):
    extra = num_series if num_series > 1 else 0
    return ForecasterConfig(
        past_size=1 + features.inputs.shape[1] + extra,
        future_size=len(features.known_columns) + 1 + extra,
        horizon=layout.horizon,
        kind=config.kind,
        cell=config.cell,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        quantiles=config.output_quantiles,
        residual=config.residual,
    )


def train(config: ForecastConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> ForecastResult:
    """Train a forecaster on ``config.data`` into ``run_dir`` and backtest it beside the baselines."""
    from lstmkit.train.engine import fit

    run_dir = Path(run_dir)
    if config.train.devices > 1:
        raise DataError("forecast training runs in one process (--devices 1)")
    if resume:
        config = ForecastConfig.from_dict(read_run_config(run_dir, TASK)["config"])
    elif (run_dir / "config.json").exists() and not force:
        raise RunDirectoryError(f"{run_dir} already holds a run; pass --resume to continue it or --force to replace it")
    started = time.perf_counter()
    series = load_data(config)
    layout = _layout(config, series)
    target_scaler, covariate_scaler = _fit_scalers(series, layout, config.log)
    known = series.known
    features = _features(series, layout, target_scaler, covariate_scaler, known)
    num_series = series.targets.shape[1]
    model_config = _forecaster_config(config, layout, features, num_series)
    if not resume:
        write_json(
            run_dir / VOCAB,
            {
                "targets": target_scaler.to_dict(),
                "covariates": covariate_scaler.to_dict() if covariate_scaler else None,
            },
        )
        write_run_config(
            run_dir,
            TASK,
            {
                "config": config.to_dict(),
                "series": {
                    "name": series.name,
                    "targets": list(series.target_names),
                    "covariates": list(series.covariate_names),
                    "known": list(known),
                    "freq": series.freq,
                    "length": len(series),
                },
                "layout": layout.to_dict(),
                "model": model_config.to_dict(),
            },
        )
    torch.manual_seed(config.train.seed)
    model = make_forecaster(model_config)
    longest = layout.base_period
    train_pairs = _pairs(num_series, window_origins(0, layout.val_start, layout.lookback, layout.horizon, longest))
    val_pairs = _pairs(num_series, np.arange(layout.val_start, layout.test_start - layout.horizon + 1))
    train_windows = WindowBatches(features, train_pairs, layout, num_series)
    val_windows = WindowBatches(features, _evenly(val_pairs, 1024), layout, num_series)
    generator = torch.Generator().manual_seed(config.train.seed)
    sampler = RandomSampler(train_windows, num_samples=min(len(train_windows), config.max_windows), generator=generator)
    train_loader = DataLoader(
        train_windows, batch_size=config.train.batch_size, sampler=sampler, collate_fn=train_windows.collate
    )
    val_loader = DataLoader(val_windows, batch_size=256, collate_fn=val_windows.collate)
    objective = ForecastObjective(config.loss, config.output_quantiles)
    result = fit(model, objective, train_loader, val_loader, config.train, run_dir, resume=resume)
    save_weights(run_dir / WEIGHTS, model.state_dict())

    forecaster = ForecastModel(run_dir)
    scores = forecaster.backtest(series, baselines=config.baselines)
    metrics: dict[str, Any] = {
        "task": TASK,
        "data": {
            "name": series.name,
            "length": len(series),
            "series": num_series,
            "train_windows": len(train_pairs),
            "val_windows": len(val_pairs),
            "test_origins": layout.folds,
            "train": layout.val_start,
            "val": layout.test_start - layout.val_start,
            "test": len(series) - layout.test_start,
        },
        **scores,
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    write_metrics(run_dir, metrics)
    return ForecastResult(run_dir, metrics)


# -- using a run ------------------------------------------------------------------------------------


class ForecastModel:
    """A trained forecast run (``load(run_dir)``): forecasts after the data, and backtests."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, TASK)
        self.config = ForecastConfig.from_dict(saved["config"])
        self.series_info = saved["series"]
        self.layout = Layout(**{**saved["layout"], "calendar": tuple(saved["layout"]["calendar"])})
        scalers = read_json(self.run_dir / VOCAB)
        self.target_scaler = Scaler.from_dict(scalers["targets"])
        self.covariate_scaler = Scaler.from_dict(scalers["covariates"]) if scalers["covariates"] else None
        self.model = make_forecaster(ForecasterConfig.from_dict(saved["model"]))
        if not (self.run_dir / WEIGHTS).is_file():
            raise RunDirectoryError(f"{self.run_dir} has no {WEIGHTS}: training did not finish (use --resume)")
        load_weights(self.run_dir / WEIGHTS, self.model)
        self.model.eval()

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.config.output_quantiles

    def _columns(self) -> list[str]:
        return [f"q{q:g}" for q in self.quantiles] if self.quantiles else ["forecast"]

    def _check_series(self, series: TimeSeries) -> None:
        expected = tuple(self.series_info["targets"]), tuple(self.series_info["covariates"])
        if (series.target_names, series.covariate_names) != expected:
            raise DataError(
                f"{series.name}: the run was trained on targets {list(expected[0])} and covariates "
                f"{list(expected[1])}, got {list(series.target_names)} and {list(series.covariate_names)}"
            )

    def load_series(self, data: str | None = None) -> TimeSeries:
        """The run's own series, or a CSV/data set with the same target and covariate columns."""
        series = load_data(self.config, data)
        self._check_series(series)
        return replace(series, known=tuple(self.series_info["known"]))

    def predict_windows(self, series: TimeSeries, origins: np.ndarray) -> np.ndarray:
        """Forecasts ``(S, N, H, Q)`` on the original scale from each origin (quantiles sorted)."""
        features = _features(series, self.layout, self.target_scaler, self.covariate_scaler, series.known)
        num_series = series.targets.shape[1]
        pairs = _pairs(num_series, np.asarray(origins))
        arrays = _window_arrays(features, pairs[:, 0], pairs[:, 1], self.layout, num_series)
        with torch.no_grad():
            scaled = self.model(
                *(torch.from_numpy(np.ascontiguousarray(arrays[k])) for k in ("past", "future", "base"))
            )
        scaled = np.sort(scaled.numpy().astype(np.float64), axis=-1)
        values = self.target_scaler.inverse(scaled, columns=pairs[:, 0])
        return values.reshape(num_series, len(origins), self.layout.horizon, -1)

    def backtest(self, series: TimeSeries | None = None, baselines: bool = True) -> dict[str, Any]:
        """Rolling-origin scores of the model and the baselines on the same folds (``metrics.json`` shape)."""
        from lstmkit.baselines.series import ets_forecast, naive, seasonal_naive, select_ets

        series = series if series is not None else self.load_series()
        layout = self.layout
        origins = backtest_origins(len(series), layout.horizon, layout.folds, layout.step)
        predictions = self.predict_windows(series, origins)
        point = int(np.argmin(np.abs(np.asarray(self.quantiles or (0.5,)) - 0.5)))
        horizon = layout.horizon
        forecasts: dict[str, list[np.ndarray]] = {"model": [], "naive": [], "seasonal_naive": []}
        actuals, scales, coverage_hits = [], [], []
        ets_forms = []
        for s in range(series.targets.shape[1]):
            values = series.targets[:, s]
            history = values[: layout.test_start]
            scales.append(mase_scale(history, layout.mase_period))
            actuals.append(np.stack([values[o : o + horizon] for o in origins]))
            forecasts["model"].append(predictions[s, :, :, point])
            forecasts["naive"].append(np.stack([naive(values[:o], horizon) for o in origins]))
            forecasts["seasonal_naive"].append(
                np.stack([seasonal_naive(values[:o], horizon, layout.period) for o in origins])
            )
            if self.quantiles and len(self.quantiles) > 1:
                coverage_hits.append((predictions[s, :, :, 0], predictions[s, :, :, -1]))
            if baselines:
                window = min(len(history), max(10 * layout.period, 600))
                form = select_ets(history, layout.period, window)
                ets_forms.append(form.describe())
                forecasts.setdefault("ets", []).append(
                    np.stack([ets_forecast(values[:o], horizon, form) for o in origins])
                )

        def score(name: str) -> dict[str, float]:
            per_series = [forecast_metrics(a, f, sc) for a, f, sc in zip(actuals, forecasts[name], scales)]
            return {k: float(np.mean([m[k] for m in per_series])) for k in per_series[0]}

        model_scores = score("model")
        if coverage_hits:
            lower = np.concatenate([lo.ravel() for lo, _ in coverage_hits])
            upper = np.concatenate([hi.ravel() for _, hi in coverage_hits])
            model_scores["coverage"] = interval_coverage(np.concatenate([a.ravel() for a in actuals]), lower, upper)
            model_scores["interval"] = [self.quantiles[0], self.quantiles[-1]]
        result = {
            "model": model_scores,
            "baselines": {name: score(name) for name in forecasts if name != "model"},
            "backtest": {
                "origins": [str(series.timestamps[o])[:19] for o in origins],
                "horizon": horizon,
                "period": layout.period,
                "base_period": layout.base_period,
                "mase_period": layout.mase_period,
                "ets_form": ets_forms,
            },
        }
        self._plot_backtest(series, origins, predictions, forecasts)
        return result

    def _plot_backtest(self, series, origins, predictions, forecasts) -> Path:
        from lstmkit.plots import plot_forecasts

        start = max(0, int(origins[0]) - 3 * self.layout.horizon)
        windows = [
            self._window(series.timestamps[o : o + self.layout.horizon], predictions[0, i])
            for i, o in enumerate(origins)
        ]
        return plot_forecasts(
            series.timestamps[start:],
            series.targets[start:, 0],
            windows,
            self.run_dir / "backtest.png",
            title=f"{series.name}: backtest, {len(origins)} origins, horizon {self.layout.horizon}",
            value_label=series.target_names[0],
            interval_label=self._interval_label,
            split=series.timestamps[origins[0]],
        )

    def _window(self, steps: np.ndarray, prediction: np.ndarray):
        """The point forecast and, with two or more quantiles, the outer interval: ``prediction (steps, quantiles)``."""
        from lstmkit.plots import ForecastWindow

        if len(self.quantiles) > 1:
            return ForecastWindow(steps, prediction[:, self._point], prediction[:, 0], prediction[:, -1])
        return ForecastWindow(steps, prediction[:, self._point])

    @property
    def _interval_label(self) -> str:
        return f"{self.quantiles[0]:g}-{self.quantiles[-1]:g} interval" if self.quantiles else "interval"

    @property
    def _point(self) -> int:
        return int(np.argmin(np.abs(np.asarray(self.quantiles or (0.5,)) - 0.5)))

    def evaluate(self, data: str | None = None) -> dict[str, Any]:
        """The backtest of the saved model (on the run's series, or ``data`` with the same columns)."""
        return self.backtest(self.load_series(data), baselines=self.config.baselines)

    def forecast(self, data: str | None = None, future: str | None = None, out: str | Path | None = None):
        """Forecast the ``horizon`` steps after the end of the series (the run's, or ``data``).

        ``future``: a CSV with the date column and the known covariates for those steps (required when
        the run has known covariates). Returns a list of rows ``{"timestamp", "series", "q0.1"...}``;
        with ``out`` also writes them as CSV and ``out`` with ``.png``: history, forecast and interval.
        """
        series = self.load_series(data)
        horizon = self.layout.horizon
        stamps = future_timestamps(series.timestamps[-1], series.freq, horizon)
        covariates = self._future_covariates(series, stamps, future)
        extended = replace(
            series,
            timestamps=np.concatenate([series.timestamps, stamps]),
            targets=np.concatenate([series.targets, np.full((horizon, series.targets.shape[1]), np.nan)]),
            covariates=np.concatenate([series.covariates, covariates]),
        )
        if len(series) < max(self.layout.lookback, self.layout.base_period):
            raise DataError(
                f"{series.name}: {len(series)} steps of history, fewer than the lookback ({self.layout.lookback}) "
                f"or the season ({self.layout.base_period}) the model needs"
            )
        predictions = self.predict_windows(extended, np.array([len(series)]))
        rows = []
        for s, name in enumerate(series.target_names):
            for k in range(horizon):
                row = {"timestamp": str(stamps[k])[:19].replace("T", " "), "series": name}
                row.update({c: float(v) for c, v in zip(self._columns(), predictions[s, 0, k])})
                rows.append(row)
        if out is not None:
            self._write_forecast(rows, series, stamps, predictions, Path(out))
        return rows

    def _future_covariates(self, series: TimeSeries, stamps: np.ndarray, future: str | None) -> np.ndarray:
        """Covariates for the forecast steps: known ones from ``future``, past-only ones as NaN (unused)."""
        values = np.full((len(stamps), series.covariates.shape[1]), np.nan)
        if not series.known:
            return values
        if future is None:
            raise DataError(
                f"known covariate {series.known[0]!r} has no values for the {len(stamps)} steps after "
                f"{str(series.timestamps[-1])[:19]}; pass them with --future CSV"
            )
        frame = load_series_csv(
            future, targets=[series.known[0]], date_column=self.config.date_column, covariates=list(series.known[1:])
        ) if Path(future).is_file() else None  # fmt: skip
        if frame is None:
            raise DataError(f"--future file not found: {future}")
        given = dict(
            zip(frame.target_names + frame.covariate_names, np.concatenate([frame.targets, frame.covariates], 1).T)
        )
        position = {int(t): i for i, t in enumerate(frame.timestamps.astype(np.int64))}
        rows = [position.get(int(t)) for t in stamps.astype(np.int64)]
        if any(r is None for r in rows):
            missing = str(stamps[rows.index(None)])[:19]
            raise DataError(
                f"--future {Path(future).name}: no row for {missing}; it must cover the {len(stamps)} forecast steps"
            )
        for name in series.known:
            values[:, series.covariate_names.index(name)] = given[name][rows]
        return values

    def _write_forecast(self, rows, series, stamps, predictions, out: Path) -> None:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(out, lambda tmp: tmp.write_text(buffer.getvalue(), encoding="utf-8"))
        from lstmkit.plots import plot_forecasts

        history = min(len(series), 4 * self.layout.horizon + self.layout.lookback)
        plot_forecasts(
            series.timestamps[-history:],
            series.targets[-history:, 0],
            [self._window(stamps, predictions[0, 0])],
            out.with_suffix(".png"),
            title=f"{series.name} ({series.target_names[0]}): forecast of {len(stamps)} steps",
            value_label=series.target_names[0],
            observed_label="history",
            forecast_label="forecast",
            interval_label=self._interval_label,
        )


def load(run_dir: str | Path) -> ForecastModel:
    return ForecastModel(run_dir)
