"""A segment recurrent forecaster for long horizons (SegRNN, Lin et al. 2023), on lstmkit's layers.

``past (B, L, C) -> forecast (B, H, C)`` (or ``(B, H, C, Q)``, one value per quantile, with ``quantiles``),
every column forecast from its own past by one shared model (channel independence: the C columns are C
series of one batch of ``B * C``):

1. Instance normalisation: subtract each window's last value (``"last"``, SegRNN's default) or its mean
   and divide by its standard deviation (``"revin"``, Kim et al. 2022, without the affine part); the
   forecast is mapped back the same way, so the network only models the shape of what follows.
2. The lookback is cut into ``L / w`` segments of ``w`` steps; a linear layer and a ReLU embed each
   segment into ``hidden_size``; one recurrent layer (``lstmkit.GRU``/``LSTM``) reads the segments.
3. Parallel multi-step decoding: the horizon is ``M = ceil(H / w)`` output segments. Segment ``m`` of
   column ``c`` is one step of the *same* recurrent layer, from the encoder's final state, with input
   ``[position embedding m, channel embedding c]``; a linear layer maps its output to ``w`` values
   (``w * Q`` with quantiles: the window's normalisation is a shift and a positive scale, so it keeps
   their order).
   The M steps do not depend on each other, so they run at once: the cell function is called with the
   inputs ``(1, C, M, ·)`` and the state ``(B, C, 1, ·)`` broadcast against each other, which computes the
   input projection once per (c, m) and the recurrent projection once per series instead of B·C·M times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmkit import functional as LF
from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
from lstmkit.heads.config import _DictConfig
from lstmkit.heads.encoder import make_recurrent_layer

__all__ = ["SegmentForecasterConfig", "SegmentForecaster", "normalise_windows", "denormalise_windows"]

NORMALISATIONS = ("last", "revin", "none")
SEGMENT_CELLS = ("gru", "lstm")


@dataclass(frozen=True)
class SegmentForecasterConfig(_DictConfig):
    """``lookback`` must be a multiple of ``segment_length``; ``horizon`` need not be (the last output
    segment is cut). ``channels`` sizes the channel embedding (``channel_embedding=False``: none, and any
    number of columns is accepted). ``quantiles`` empty: a point forecast ``(B, H, C)``; else
    ``(B, H, C, Q)`` in the order given."""

    lookback: int
    horizon: int
    channels: int
    segment_length: int = 24
    hidden_size: int = 512
    cell: str = "gru"
    dropout: float = 0.5
    normalisation: str = "last"
    channel_embedding: bool = True
    backend: str = "auto"
    quantiles: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantiles", tuple(float(q) for q in self.quantiles))  # JSON gives a list
        if any(not 0 < q < 1 for q in self.quantiles):
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {list(self.quantiles)}")
        for name in ("lookback", "horizon", "channels", "segment_length", "hidden_size"):
            check_positive_int(name, getattr(self, name))
        check_choice("cell", self.cell, SEGMENT_CELLS)
        check_choice("normalisation", self.normalisation, NORMALISATIONS)
        check_probability("dropout", self.dropout)
        if self.lookback % self.segment_length:
            raise ValueError(
                f"lookback must be a multiple of segment_length={self.segment_length}, got {self.lookback}"
            )
        if self.channel_embedding and self.hidden_size % 2:
            raise ValueError(
                f"hidden_size must be even with channel_embedding (half position, half channel), got {self.hidden_size}"
            )

    @property
    def output_segments(self) -> int:
        return math.ceil(self.horizon / self.segment_length)


def normalise_windows(past: Tensor, kind: str) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """``past (B, L, C)`` normalised per window and column, and the ``(shift, scale)`` (each ``(B, 1, C)``)
    that :func:`denormalise_windows` undoes. ``kind``: ``"last"``, ``"revin"`` or ``"none"``."""
    check_choice("normalisation", kind, NORMALISATIONS)
    if kind == "last":
        shift, scale = past[:, -1:], torch.ones_like(past[:, -1:])
    elif kind == "revin":
        shift = past.mean(dim=1, keepdim=True)
        scale = torch.sqrt(past.var(dim=1, keepdim=True, unbiased=False) + 1e-5)  # eps: a flat window
    else:
        shift, scale = torch.zeros_like(past[:, -1:]), torch.ones_like(past[:, -1:])
    return (past - shift) / scale, (shift, scale)


def denormalise_windows(forecast: Tensor, stats: tuple[Tensor, Tensor]) -> Tensor:
    """Undo :func:`normalise_windows` on ``forecast (B, H, C)`` or ``(B, H, C, Q)`` (each quantile alike)."""
    shift, scale = stats
    if forecast.dim() == 4:
        shift, scale = shift.unsqueeze(-1), scale.unsqueeze(-1)
    return forecast * scale + shift


class SegmentForecaster(nn.Module):
    """Segment recurrence with parallel multi-step decoding (see the module doc).

    Submodules: ``segment_embedding`` (``w -> hidden_size``), ``rnn`` (one lstmkit layer, batch-first),
    ``position_embedding`` (``(M, d)``) and ``channel_embedding`` (``(C, d)``) with ``d = hidden_size / 2``
    (or the position alone, ``hidden_size`` wide, without channel embedding), ``head`` (``hidden_size -> w``).
    """

    def __init__(self, config: SegmentForecasterConfig) -> None:
        super().__init__()
        self.config = config
        hidden, width = config.hidden_size, config.segment_length
        self.segment_embedding = nn.Sequential(nn.Linear(width, hidden), nn.ReLU())
        self.rnn = make_recurrent_layer(config.cell, hidden, hidden, batch_first=True, backend=config.backend)
        position_size = hidden // 2 if config.channel_embedding else hidden
        self.position_embedding = nn.Parameter(torch.randn(config.output_segments, position_size))
        self.channel_embedding = (
            nn.Parameter(torch.randn(config.channels, hidden - position_size)) if config.channel_embedding else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(hidden, width * max(1, len(config.quantiles)))

    def _decoder_inputs(self, channels: int) -> Tensor:
        """``(1, C, M, hidden_size)``: position ``m`` beside channel ``c`` (or the position alone)."""
        positions = self.position_embedding.unsqueeze(0).expand(channels, -1, -1)
        if self.channel_embedding is None:
            return positions.unsqueeze(0)
        channel = self.channel_embedding.unsqueeze(1).expand(-1, positions.shape[1], -1)
        return torch.cat([positions, channel], dim=-1).unsqueeze(0)

    def _decode_step(self, inputs: Tensor, state: Tensor | tuple[Tensor, Tensor]) -> Tensor:
        """One step of ``rnn``'s cell with its own parameters, ``inputs`` and ``state`` broadcast (see the
        module doc); returns the outputs ``(B, C, M, hidden_size)``."""
        weights = (self.rnn.weight_ih_l0, self.rnn.weight_hh_l0, self.rnn.bias_ih_l0, self.rnn.bias_hh_l0)
        if self.config.cell == "gru":
            return LF.gru_cell(inputs, state, *weights)
        return LF.lstm_cell(inputs, state, *weights)[0]

    def forward(self, past: Tensor) -> Tensor:
        """``past (B, L, C)`` -> ``forecast (B, H, C)``, or ``(B, H, C, Q)`` with quantiles."""
        c = self.config
        if past.dim() != 3 or past.shape[1] != c.lookback:
            raise ValueError(f"past must be (B, {c.lookback}, C), got {tuple(past.shape)}")
        batch, _, channels = past.shape
        if self.channel_embedding is not None and channels != c.channels:
            raise ValueError(f"past must have {c.channels} columns (channel embedding), got {channels}")
        normalised, stats = normalise_windows(past, c.normalisation)
        segments = normalised.permute(0, 2, 1).reshape(batch * channels, c.lookback // c.segment_length, -1)
        _, state = self.rnn(self.segment_embedding(segments))

        def per_series(s: Tensor) -> Tensor:  # (1, B*C, d) -> (B, C, 1, d), broadcast over the M segments
            return s.reshape(batch, channels, 1, -1)

        state = (per_series(state[0]), per_series(state[1])) if c.cell == "lstm" else per_series(state)
        outputs = self._decode_step(self._decoder_inputs(channels), state)
        outputs = self.head(self.dropout(outputs))  # (B, C, M, w * Q)
        if not c.quantiles:
            values = outputs.reshape(batch, channels, -1)[:, :, : c.horizon]
            return denormalise_windows(values.permute(0, 2, 1), stats)
        # (B, C, M * w, Q): the head's w * Q outputs of a segment are w steps of Q values each
        values = outputs.reshape(batch, channels, -1, len(c.quantiles))[:, :, : c.horizon].permute(0, 2, 1, 3)
        return denormalise_windows(values, stats)
