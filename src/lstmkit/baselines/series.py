"""Forecasting baselines: naive, seasonal naive, and exponential smoothing (Holt-Winters, statsmodels).

Each forecaster is a function ``(history (T,), horizon) -> forecast (horizon,)`` on the original
scale, so a backtest calls every model the same way at every origin. The choices a baseline makes
(seasonal period, ETS form) are taken on the training part only, never on the test part.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from lstmkit.data.windows import seasonal_lags

__all__ = ["naive", "seasonal_naive", "choose_period", "EtsForm", "select_ets", "ets_forecast"]


def naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, repeated."""
    return np.full(horizon, float(np.asarray(history)[-1]))


def seasonal_naive(history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The value one season earlier: step ``k`` (0-based, after the end) repeats ``history[T + k - lag_k]``
    (:func:`seasonal_lags`)."""
    history = np.asarray(history, dtype=np.float64)
    return history[len(history) + np.arange(horizon) - seasonal_lags(horizon, period)]


def choose_period(values: np.ndarray, candidates: tuple[int, ...], horizon: int, origins: np.ndarray) -> int:
    """The candidate period whose seasonal naive forecast has the lowest MAE from ``origins`` (which
    must lie in the training part): the 'tuned' seasonal naive."""
    errors = []
    for period in candidates:
        errors.append(
            np.mean([np.abs(seasonal_naive(values[:o], horizon, period) - values[o : o + horizon]) for o in origins])
        )
    return candidates[int(np.argmin(errors))]


@dataclass(frozen=True)
class EtsForm:
    """A Holt-Winters form: ``trend`` None/"add" (``damped``), ``seasonal`` None/"add"/"mul" of ``period``;
    ``window`` is how many of the latest steps each fit sees (bounds the cost on long series)."""

    trend: str | None
    damped: bool
    seasonal: str | None
    period: int
    window: int

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        trend = {None: "N", "add": "Ad" if self.damped else "A"}[self.trend]
        season = {None: "N", "add": "A", "mul": "M"}[self.seasonal]
        return f"ETS(·,{trend},{season}) m={self.period}" if self.seasonal else f"ETS(·,{trend},N)"


def _fit(history: np.ndarray, form: EtsForm):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    data = np.asarray(history, dtype=np.float64)[-form.window :]
    model = ExponentialSmoothing(
        data,
        trend=form.trend,
        damped_trend=form.damped,
        seasonal=form.seasonal,
        seasonal_periods=form.period if form.seasonal else None,
        # "estimated" optimises one initial value per season step: too slow for period 336
        initialization_method="estimated" if form.period <= 52 else "heuristic",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser
        return model.fit()


def select_ets(history: np.ndarray, period: int, window: int) -> EtsForm:
    """The Holt-Winters form with the lowest AICc on ``history`` (the training part), among no/damped
    trend x no/additive/multiplicative (positive data only) season."""
    history = np.asarray(history, dtype=np.float64)
    seasonals: list[str | None] = [None]
    if period > 1 and min(window, len(history)) >= 3 * period:
        seasonals += ["add"] + (["mul"] if (history[-window:] > 0).all() else [])
    best, best_aicc = None, np.inf
    for seasonal in seasonals:
        for trend, damped in ((None, False), ("add", True)):
            form = EtsForm(trend, damped, seasonal, period, window)
            aicc = float(_fit(history, form).aicc)
            if np.isfinite(aicc) and aicc < best_aicc:
                best, best_aicc = form, aicc
    return best or EtsForm(None, False, None, period, window)


def ets_forecast(history: np.ndarray, horizon: int, form: EtsForm) -> np.ndarray:
    """Refit ``form`` on ``history`` (its last ``form.window`` steps) and forecast ``horizon`` steps."""
    forecast = np.asarray(_fit(history, form).forecast(horizon), dtype=np.float64)
    return forecast if np.isfinite(forecast).all() else naive(history, horizon)
