"""The rolling-origin backtest: the network's forecasts and the baselines' on the same folds, scored.

At each origin every model sees the history up to the origin only. The network is trained once and
applied at every origin (no refit); Holt-Winters keeps the form chosen before the test part but is
refitted on the history up to each origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.data.series import TimeSeries
from lstmkit.data.windows import forecast_metrics, interval_coverage, mase_scale
from lstmkit.tasks.forecast.data import Layout
from lstmkit.tasks.forecast.objective import point_index

__all__ = ["score_backtest"]


def score_backtest(
    series: TimeSeries,
    layout: Layout,
    origins: np.ndarray,
    predictions: np.ndarray,
    quantiles: tuple[float, ...],
    model_name: str,
    baselines: bool = True,
) -> dict[str, Any]:
    """Scores of the network's ``predictions (S, N, H, Q)`` from ``origins`` and of the baselines on the
    same folds, in ``metrics.json``'s shape. Each model's scores carry its ``name`` (``model_name`` for the
    network; ``baselines`` adds Holt-Winters to naive and seasonal naive)."""
    from lstmkit.baselines.series import ets_forecast, naive, seasonal_naive, select_ets

    point = point_index(quantiles)
    horizon = layout.horizon
    forecasts: dict[str, list[np.ndarray]] = {"model": [], "naive": [], "seasonal_naive": []}
    actuals, scales, intervals, ets_forms = [], [], [], []
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
        if len(quantiles) > 1:
            intervals.append((predictions[s, :, :, 0], predictions[s, :, :, -1]))
        if baselines:
            window = min(len(history), max(10 * layout.period, 600))
            form = select_ets(history, layout.period, window)
            ets_forms.append(form.describe())
            forecasts.setdefault("ets", []).append(np.stack([ets_forecast(values[:o], horizon, form) for o in origins]))

    def score(name: str) -> dict[str, Any]:
        per_series = [forecast_metrics(a, f, sc) for a, f, sc in zip(actuals, forecasts[name], scales)]
        return {"name": names[name], **{k: float(np.mean([m[k] for m in per_series])) for k in per_series[0]}}

    names = {
        "model": model_name,
        "naive": "naive",
        "seasonal_naive": f"seasonal naive (m={layout.period})",
        "ets": "Holt-Winters " + ", ".join(dict.fromkeys(ets_forms)),
    }
    model_scores = score("model")
    if intervals:
        lower = np.concatenate([lo.ravel() for lo, _ in intervals])
        upper = np.concatenate([hi.ravel() for _, hi in intervals])
        model_scores["coverage"] = interval_coverage(np.concatenate([a.ravel() for a in actuals]), lower, upper)
        model_scores["interval"] = [quantiles[0], quantiles[-1]]
    return {
        "model": model_scores,
        "baselines": {name: score(name) for name in forecasts if name != "model"},
        "backtest": {
            "origins": [str(series.timestamps[o])[:19] for o in origins],
            "fold_stride": layout.fold_stride,
            "horizon": horizon,
            "period": layout.period,
            "base_period": layout.base_period,
            "mase_period": layout.mase_period,
            "ets_form": ets_forms,
        },
    }
