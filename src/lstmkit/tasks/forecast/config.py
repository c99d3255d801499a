"""The configuration of a forecast run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["ForecastConfig", "LOSSES"]

LOSSES = ("quantile", "mse", "mae")


@dataclass(frozen=True)
class ForecastConfig(TaskConfig):
    """Everything a forecast run needs; saved as ``config.json`` in the run directory.

    ``data``: a registered name (``lstmkit data list``) or a CSV path. ``targets``/``covariates``
    ``None`` take the data set's (for a CSV: ``targets`` is required, covariates default to every
    other numeric column); ``known`` names the covariates whose future values are known.
    ``horizon``, ``lookback``, ``folds``, ``fold_stride`` (steps between two backtest origins)
    ``None`` take the data set's defaults (for a CSV: two seasons of lookback, one season of horizon).
    ``period`` ``None`` chooses among the data set's seasonal periods on the validation stretch.
    ``max_windows``: training windows drawn per epoch.
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
    fold_stride: int | None = None
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
        from lstmkit.heads._checks import check_positive_int, check_probability

        for name in ("hidden_size", "num_layers", "max_windows"):
            check_positive_int(name, getattr(self, name))
        check_probability("dropout", self.dropout)
        # ValueError, each message starting with the field's name: the CLI names the option from it.
        from lstmkit.heads._checks import check_choice
        from lstmkit.heads.config import CELLS
        from lstmkit.heads.forecaster import KINDS

        check_choice("loss", self.loss, LOSSES)
        check_choice("kind", self.kind, KINDS)
        check_choice("cell", self.cell, tuple(CELLS))
        if self.loss == "quantile" and not self.quantiles:
            raise ValueError("quantiles must name at least one quantile for the quantile loss (e.g. 0.1,0.5,0.9)")
        if any(not 0 < q < 1 for q in self.quantiles):  # (NaN fails the test too)
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(self.quantiles)}")
        for name in ("horizon", "lookback", "folds", "fold_stride", "period"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or None: the data set's), got {value}")
        if self.freq is not None:
            _check_freq(self.freq)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ForecastConfig:
        """The config a run saved; runs written before ``fold_stride`` was named so call it ``step``."""
        if "step" in data and "fold_stride" not in data:
            data = {**{k: v for k, v in data.items() if k != "step"}, "fold_stride": data["step"]}
        return super().from_dict(data)

    @property
    def output_quantiles(self) -> tuple[float, ...]:
        """The quantiles the network outputs, sorted (none for a point loss)."""
        return tuple(sorted(set(self.quantiles))) if self.loss == "quantile" else ()


def _check_freq(freq: str) -> None:
    import pandas as pd

    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ValueError(f"freq must be a pandas frequency alias (MS, W-SAT, h, 30min...), got {freq!r}") from None
