"""What forecasting brings to the shared lifecycle (:mod:`lstmkit.tasks.runner`): its series, split and
scalers, the forecaster and its window loaders, and the backtest beside the baselines. A run on the LTSF
protocol (``protocol="ltsf"``) takes its own path through the same hooks (:mod:`.ltsf_run`).

The split: the series' last part (``folds`` rolling origins ``fold_stride`` steps apart, the last
forecast ending at the last value) is the test part; just before it lies a validation stretch (early
stopping); the network trains on windows whose targets end before that. Scalers, the seasonal period
of the seasonal naive, and the Holt-Winters form are all chosen on the data before the first test origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

from lstmkit.data.series import TimeSeries
from lstmkit.data.windows import window_origins
from lstmkit.heads.forecaster import ForecasterConfig, make_forecaster
from lstmkit.tasks.forecast.config import ForecastConfig
from lstmkit.tasks.forecast.data import (
    NAME,
    SCALERS,
    Features,
    Layout,
    Scalers,
    load_data,
    make_features,
    resolve_layout,
)
from lstmkit.tasks.forecast.dataset import WindowBatches, evenly, series_pairs
from lstmkit.tasks.forecast.ltsf_run import LtsfData, LtsfModel, build_ltsf, prepare_ltsf, score_ltsf_run
from lstmkit.tasks.forecast.objective import ForecastObjective
from lstmkit.tasks.runner import Built, Task

__all__ = ["TASK", "NAME", "BACKTEST_PLOT"]

BACKTEST_PLOT = "backtest.png"  # drawn into the run directory when training scores the run


@dataclass
class ForecastData:
    """A prepared run: the series, its layout and scalers, the scaled features and the window pairs."""

    series: TimeSeries
    layout: Layout
    scalers: Scalers
    features: Features
    train_pairs: np.ndarray
    val_pairs: np.ndarray

    @property
    def num_series(self) -> int:
        return self.series.targets.shape[1]


def series_info(series: TimeSeries) -> dict[str, Any]:
    """What ``config.json`` keeps of the series: its columns (a forecast's data must have the same), frequency."""
    return {
        "name": series.name,
        "targets": list(series.target_names),
        "covariates": list(series.covariate_names),
        "known": list(series.known),
        "freq": series.freq,
        "length": len(series),
    }


def forecaster_config(config: ForecastConfig, features: Features, layout: Layout, num_series: int):
    """The network's :class:`~lstmkit.heads.forecaster.ForecasterConfig` for these features."""
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


class ForecastTask(Task):
    name = NAME
    config_class = ForecastConfig

    def prepare(self, config: ForecastConfig, run_dir: Path, resume: bool) -> ForecastData | LtsfData:
        if config.protocol == "ltsf":
            return prepare_ltsf(config)
        # The scalers are fitted on the part before the test, so a resumed run fits the same ones again.
        series = load_data(config)
        layout = resolve_layout(config, series)
        scalers = Scalers.fit(series, layout, config.log)
        features = make_features(series, layout, scalers)
        num_series = series.targets.shape[1]
        train_origins = window_origins(0, layout.val_start, layout.lookback, layout.horizon, layout.base_period)
        val_origins = np.arange(layout.val_start, layout.test_start - layout.horizon + 1)
        return ForecastData(
            series, layout, scalers, features, series_pairs(num_series, train_origins),
            series_pairs(num_series, val_origins),
        )  # fmt: skip

    def build(self, config: ForecastConfig, data: ForecastData | LtsfData) -> Built:
        if isinstance(data, LtsfData):
            return build_ltsf(config, data, {"series": series_info(data.series)})
        series, layout = data.series, data.layout
        model_config = forecaster_config(config, data.features, layout, data.num_series)
        train_windows = WindowBatches(data.features, data.train_pairs, layout, data.num_series)
        val_windows = WindowBatches(data.features, evenly(data.val_pairs, 1024), layout, data.num_series)
        generator = torch.Generator().manual_seed(config.train.seed)
        draws = config.windows_per_epoch(len(train_windows))
        sampler = RandomSampler(train_windows, num_samples=draws, generator=generator)
        return Built(
            model=make_forecaster(model_config),
            objective=ForecastObjective(config.loss, config.output_quantiles),
            # batch_size with a sampler: the loader's batch_sampler, which the runner shards for DDP
            train_loader=DataLoader(
                train_windows, batch_size=config.train.batch_size, sampler=sampler, collate_fn=train_windows.collate
            ),
            val_loader=DataLoader(val_windows, batch_size=256, collate_fn=val_windows.collate),
            payload={"series": series_info(series), "layout": layout.to_dict(), "model": model_config.to_dict()},
            files={SCALERS: data.scalers.write},
        )

    def score(self, config: ForecastConfig, data: ForecastData | LtsfData, model, run_dir: Path) -> dict[str, Any]:
        from lstmkit.tasks.forecast.model import ForecastModel

        if isinstance(data, LtsfData):
            return score_ltsf_run(config, data, model)
        layout, series = data.layout, data.series
        forecaster = ForecastModel(config, series_info(series), layout, data.scalers, model)
        scores = forecaster.backtest(series, baselines=config.baselines, plot=run_dir / BACKTEST_PLOT)
        return {
            "data": {
                "name": series.name,
                "length": len(series),
                "series": data.num_series,
                "train_windows": len(data.train_pairs),
                "val_windows": len(data.val_pairs),
                "test_origins": layout.folds,
                "train": layout.val_start,
                "val": layout.test_start - layout.val_start,
                "test": len(series) - layout.test_start,
            },
            **scores,
        }

    def load(self, run_dir: Path, device: str | torch.device = "cpu"):
        """The finished run in ``run_dir``: a :class:`ForecastModel`, or an :class:`LtsfModel` for an ltsf run."""
        from lstmkit.runs import read_run_config
        from lstmkit.tasks.forecast.model import ForecastModel

        protocol = read_run_config(run_dir, NAME)["config"].get("protocol", "backtest")
        return (LtsfModel if protocol == "ltsf" else ForecastModel).load(run_dir, device)


TASK = ForecastTask()
