"""The configuration of a forecast run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.data.ltsf import SPLITS
from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["ForecastConfig", "LOSSES", "PROTOCOLS", "FEATURES"]

LOSSES = ("quantile", "mse", "mae")
PROTOCOLS = ("backtest", "ltsf")
FEATURES = ("M", "S")
LTSF_LOOKBACK = LTSF_HORIZON = 96  # the LTSF papers' usual lookback and shortest horizon
# Options of one protocol only, refused with the other (they would be ignored in silence): field -> default.
_BACKTEST_ONLY = {"folds": None, "fold_stride": None, "known": (), "log": False}
_LTSF_ONLY = {"features": None, "split": "auto", "segment_length": 24}


@dataclass(frozen=True)
class ForecastConfig(TaskConfig):
    """Everything a forecast run needs; saved as ``config.json`` in the run directory.

    ``data``: a registered name (``lstmkit data list``) or a CSV path. ``targets``/``covariates``
    ``None`` take the data set's (for a CSV: ``targets`` is required, covariates default to every
    other numeric column); ``known`` names the covariates whose future values are known.
    ``horizon``, ``lookback`` ``None`` take the data set's defaults (for a CSV: two seasons of lookback,
    one season of horizon); ``folds``, ``fold_stride`` (steps between two backtest origins) ``None`` fill
    the last 20 % of the series (:func:`~lstmkit.tasks.forecast.data.default_backtest`).
    ``period`` ``None`` chooses among the data set's seasonal periods on the validation stretch.
    ``max_windows``: training windows drawn per epoch.

    ``protocol``: ``"backtest"`` (rolling origins at the end of the series, beside naive, seasonal naive
    and Holt-Winters) or ``"ltsf"`` (the long-horizon protocol of :mod:`lstmkit.data.ltsf`: chronological
    split, every test origin, MSE/MAE on the z-scored values beside repeat-last, seasonal naive, linear and
    DLinear). With ``ltsf``: ``features`` ``"M"`` forecasts every column (targets and covariates) from its
    own past, ``"S"`` the targets alone (``None``: ``"M"``); ``split`` ``"ett"`` cuts 12/4/4 months,
    ``"ratio"`` 70/10/20 %, ``"auto"`` ETT for hourly or 15-minute series of ETT size (20 to 25 months);
    ``lookback``/``horizon`` ``None`` are 96. ``kind`` ``None`` is ``"segment"`` (the segment recurrent
    model, ``segment_length`` steps per segment) with ``ltsf`` and ``"direct"`` with ``backtest``; ``loss``
    ``None`` is ``"mse"`` with ``ltsf`` (the metric) and ``"quantile"`` with ``backtest``.
    """

    data: str = "airpassengers"
    protocol: str = "backtest"
    features: str | None = None
    split: str = "auto"
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
    kind: str | None = None
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.1
    segment_length: int = 24
    loss: str | None = None
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

        for name in ("hidden_size", "num_layers", "max_windows", "segment_length"):
            check_positive_int(name, getattr(self, name))
        check_probability("dropout", self.dropout)
        # ValueError, each message starting with the field's name: the CLI names the option from it.
        from lstmkit.heads._checks import check_choice
        from lstmkit.heads.config import CELLS
        from lstmkit.heads.forecaster import KINDS

        check_choice("protocol", self.protocol, PROTOCOLS)
        check_choice("split", self.split, SPLITS)
        if self.features is not None:
            check_choice("features", self.features, FEATURES)
        if self.loss is not None:
            check_choice("loss", self.loss, LOSSES)
        if self.kind is not None:
            check_choice("kind", self.kind, (*KINDS, "segment"))
        check_choice("cell", self.cell, tuple(CELLS))
        self._check_protocol_options()
        if self.model_loss == "quantile" and not self.quantiles:
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

    def _check_protocol_options(self) -> None:
        """Refuse an option of the other protocol, and a model the protocol cannot train."""
        ltsf = self.protocol == "ltsf"
        for name, default in (_BACKTEST_ONLY if ltsf else _LTSF_ONLY).items():
            if getattr(self, name) != default:
                other = "backtest" if ltsf else "ltsf"
                raise ValueError(
                    f"{name} applies to --protocol {other}, got {getattr(self, name)!r} with {self.protocol}"
                )
        if self.kind == "segment" and not ltsf:
            raise ValueError("kind 'segment' needs --protocol ltsf (it forecasts every column from its own past)")
        if self.model_kind == "segment":
            from lstmkit.heads._checks import check_choice
            from lstmkit.heads.segment_forecaster import SEGMENT_CELLS

            check_choice("cell", self.cell, SEGMENT_CELLS)
            lookback = self.lookback or LTSF_LOOKBACK
            if lookback % self.segment_length:
                raise ValueError(
                    f"lookback must be a multiple of --segment-length {self.segment_length} (the segment model cuts "
                    f"it into segments), got {lookback}"
                )
            if self.hidden_size % 2:
                raise ValueError(
                    f"hidden_size must be even for the segment model (half position, half channel "
                    f"embedding), got {self.hidden_size}"
                )
            if self.num_layers != 1:
                raise ValueError(
                    f"num_layers must be 1 for the segment model (one recurrent layer), got {self.num_layers}"
                )

    @property
    def model_kind(self) -> str:
        """The forecaster ``kind`` names, or the protocol's own (``segment`` for ltsf, ``direct`` otherwise)."""
        return self.kind or ("segment" if self.protocol == "ltsf" else "direct")

    @property
    def model_loss(self) -> str:
        """The loss ``loss`` names, or the protocol's own (``mse`` for ltsf, ``quantile`` otherwise)."""
        return self.loss or ("mse" if self.protocol == "ltsf" else "quantile")

    @property
    def ltsf_features(self) -> str:
        """The columns an ltsf run forecasts: ``features``, or ``"M"`` (every column)."""
        return self.features or "M"

    @property
    def output_quantiles(self) -> tuple[float, ...]:
        """The quantiles the network outputs, sorted (none for a point loss)."""
        return tuple(sorted(set(self.quantiles))) if self.model_loss == "quantile" else ()


def _check_freq(freq: str) -> None:
    import pandas as pd

    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ValueError(f"freq must be a pandas frequency alias (MS, W-SAT, h, 30min...), got {freq!r}") from None
