"""The configuration of a forecast run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lstmkit.data.ltsf import SPLITS
from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["ForecastConfig", "LOSSES", "PROTOCOLS", "FEATURES", "PROTOCOL_DEFAULTS", "LTSF_TRAINING"]

LOSSES = ("quantile", "mse", "mae")
PROTOCOLS = ("backtest", "ltsf")
FEATURES = ("M", "S")
LTSF_LOOKBACK = LTSF_HORIZON = 96  # the LTSF papers' usual lookback and shortest horizon
# Options of one protocol only, refused with the other (they would be ignored in silence): field -> default.
# (residual: after the ltsf shift by the last value the naive base it would correct is zero.)
_BACKTEST_ONLY = {"folds": None, "fold_stride": None, "known": (), "log": False, "residual": None}
_LTSF_ONLY = {"features": None, "split": "auto", "segment_length": 24}

# The ltsf protocol trains by the benchmark's recipe of its d = 256 segment GRU row (benchmarks/ltsf_table.py,
# fit_ltsf: Adam, 1e-3 multiplied by 0.8 after each epoch, batch 256, no clipping, at most 6 epochs,
# early stopping on the validation MSE after 2 without gain), so that a run without options reaches it.
LTSF_TRAINING = TrainConfig(
    epochs=6, batch_size=256, optimizer="adam", lr=1e-3, weight_decay=0.0, schedule="exponential", lr_decay=0.8,
    clip_norm=None, patience=2, monitor="mse", monitor_mode="min",
)  # fmt: skip
# The fields whose default depends on the protocol: None in the dataclass, filled in from here when the
# config is made (so config.json keeps what was trained). max_windows 0: every training window.
PROTOCOL_DEFAULTS = {
    "backtest": {
        "kind": "direct", "loss": "quantile", "hidden_size": 64, "dropout": 0.1, "residual": True,
        "max_windows": 2048,
        "train": TrainConfig(
            epochs=40, batch_size=64, lr=3e-3, weight_decay=1e-4, patience=8, monitor="loss", monitor_mode="min"
        ),
    },
    "ltsf": {
        "kind": "segment", "loss": "mse", "features": "M", "hidden_size": 256, "dropout": 0.5, "max_windows": 0,
        "train": LTSF_TRAINING,
    },
}  # fmt: skip


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
    ``max_windows``: training windows drawn per epoch (0: every one).

    ``protocol``: ``"backtest"`` (rolling origins at the end of the series, beside naive, seasonal naive
    and Holt-Winters) or ``"ltsf"`` (the long-horizon protocol of :mod:`lstmkit.data.ltsf`: chronological
    split, every test origin, MSE/MAE on the z-scored values beside repeat-last, seasonal naive, linear and
    DLinear). With ``ltsf``: ``features`` ``"M"`` forecasts every column (targets and covariates) from its
    own past, ``"S"`` the targets alone (``None``: ``"M"``); ``split`` ``"ett"`` cuts 12/4/4 months,
    ``"ratio"`` 70/10/20 %, ``"auto"`` ETT for hourly or 15-minute series of ETT size (20 to 25 months);
    ``lookback``/``horizon`` ``None`` are 96.

    A field left ``None`` takes its protocol's default (:data:`PROTOCOL_DEFAULTS`), filled in when the config
    is made: ``kind`` ``"segment"`` (the segment recurrent model, ``segment_length`` steps per segment) with
    ``ltsf``, ``"direct"`` with ``backtest``; ``loss`` ``"mse"`` (the metric) or ``"quantile"``; ``cell``
    ``"gru"`` for the segment model, ``"lstm"`` otherwise; ``hidden_size`` 256 or 64, ``dropout`` 0.5 or
    0.1, ``max_windows`` every window or 2048, ``train`` :data:`LTSF_TRAINING` (the benchmark's recipe) or
    the backtest's (AdamW, cosine schedule, 3e-3, batch 64, 40 epochs). ``residual`` (backtest only) is
    true by default.
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
    cell: str | None = None
    hidden_size: int | None = None
    num_layers: int = 1
    dropout: float | None = None
    segment_length: int = 24
    loss: str | None = None
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    residual: bool | None = None
    log: bool = False
    max_windows: int | None = None
    baselines: bool = True
    train: TrainConfig | None = None

    def __post_init__(self) -> None:
        for name in ("targets", "covariates", "known", "quantiles"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        # ValueError, each message starting with the field's name: the CLI names the option from it.
        from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
        from lstmkit.heads.config import CELLS
        from lstmkit.heads.forecaster import KINDS

        check_choice("protocol", self.protocol, PROTOCOLS)
        self._check_protocol_options()
        self._fill_protocol_defaults()
        for name in ("hidden_size", "num_layers", "segment_length"):
            check_positive_int(name, getattr(self, name))
        if self.max_windows < 0:
            raise ValueError(f"max_windows must be at least 1 (or 0: every training window), got {self.max_windows}")
        check_probability("dropout", self.dropout)
        check_choice("split", self.split, SPLITS)
        if self.features is not None:
            check_choice("features", self.features, FEATURES)
        if self.loss is not None:
            check_choice("loss", self.loss, LOSSES)
        if self.kind is not None:
            check_choice("kind", self.kind, (*KINDS, "segment"))
        check_choice("cell", self.cell, tuple(CELLS))
        self._check_model()
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
        """The config a run saved; runs written before ``fold_stride`` was named so call it ``step``, and
        ltsf runs written before ``residual`` was refused there saved its ignored ``true``."""
        if "step" in data and "fold_stride" not in data:
            data = {**{k: v for k, v in data.items() if k != "step"}, "fold_stride": data["step"]}
        if data.get("protocol") == "ltsf":
            data = {k: v for k, v in data.items() if k != "residual"}
        return super().from_dict(data)

    def _check_protocol_options(self) -> None:
        """Refuse an option of the other protocol."""
        ltsf = self.protocol == "ltsf"
        for name, default in (_BACKTEST_ONLY if ltsf else _LTSF_ONLY).items():
            if getattr(self, name) != default:
                other = "backtest" if ltsf else "ltsf"
                raise ValueError(
                    f"{name} applies to --protocol {other}, got {getattr(self, name)!r} with {self.protocol}"
                )
        if self.kind == "segment" and not ltsf:
            raise ValueError("kind 'segment' needs --protocol ltsf (it forecasts every column from its own past)")

    def _fill_protocol_defaults(self) -> None:
        """Each field left ``None`` takes its protocol's default (a frozen dataclass: set in place once)."""
        defaults = dict(PROTOCOL_DEFAULTS[self.protocol])
        # the cell follows the model: the benchmark's segment GRU, the task's direct or seq2seq LSTM
        defaults["cell"] = "gru" if (self.kind or defaults["kind"]) == "segment" else "lstm"
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)

    def _check_model(self) -> None:
        """Refuse a segment model the protocol cannot train."""
        if self.kind == "segment":
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

    def windows_per_epoch(self, available: int) -> int:
        """Training windows drawn per epoch out of ``available``: at most ``max_windows`` (0: every one)."""
        return min(available, self.max_windows or available)

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
