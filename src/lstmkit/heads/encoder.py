"""The shared encoder: token ids -> embedding -> an lstmkit recurrent stack."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.heads._checks import Lengths, check_tokens
from lstmkit.heads.config import CELLS, EncoderConfig, check_cell
from lstmkit.layers import State

__all__ = ["make_recurrent_layer", "RecurrentEncoder"]


def make_recurrent_layer(cell: str, input_size: int, hidden_size: int, **kwargs: Any) -> nn.Module:
    """``lstmkit.LSTM``/``GRU``/``RNN`` (tanh) for ``cell`` in ``"lstm"``/``"gru"``/``"rnn"``.

    ``kwargs`` go to the layer's constructor; ``layer_norm`` is accepted for every cell but only
    ``False`` is valid for GRU and RNN.
    """
    check_cell(cell, kwargs.get("layer_norm", False))
    if cell != "lstm":
        kwargs.pop("layer_norm", None)
    if cell == "rnn":
        kwargs.setdefault("nonlinearity", "tanh")
    return CELLS[cell](input_size, hidden_size, **kwargs)


class RecurrentEncoder(nn.Module):
    """Token ids ``(B, T)`` -> embedding -> recurrent stack -> ``outputs (B, T, output_size)``, final state.

    Submodules ``embedding`` (``nn.Embedding``) and ``rnn`` (an lstmkit layer, batch-first) carry the
    parameter names every head shares (``embedding.weight``, ``rnn.weight_ih_l0``, ...). Outputs at
    padded steps are zero; the final state is each sequence's state at its last real step, shaped
    ``(num_layers * D, B, H)`` (a tuple ``(h_n, c_n)`` for an LSTM).
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.padding_idx)
        self.rnn = make_recurrent_layer(
            config.cell,
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout,
            bidirectional=config.bidirectional,
            recurrent_dropout=config.recurrent_dropout,
            layer_norm=config.layer_norm,
        )

    @property
    def output_size(self) -> int:
        """Features per step of ``outputs``: ``hidden_size * num_directions``."""
        return self.config.hidden_size * self.config.num_directions

    def forward(self, tokens: Tensor, lengths: Lengths = None, state: State | None = None) -> tuple[Tensor, State]:
        check_tokens(tokens)
        embedded = self.embedding(tokens)
        p = self.config.embedding_dropout
        if self.training and p > 0:
            keep = torch.bernoulli(embedded.new_full((*tokens.shape, 1), 1 - p))
            embedded = embedded * keep / (1 - p)
        return self.rnn(embedded, state, lengths=lengths)
