"""The shared encoder: token ids -> embedding -> an lstmkit recurrent stack."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit import functional as LF
from lstmkit.heads._checks import Lengths, check_tokens
from lstmkit.heads.config import CELLS, EncoderConfig, check_cell
from lstmkit.layers import State

__all__ = ["make_recurrent_layer", "RecurrentEncoder", "SequenceDropout"]


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

    ``extra_input_size > 0`` widens the recurrent input: ``forward`` then takes ``extra (B, T,
    extra_input_size)`` features per step (a tagger's character-bigram embedding), concatenated after
    the token embedding. Such an encoder's ``rnn.weight_ih_l0`` is wider than a plain one's.
    ``config.input_dropout`` then acts on the whole input, token embedding and extra features alike.
    """

    def __init__(self, config: EncoderConfig, extra_input_size: int = 0) -> None:
        super().__init__()
        if not isinstance(extra_input_size, int) or isinstance(extra_input_size, bool) or extra_input_size < 0:
            raise ValueError(f"extra_input_size must be an int >= 0, got {extra_input_size!r}")
        self.config = config
        self.extra_input_size = extra_input_size
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.padding_idx)
        self.rnn = make_recurrent_layer(
            config.cell,
            config.embedding_dim + extra_input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout,
            bidirectional=config.bidirectional,
            recurrent_dropout=config.recurrent_dropout,
            weight_drop=config.weight_drop,
            dropout_kind=config.dropout_kind,
            layer_norm=config.layer_norm,
        )

    @property
    def output_size(self) -> int:
        """Features per step of ``outputs``: ``hidden_size * num_directions``."""
        return self.config.hidden_size * self.config.num_directions

    def forward(
        self,
        tokens: Tensor,
        lengths: Lengths = None,
        state: State | None = None,
        extra: Tensor | None = None,
        perturbation: Tensor | None = None,
    ) -> tuple[Tensor, State]:
        """``perturbation (B, T, embedding_dim)`` is added to the embedded tokens (after embedding
        dropout): adversarial training's step in embedding space (:mod:`lstmkit.functional.adversarial`)."""
        return self.rnn(self.embed(tokens, extra, perturbation), state, lengths=lengths)

    def embed(self, tokens: Tensor, extra: Tensor | None = None, perturbation: Tensor | None = None) -> Tensor:
        """What the recurrent stack reads of ``tokens (B, T)``: ``(B, T, embedding_dim + extra_input_size)``,
        the embedded tokens (plus ``perturbation``) followed by the ``extra`` features, in training with
        ``config.input_dropout``'s elements dropped from the whole."""
        check_tokens(tokens)
        embedded = embed_with_dropout(self.embedding, tokens, self.config.embedding_dropout)
        if perturbation is not None:
            if not isinstance(perturbation, Tensor) or perturbation.shape != embedded.shape:
                given = tuple(perturbation.shape) if isinstance(perturbation, Tensor) else perturbation
                raise ValueError(
                    f"perturbation must be (batch, time, embedding_dim) = {tuple(embedded.shape)}, got {given}"
                )
            embedded = embedded + perturbation
        expected = (*tokens.shape, self.extra_input_size)
        if self.extra_input_size or extra is not None:
            if not isinstance(extra, Tensor) or tuple(extra.shape) != expected:
                given = tuple(extra.shape) if isinstance(extra, Tensor) else extra
                raise ValueError(
                    f"extra must be (batch, time, extra_input_size) = {expected} for this encoder, got {given}"
                )
            embedded = torch.cat([embedded, extra], dim=2)
        return LF.sequence_dropout(
            embedded, self.config.input_dropout, self.config.dropout_kind, self.training, time_dim=1
        )


def embed_with_dropout(embedding: nn.Embedding, tokens: Tensor, p: float) -> Tensor:
    """``embedding(tokens)``, in training with whole words dropped (:func:`lstmkit.functional.embedding_dropout`):
    a dropped word's vector is zero at every position of the batch where it occurs."""
    if not embedding.training or p == 0:
        return embedding(tokens)
    weight = LF.embedding_dropout(embedding.weight, p)
    return F.embedding(tokens, weight, embedding.padding_idx)


class SequenceDropout(nn.Module):
    """Dropout of batch-first sequences ``(B, T, F)``: ``kind`` ``"standard"`` (per element) or ``"locked"``
    (one mask per sequence and feature, shared by all ``T`` steps); see :data:`lstmkit.functional.DROPOUT_KINDS`."""

    def __init__(self, p: float, kind: str = "standard") -> None:
        super().__init__()
        self.p, self.kind = p, kind

    def forward(self, x: Tensor) -> Tensor:
        return LF.sequence_dropout(x, self.p, self.kind, self.training, time_dim=1)

    def extra_repr(self) -> str:
        return f"p={self.p}, kind={self.kind!r}"
