"""Time-series forecasting end to end: series -> scaling and windows -> LSTM/GRU forecaster -> rolling-origin
backtest beside naive, seasonal naive and Holt-Winters -> a run directory -> forecasts.

    from lstmkit.tasks import forecast
    result = forecast.train(forecast.ForecastConfig(data="airpassengers"), "runs/air")
    model = forecast.load("runs/air")
    rows = model.forecast()             # the next `horizon` steps after the data, with quantiles
    rows = model.forecast(history_frame, future=covariates_frame, csv="forecast.csv")
    scores = model.evaluate()           # the backtest table again, from the saved model (writes nothing)
    forecast.train(forecast.ForecastConfig(data="ETTh2.csv", targets=("OT",), protocol="ltsf"), "runs/ltsf")

The pieces: ``config`` (:class:`ForecastConfig`), ``data`` (the series, split, scalers, features),
``dataset`` (windows), ``objective``, ``task`` (the lifecycle's hooks), ``backtest``, ``model`` (a
finished run) and ``output`` (CSV and plots); for the LTSF protocol (``protocol="ltsf"``), ``ltsf``
(its batches, objective, scoring, baselines and plain training loop) and ``ltsf_run`` (its hooks and
the finished run, :class:`LtsfModel`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.tasks.forecast.config import LOSSES, ForecastConfig
from lstmkit.tasks.forecast.data import load_data
from lstmkit.tasks.forecast.ltsf_run import LtsfModel
from lstmkit.tasks.forecast.model import ForecastModel
from lstmkit.tasks.forecast.task import NAME, TASK
from lstmkit.tasks.runner import TaskResult, train_task

__all__ = ["ForecastConfig", "ForecastModel", "LtsfModel", "TASK", "NAME", "LOSSES", "train", "load", "load_data"]


def train(config: ForecastConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> TaskResult:
    """Train a forecaster on ``config.data`` into ``run_dir`` and backtest it beside the baselines."""
    return train_task(TASK, config, run_dir, resume=resume, force=force)


def load(run_dir: str | Path, device: str | torch.device = "cpu") -> ForecastModel | LtsfModel:
    """A finished forecast run, its network on ``device``: ``forecast`` and ``evaluate`` (an
    :class:`LtsfModel` for a run on the LTSF protocol)."""
    return TASK.load(Path(run_dir), device)
