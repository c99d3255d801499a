"""The math of forecasting data, as pure functions: scaling, seasonal lags, window origins, metrics.

Shapes: a series is ``(T,)`` or ``(T, S)`` (``S`` series side by side); an *origin* ``o`` is the index
of the first forecast step, so a window sees ``values[o - lookback:o]`` and predicts
``values[o:o + horizon]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.config_json import check_value

__all__ = [
    "Scaler",
    "seasonal_lags",
    "window_origins",
    "backtest_origins",
    "gather_windows",
    "mae",
    "rmse",
    "mape",
    "smape",
    "mase_scale",
    "forecast_metrics",
    "interval_coverage",
]


@dataclass(frozen=True)
class Scaler:
    """Per-column standardisation ``(x - mean) / std``, optionally of ``log(x)``.

    Fitted on the training part only (:meth:`fit` sees nothing else), so no statistic of the test
    part leaks into the inputs. ``mean``/``std`` hold one value per column.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    log: bool = False

    @classmethod
    def fit(cls, values: np.ndarray, log: bool = False) -> Scaler:
        """``values (T, S)``: the training part. A constant column gets ``std`` 1."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or len(values) == 0:
            raise ValueError(f"values must be a non-empty (T, S) array, got shape {values.shape}")
        if log:
            if (values <= 0).any():
                raise ValueError("log scaling needs strictly positive values")
            values = np.log(values)
        std = values.std(axis=0)
        return cls(tuple(values.mean(axis=0).tolist()), tuple(np.where(std > 1e-12, std, 1.0).tolist()), log)

    def transform(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if self.log:
            values = np.log(np.maximum(values, 1e-12))
        return (values - np.asarray(self.mean)) / np.asarray(self.std)

    def inverse(self, scaled: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
        """Undo :meth:`transform`; ``columns`` picks the statistics per row when ``scaled`` is ``(N, ...)``
        holding one series per row (its last axes are broadcast)."""
        mean, std = np.asarray(self.mean), np.asarray(self.std)
        scaled = np.asarray(scaled, dtype=np.float64)
        if columns is not None:
            shape = (len(columns),) + (1,) * (scaled.ndim - 1)
            mean, std = mean[columns].reshape(shape), std[columns].reshape(shape)
        values = scaled * std + mean
        return np.exp(values) if self.log else values

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "log": self.log}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        floats = tuple[float, ...]
        mean, std = check_value(data["mean"], floats, "mean"), check_value(data["std"], floats, "std")
        return cls(mean, std, check_value(data.get("log", False), bool, "log"))


def seasonal_lags(horizon: int, period: int) -> np.ndarray:
    """For forecast steps ``k = 0..horizon-1``, how far back the same season was last observed:
    ``period * ceil((k + 1) / period)`` (``period`` 1 gives the naive lag ``k + 1``)."""
    steps = np.arange(1, horizon + 1)
    return period * np.ceil(steps / period).astype(np.int64)


def window_origins(start: int, stop: int, lookback: int, horizon: int, period: int) -> np.ndarray:
    """Every origin whose whole target lies in ``[start, stop)`` and whose inputs (the ``lookback``
    steps and the seasonal lags of ``period``) lie at or after index 0."""
    first = max(start, lookback, int(seasonal_lags(horizon, period)[0]))
    return np.arange(first, stop - horizon + 1)


def backtest_origins(length: int, horizon: int, folds: int, step: int) -> np.ndarray:
    """Rolling origins over the end of a series: ``folds`` origins ``step`` apart, the last forecast
    ending at the last value. The first origin starts the test part."""
    if folds < 1 or step < 1 or horizon < 1:
        raise ValueError(f"folds, step and horizon must be at least 1, got {folds}, {step}, {horizon}")
    last = length - horizon
    return last - step * np.arange(folds - 1, -1, -1)


def gather_windows(values: np.ndarray, origins: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``values (T, ...)`` at ``origins[:, None] + offsets[None, :]`` -> ``(N, len(offsets), ...)``."""
    return values[np.asarray(origins)[:, None] + np.asarray(offsets)[None, :]]


# -- metrics (arrays of any matching shape; NumPy in, float out) -----------------------------------


def mae(actual, forecast) -> float:
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual, forecast) -> float:
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def mape(actual, forecast) -> float:
    """Mean absolute percentage error, in percent; steps where ``actual`` is 0 are left out."""
    actual, forecast = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    nonzero = actual != 0
    if not nonzero.any():
        return float("nan")
    return float(100 * np.mean(np.abs((actual - forecast)[nonzero] / actual[nonzero])))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent, ``200 |a - f| / (|a| + |f|)``; 0 where both are 0."""
    actual, forecast = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return float(100 * np.mean(ratio))


def mase_scale(history: np.ndarray, period: int) -> float:
    """The in-sample MAE of the seasonal naive forecast (lag ``period``) over ``history (T,)``: MASE's
    denominator (Hyndman & Koehler 2006)."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) <= period:
        raise ValueError(f"history of {len(history)} steps is too short for a seasonal period of {period}")
    return float(np.mean(np.abs(history[period:] - history[:-period])))


def forecast_metrics(actual, forecast, scale: float) -> dict[str, float]:
    """``mae``, ``rmse``, ``mape``, ``smape`` and ``mase`` (MAE / ``scale``) of point forecasts."""
    error = mae(actual, forecast)
    return {
        "mae": error,
        "rmse": rmse(actual, forecast),
        "mape": mape(actual, forecast),
        "smape": smape(actual, forecast),
        "mase": error / scale if scale > 0 else float("nan"),
    }


def interval_coverage(actual, lower, upper) -> float:
    """Fraction of ``actual`` values inside ``[lower, upper]``."""
    actual = np.asarray(actual)
    return float(np.mean((actual >= np.asarray(lower)) & (actual <= np.asarray(upper))))
