"""Encoder–decoder translation model over lstmkit's LSTM: context vector or attention, input feeding.

    source ids (B, S) -> embedding -> (Bi)LSTM encoder -> memory (B, S, H), final state
    final state -> bridge -> decoder's initial state
    each target step t:  x_t = [embed(y_{t-1}); h~_{t-1}]            (input feeding, with attention)
                         h_t = LSTM(x_t, state)
                         a_t = softmax(score(h_t, memory)) over real source steps
                         h~_t = tanh(W_c [a_t . memory; h_t])          (h~_t = h_t without attention)
                         logits_t = W_o dropout(h~_t)

``attention="none"`` is the classic fixed-size "context vector" model (Sutskever et al. 2014): the
decoder sees the source only through its initial state. ``"dot"`` and ``"general"`` are Luong et
al.'s (2015) scores, ``"additive"`` is Bahdanau et al.'s (2015) ``v . tanh(W_q h + W_m m)``.

A bidirectional encoder runs ``hidden_size // 2`` units per direction, so the memory is
``hidden_size`` wide for every attention variant; the bridge maps the two directions' final states
(concatenated per layer) to the decoder's through a learned linear layer (tanh for ``h``).

Padding: encoder steps past a source length are never run and get zero attention; decoder outputs
past a target length are computed but never read by :func:`~lstmkit.heads.losses.masked_cross_entropy`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
from lstmkit.heads.config import EncoderConfig, _DictConfig
from lstmkit.heads.encoder import RecurrentEncoder, embed_with_dropout
from lstmkit.heads.pooling import mask_from_lengths
from lstmkit.layers import LSTM

__all__ = [
    "ATTENTIONS",
    "Seq2SeqConfig",
    "DotAttention",
    "GeneralAttention",
    "AdditiveAttention",
    "Bridge",
    "EncodedSource",
    "DecoderState",
    "Seq2Seq",
]

ATTENTIONS = ("none", "dot", "general", "additive")


@dataclasses.dataclass(frozen=True)
class Seq2SeqConfig(_DictConfig):
    """:class:`Seq2Seq` settings. ``hidden_size`` is the decoder's width and the memory's (a
    bidirectional encoder runs ``hidden_size // 2`` per direction). ``input_feeding`` (Luong) feeds the
    previous attentional vector back into the decoder; it needs attention."""

    source_vocab_size: int
    target_vocab_size: int
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    attention: str = "general"
    input_feeding: bool = True
    attention_size: int = 256
    dropout: float = 0.2
    embedding_dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("source_vocab_size", "target_vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("attention_size", self.attention_size)
        check_choice("attention", self.attention, ATTENTIONS)
        for name in ("dropout", "embedding_dropout"):
            check_probability(name, getattr(self, name))
        if self.bidirectional and self.hidden_size % 2:
            raise ValueError(
                f"hidden_size must be even with a bidirectional encoder (half per direction), got {self.hidden_size}"
            )
        if self.input_feeding and self.attention == "none":
            raise ValueError("input_feeding=True needs attention: set attention to dot, general or additive")

    @property
    def encoder_config(self) -> EncoderConfig:
        directions = 2 if self.bidirectional else 1
        return EncoderConfig(
            vocab_size=self.source_vocab_size,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size // directions,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout if self.num_layers > 1 else 0.0,
            embedding_dropout=self.embedding_dropout,
        )


# -- attention scores ------------------------------------------------------------------------------
# Each module turns the memory into keys once per source batch (``keys``) and scores a query
# against them at each step (``scores``): queries (B, H), keys (B, S, K) -> scores (B, S).


class DotAttention(nn.Module):
    """Luong's dot score ``h . m``."""

    def keys(self, memory: Tensor) -> Tensor:
        return memory

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(keys, query.unsqueeze(2)).squeeze(2)


class GeneralAttention(nn.Module):
    """Luong's general score ``h . W m`` (``W m`` computed once per source)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, hidden_size, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        return self.linear(memory)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(keys, query.unsqueeze(2)).squeeze(2)


class AdditiveAttention(nn.Module):
    """Bahdanau's additive score ``v . tanh(W_q h + W_m m)`` (``W_m m`` computed once per source)."""

    def __init__(self, hidden_size: int, attention_size: int) -> None:
        super().__init__()
        self.memory_linear = nn.Linear(hidden_size, attention_size, bias=False)
        self.query_linear = nn.Linear(hidden_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        return self.memory_linear(memory)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        return self.v(torch.tanh(keys + self.query_linear(query).unsqueeze(1))).squeeze(2)


def _make_attention(config: Seq2SeqConfig) -> nn.Module | None:
    if config.attention == "dot":
        return DotAttention()
    if config.attention == "general":
        return GeneralAttention(config.hidden_size)
    if config.attention == "additive":
        return AdditiveAttention(config.hidden_size, config.attention_size)
    return None


class Bridge(nn.Module):
    """Encoder final state ``(L*D, B, H/D)`` -> decoder initial state ``(L, B, H)``.

    The ``D`` directions of each layer are concatenated and mapped by a linear layer (``tanh`` for
    ``h``, none for the cell ``c``, whose range is not bounded).
    """

    def __init__(self, num_layers: int, num_directions: int, hidden_size: int) -> None:
        super().__init__()
        self.num_layers, self.num_directions = num_layers, num_directions
        self.h = nn.Linear(hidden_size, hidden_size)
        self.c = nn.Linear(hidden_size, hidden_size)

    def _merge(self, state: Tensor) -> Tensor:
        _, batch, size = state.shape
        per_layer = state.view(self.num_layers, self.num_directions, batch, size)
        return per_layer.permute(0, 2, 1, 3).reshape(self.num_layers, batch, self.num_directions * size)

    def forward(self, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h, c = state
        return torch.tanh(self.h(self._merge(h))), self.c(self._merge(c))


@dataclass
class EncodedSource:
    """What the decoder reads of a source batch: ``memory (B, S, H)``, attention ``keys (B, S, K)``
    (``None`` without attention), ``mask (B, S)`` true at real steps, the encoder's final state."""

    memory: Tensor
    keys: Tensor | None
    mask: Tensor
    final_state: tuple[Tensor, Tensor]

    def index_select(self, index: Tensor) -> EncodedSource:
        """The rows ``index`` of the batch (beam search repeats each source ``beam`` times)."""
        keys = None if self.keys is None else self.keys.index_select(0, index)
        h, c = self.final_state
        return EncodedSource(
            self.memory.index_select(0, index),
            keys,
            self.mask.index_select(0, index),
            (h.index_select(1, index), c.index_select(1, index)),
        )


@dataclass
class DecoderState:
    """The decoder's recurrent state ``(h, c)``, each ``(L, B, H)``, and the last attentional
    vector ``feed (B, H)`` (input feeding; zeros at the first step)."""

    rnn: tuple[Tensor, Tensor]
    feed: Tensor

    def index_select(self, index: Tensor) -> DecoderState:
        h, c = self.rnn
        return DecoderState((h.index_select(1, index), c.index_select(1, index)), self.feed.index_select(0, index))


class Seq2Seq(nn.Module):
    """The encoder–decoder of the module docstring; ``forward`` is teacher forcing, ``step`` decodes.

    Submodules: ``encoder`` (:class:`RecurrentEncoder`), ``bridge``, ``target_embedding``, ``decoder``
    (an ``lstmkit.LSTM``), ``attention`` (``None`` for ``"none"``), ``combine`` (``W_c``), ``output``.
    """

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config.encoder_config)
        self.bridge = Bridge(config.num_layers, 2 if config.bidirectional else 1, config.hidden_size)
        self.target_embedding = nn.Embedding(config.target_vocab_size, config.embedding_dim, padding_idx=0)
        feed_size = config.hidden_size if config.input_feeding else 0
        self.decoder = LSTM(
            config.embedding_dim + feed_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.attention = _make_attention(config)
        self.combine = nn.Linear(2 * config.hidden_size, config.hidden_size) if self.attention is not None else None
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.target_vocab_size)

    # -- encoder side ----------------------------------------------------------------------------------

    def encode(self, source: Tensor, lengths: Tensor) -> EncodedSource:
        """``source (B, S)`` ids and ``lengths (B,)`` -> :class:`EncodedSource`."""
        memory, final_state = self.encoder(source, lengths)
        mask = mask_from_lengths(torch.as_tensor(lengths, device=source.device), source.shape[1])
        keys = None if self.attention is None else self.attention.keys(memory)
        return EncodedSource(memory, keys, mask, final_state)

    def initial_state(self, encoded: EncodedSource) -> DecoderState:
        h, c = self.bridge(encoded.final_state)
        return DecoderState((h, c), h.new_zeros(h.shape[1], self.config.hidden_size))

    # -- decoder side ----------------------------------------------------------------------------------

    def _embed_targets(self, tokens: Tensor) -> Tensor:
        return embed_with_dropout(self.target_embedding, tokens, self.config.embedding_dropout)

    def _attend(self, outputs: Tensor, encoded: EncodedSource) -> tuple[Tensor, Tensor | None]:
        """Decoder outputs ``(B, T, H)`` -> attentional vectors ``(B, T, H)`` and weights ``(B, T, S)``."""
        if self.attention is None:
            return outputs, None
        batch, steps, size = outputs.shape
        scores = self.attention.scores(outputs.reshape(batch * steps, size), _repeat_rows(encoded.keys, steps)).view(
            batch, steps, -1
        )
        scores = scores.masked_fill(~encoded.mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights, encoded.memory)
        return torch.tanh(self.combine(torch.cat([context, outputs], dim=-1))), weights

    def decode(
        self, inputs: Tensor, encoded: EncodedSource, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """Run the decoder over ``inputs (B, T)`` (the previous tokens) -> ``logits (B, T, V)``, state, weights.

        Without input feeding the recurrence reads only the embeddings, so all ``T`` steps run in one
        call of the LSTM and attention covers them at once; with it, step ``t`` needs ``h~_{t-1}``
        and the steps run one by one.
        """
        embedded = self._embed_targets(inputs)
        if not self.config.input_feeding:
            outputs, rnn_state = self.decoder(embedded, state.rnn)
            attentional, weights = self._attend(outputs, encoded)
            new_state = DecoderState(rnn_state, attentional[:, -1])
        else:
            rnn_state, feed = state.rnn, state.feed
            steps, all_weights = [], []
            for t in range(inputs.shape[1]):
                x = torch.cat([embedded[:, t], feed], dim=-1).unsqueeze(1)
                output, rnn_state = self.decoder(x, rnn_state)
                attentional, weights = self._attend(output, encoded)
                feed = attentional[:, 0]
                steps.append(feed)
                all_weights.append(weights[:, 0])
            attentional, weights = torch.stack(steps, 1), torch.stack(all_weights, 1)
            new_state = DecoderState(rnn_state, feed)
        return self.output(self.dropout(attentional)), new_state, weights

    def forward(self, source: Tensor, source_lengths: Tensor, target_inputs: Tensor) -> Tensor:
        """Teacher forcing: ``source (B, S)``, ``source_lengths (B,)``, ``target_inputs (B, T)`` (BOS +
        the target, shifted right) -> ``logits (B, T, V)`` for the next target token at each step."""
        encoded = self.encode(source, source_lengths)
        logits, _, _ = self.decode(target_inputs, encoded, self.initial_state(encoded))
        return logits

    def step(
        self, tokens: Tensor, encoded: EncodedSource, state: DecoderState
    ) -> tuple[Tensor, DecoderState, Tensor | None]:
        """One decoding step: previous ``tokens (B,)`` -> ``log_probs (B, V)``, new state, weights ``(B, S)``."""
        logits, state, weights = self.decode(tokens.unsqueeze(1), encoded, state)
        return F.log_softmax(logits[:, 0], dim=-1), state, None if weights is None else weights[:, 0]


def _repeat_rows(keys: Tensor, times: int) -> Tensor:
    """``(B, S, K)`` -> ``(B * times, S, K)``, each row repeated ``times`` times in place (a view when 1)."""
    if times == 1:
        return keys
    return keys.unsqueeze(1).expand(-1, times, -1, -1).reshape(-1, *keys.shape[1:])
