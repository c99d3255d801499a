"""Frozen config dataclasses of the encoder and heads, with ``to_dict``/``from_dict`` for JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from lstmkit.config_json import from_json
from lstmkit.functional import DROPOUT_KINDS
from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
from lstmkit.heads.pooling import POOLING_MODES
from lstmkit.layers import GRU, LSTM, RNN

__all__ = ["CELLS", "EncoderConfig", "ClassifierConfig", "TaggerConfig", "LanguageModelConfig"]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}

ConfigT = TypeVar("ConfigT", bound="_DictConfig")


def check_cell(cell: str, layer_norm: bool) -> None:
    """Reject an unknown cell name, and layer normalisation on a cell other than the LSTM."""
    check_choice("cell", cell, tuple(CELLS))
    if layer_norm and cell != "lstm":
        raise ValueError(f"layer_norm=True is only implemented for cell='lstm', got cell={cell!r}")


class _DictConfig:
    """``to_dict``/``from_dict`` for frozen config dataclasses; nested config fields become nested dicts."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[ConfigT], data: Mapping[str, Any]) -> ConfigT:
        """The config ``to_dict`` gave, each value checked against its field's type; an unknown
        field is refused (:func:`~lstmkit.config_json.from_json`)."""
        return from_json(cls, data, ignore_unknown=False)


@dataclasses.dataclass(frozen=True)
class EncoderConfig(_DictConfig):
    """Embedding + recurrent stack. ``dropout`` acts between layers, ``dropout_kind`` ``"standard"`` or
    ``"locked"`` (one mask per sequence shared over time, also for the heads' dropout on per-step
    outputs); ``embedding_dropout`` drops whole words (rows of the embedding matrix, one draw per word
    and batch, scaled by ``1/(1-p)``); ``recurrent_dropout`` is one mask per sequence on ``h``;
    ``weight_drop`` is DropConnect on ``W_hh``, one mask per batch (see :class:`lstmkit.LSTM`)."""

    vocab_size: int
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    cell: str = "lstm"
    bidirectional: bool = True
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    dropout_kind: str = "standard"
    layer_norm: bool = False
    padding_idx: int | None = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        for name in ("dropout", "embedding_dropout", "recurrent_dropout", "weight_drop"):
            check_probability(name, getattr(self, name))
        check_choice("dropout_kind", self.dropout_kind, DROPOUT_KINDS)
        check_cell(self.cell, self.layer_norm)
        if self.padding_idx is not None and not 0 <= self.padding_idx < self.vocab_size:
            raise ValueError(f"padding_idx must be None or in 0..{self.vocab_size - 1}, got {self.padding_idx!r}")

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(_DictConfig):
    """:class:`SequenceClassifier` settings; ``dropout`` acts on the pooled vector.

    ``ngram_buckets > 0`` adds a wide branch beside the recurrent encoder (wide and deep, Cheng et al.
    2016): :class:`~lstmkit.heads.ngrams.NgramBag` maps the hashed token n-grams of ``ngram_orders`` to
    class logits, a linear model of n-gram frequencies trained jointly with the deep part.
    """

    encoder: EncoderConfig
    num_classes: int
    pooling: str = "concat"
    dropout: float = 0.3
    attention_size: int = 64
    ngram_buckets: int = 0
    ngram_orders: tuple[int, ...] = (1, 2, 3)

    def __post_init__(self) -> None:
        check_positive_int("num_classes", self.num_classes)
        if self.ngram_buckets < 0:
            raise ValueError(f"ngram_buckets must be 0 (no n-gram branch) or positive, got {self.ngram_buckets}")
        object.__setattr__(self, "ngram_orders", tuple(self.ngram_orders))  # JSON gives a list
        check_choice("pooling", self.pooling, POOLING_MODES)
        check_probability("dropout", self.dropout)
        check_positive_int("attention_size", self.attention_size)


@dataclasses.dataclass(frozen=True)
class TaggerConfig(_DictConfig):
    """:class:`SequenceTagger` settings; ``dropout`` acts on the encoder outputs."""

    encoder: EncoderConfig
    num_tags: int
    dropout: float = 0.3

    def __post_init__(self) -> None:
        check_positive_int("num_tags", self.num_tags)
        check_probability("dropout", self.dropout)


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig(_DictConfig):
    """:class:`LanguageModel` settings. The encoder must be unidirectional; ``tie_weights`` reuses the
    embedding matrix as the output matrix (Press & Wolf 2017), which needs ``hidden_size == embedding_dim``."""

    encoder: EncoderConfig
    dropout: float = 0.3
    tie_weights: bool = True

    def __post_init__(self) -> None:
        check_probability("dropout", self.dropout)
        if self.encoder.bidirectional:
            raise ValueError(
                "a language model needs a unidirectional encoder (bidirectional=False): "
                "a backward direction would read the very token it has to predict"
            )
        if self.tie_weights and self.encoder.hidden_size != self.encoder.embedding_dim:
            raise ValueError(
                "tie_weights=True needs hidden_size == embedding_dim (the output layer reuses the "
                f"(vocab_size, embedding_dim) embedding), got hidden_size={self.encoder.hidden_size}, "
                f"embedding_dim={self.encoder.embedding_dim}; match them or set tie_weights=False"
            )
