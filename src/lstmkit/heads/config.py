"""Frozen config dataclasses of the encoder and heads, with ``to_dict``/``from_dict`` for JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from lstmkit.config_json import from_json
from lstmkit.functional import DROPOUT_KINDS
from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
from lstmkit.heads.adaptive_softmax import check_cutoffs
from lstmkit.heads.pooling import POOLING_MODES
from lstmkit.layers import GRU, LSTM, RNN

__all__ = [
    "CELLS",
    "DECODERS",
    "LM_SOFTMAXES",
    "EncoderConfig",
    "ClassifierConfig",
    "TaggerConfig",
    "CharEncoderConfig",
    "CHAR_ENCODERS",
    "LanguageModelConfig",
]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
DECODERS = ("crf", "softmax")
CHAR_ENCODERS = ("lstm", "cnn")  # how CharWordEncoder reads a word's characters
LM_SOFTMAXES = ("full", "adaptive")  # a language model's output layer (LanguageModelConfig.softmax)

ConfigT = TypeVar("ConfigT", bound="_DictConfig")


def check_cell(cell: str, layer_norm: bool) -> None:
    """Reject an unknown cell name, and layer normalisation on a cell other than the LSTM."""
    check_choice("cell", cell, tuple(CELLS))
    if layer_norm and cell != "lstm":
        raise ValueError(f"layer_norm=True is only implemented for cell='lstm', got cell={cell!r}")


def check_extra_embedding(config: Any, kind: str, size_name: str, dim_name: str) -> None:
    """Check ``config``'s second embedding (``kind``, e.g. character bigrams) beside the tokens': its table
    size ``size_name`` and width ``dim_name`` are both 0 (none) or both positive, and the size exceeds the
    encoder's ``padding_idx``, which the second embedding pads with too."""
    size, dim = getattr(config, size_name), getattr(config, dim_name)
    for name, value in ((size_name, size), (dim_name, dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an int >= 0 (0: no {kind} embedding), got {value!r}")
    if (size > 0) != (dim > 0):
        raise ValueError(
            f"{size_name} and {dim_name} must both be 0 (no {kind} embedding) or both positive, "
            f"got {size_name}={size}, {dim_name}={dim}"
        )
    padding_idx = config.encoder.padding_idx
    if size and padding_idx is not None and padding_idx >= size:
        raise ValueError(
            f"{size_name} must exceed the encoder's padding_idx={padding_idx} (the {kind} "
            f"embedding pads with the same id), got {size}"
        )


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
    and batch, scaled by ``1/(1-p)``); ``input_dropout`` drops elements of the first layer's input (the
    embedded tokens and any extra features, of ``dropout_kind``); ``recurrent_dropout`` is one mask per
    sequence on ``h``;
    ``weight_drop`` is DropConnect on ``W_hh``, one mask per batch (see :class:`lstmkit.LSTM`)."""

    vocab_size: int
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    cell: str = "lstm"
    bidirectional: bool = True
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    input_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    weight_drop: float = 0.0
    dropout_kind: str = "standard"
    layer_norm: bool = False
    padding_idx: int | None = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        for name in ("dropout", "embedding_dropout", "input_dropout", "recurrent_dropout", "weight_drop"):
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

    ``bigram_vocab_size``, ``bigram_dim`` (both 0, or both positive): an embedding of each step's
    character-bigram id, concatenated with the token embedding before the recurrent encoder, as
    :class:`TaggerConfig`'s. ``lexicon_classes``, ``lexicon_dim`` (likewise): an embedding of each step's
    lexicon class id (:mod:`lstmkit.data.lexicons`), concatenated after the bigram's.
    """

    encoder: EncoderConfig
    num_classes: int
    pooling: str = "concat"
    dropout: float = 0.3
    attention_size: int = 64
    ngram_buckets: int = 0
    ngram_orders: tuple[int, ...] = (1, 2, 3)
    bigram_vocab_size: int = 0
    bigram_dim: int = 0
    lexicon_classes: int = 0
    lexicon_dim: int = 0

    def __post_init__(self) -> None:
        check_positive_int("num_classes", self.num_classes)
        check_extra_embedding(self, "bigram", "bigram_vocab_size", "bigram_dim")
        check_extra_embedding(self, "lexicon", "lexicon_classes", "lexicon_dim")
        if self.ngram_buckets < 0:
            raise ValueError(f"ngram_buckets must be 0 (no n-gram branch) or positive, got {self.ngram_buckets}")
        object.__setattr__(self, "ngram_orders", tuple(self.ngram_orders))  # JSON gives a list
        check_choice("pooling", self.pooling, POOLING_MODES)
        check_probability("dropout", self.dropout)
        check_positive_int("attention_size", self.attention_size)


def _bools(name: str, value: Any, length: int) -> tuple[bool, ...]:
    """``value`` (a list, tuple or 1-D tensor/array of bools) as a tuple of ``length`` bools."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) != length or not all(isinstance(v, bool) for v in value):
        text = repr(value)
        raise ValueError(f"{name} must be {length} bools (True = permitted), got {text[:80]}")
    return tuple(value)


@dataclasses.dataclass(frozen=True)
class CharEncoderConfig(_DictConfig):
    """:class:`~lstmkit.heads.char_encoder.CharWordEncoder` settings: each word's characters, embedded in
    ``embedding_dim``, read by ``kind`` ``"lstm"`` (a BiLSTM of ``hidden_size`` per direction, its two final
    states concatenated: Lample et al. 2016, who used 25 and 25) or ``"cnn"`` (``hidden_size`` filters over
    windows of 3 characters, max-pooled over the word: Ma & Hovy 2016). Id ``padding_idx`` pads words."""

    vocab_size: int
    embedding_dim: int = 25
    hidden_size: int = 25
    kind: str = "lstm"
    padding_idx: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "embedding_dim", "hidden_size"):
            check_positive_int(name, getattr(self, name))
        check_choice("kind", self.kind, CHAR_ENCODERS)
        if not isinstance(self.padding_idx, int) or not 0 <= self.padding_idx < self.vocab_size:
            raise ValueError(f"padding_idx must be in 0..{self.vocab_size - 1}, got {self.padding_idx!r}")

    @property
    def output_size(self) -> int:
        """Features of each word's vector: both directions' final states (lstm), or one per filter (cnn)."""
        return 2 * self.hidden_size if self.kind == "lstm" else self.hidden_size


@dataclasses.dataclass(frozen=True)
class TaggerConfig(_DictConfig):
    """:class:`SequenceTagger` settings; ``dropout`` acts on the encoder outputs.

    ``decoder``: ``"crf"`` (a linear-chain :class:`~lstmkit.heads.crf.CRF` over the per-step scores,
    trained by sequence log-likelihood and decoded by Viterbi) or ``"softmax"`` (the ablation:
    independent per-step cross-entropy and argmax). ``allowed_transitions`` (``num_tags`` rows of
    ``num_tags`` bools, ``[i][j]``: may tag ``j`` follow tag ``i``), ``allowed_start`` and ``allowed_end``
    (``num_tags`` bools each) are hard constraints of the CRF (a tag scheme's, e.g. BIO's "I-X only after
    B-X or I-X"); ``None`` permits everything, and the softmax decoder ignores them. Lists, tuples and
    bool tensors are accepted and kept as tuples, which ``config.json`` stores as lists.

    ``bigram_vocab_size``, ``bigram_dim`` (both 0, or both positive): a second embedding of
    character-bigram ids, concatenated with the token embedding before the recurrent encoder (for
    Chinese word segmentation, where the bigram at each character is the strongest single feature).

    ``chars`` (``None``: none): a character-level encoder of each word (:class:`CharEncoderConfig`), its
    vector concatenated after the token (and bigram) embedding; for word data, so that a word the
    vocabulary lacks is still read through its spelling.
    ``dictionary_patterns``, ``dictionary_dim`` (likewise): a third, of each character's dictionary pattern id
    (which dictionary words start, end or pass through it), concatenated after the bigram's.
    """

    encoder: EncoderConfig
    num_tags: int
    dropout: float = 0.3
    decoder: str = "crf"
    allowed_transitions: tuple[tuple[bool, ...], ...] | None = None
    allowed_start: tuple[bool, ...] | None = None
    allowed_end: tuple[bool, ...] | None = None
    bigram_vocab_size: int = 0
    bigram_dim: int = 0
    chars: CharEncoderConfig | None = None
    dictionary_patterns: int = 0
    dictionary_dim: int = 0

    def __post_init__(self) -> None:
        check_positive_int("num_tags", self.num_tags)
        check_probability("dropout", self.dropout)
        check_choice("decoder", self.decoder, DECODERS)
        size = self.num_tags
        if self.allowed_transitions is not None:
            rows = self.allowed_transitions
            rows = rows.tolist() if hasattr(rows, "tolist") else rows
            if not isinstance(rows, (list, tuple)) or len(rows) != size:
                raise ValueError(f"allowed_transitions must be {size} rows of {size} bools, got {str(rows)[:80]}")
            matrix = tuple(_bools(f"allowed_transitions[{i}]", row, size) for i, row in enumerate(rows))
            object.__setattr__(self, "allowed_transitions", matrix)
        for name in ("allowed_start", "allowed_end"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _bools(name, getattr(self, name), size))
        for kind, size_name, dim_name in (
            ("bigram", "bigram_vocab_size", "bigram_dim"),
            ("dictionary", "dictionary_patterns", "dictionary_dim"),
        ):
            check_extra_embedding(self, kind, size_name, dim_name)


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig(_DictConfig):
    """:class:`LanguageModel` settings. The encoder must be unidirectional; ``tie_weights`` reuses the
    embedding matrix as the output matrix (Press & Wolf 2017), which needs ``hidden_size == embedding_dim``.

    ``softmax``: ``"full"`` (one logit per token) or ``"adaptive"`` (:mod:`~lstmkit.heads.adaptive_softmax`,
    exact log-probabilities at a cost that does not grow with the whole vocabulary), the vocabulary cut at
    ``cutoffs`` (ids in order of decreasing frequency; only for ``"adaptive"``). With ``tie_weights`` the
    adaptive shortlist's output rows are the embedding's first rows."""

    encoder: EncoderConfig
    dropout: float = 0.3
    tie_weights: bool = True
    softmax: str = "full"
    cutoffs: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        check_probability("dropout", self.dropout)
        check_choice("softmax", self.softmax, LM_SOFTMAXES)
        object.__setattr__(self, "cutoffs", tuple(self.cutoffs))  # JSON gives a list
        vocab_size = self.encoder.vocab_size
        if self.softmax == "full" and self.cutoffs:
            raise ValueError(f"cutoffs are read only with softmax='adaptive', got cutoffs={self.cutoffs}")
        if self.softmax == "adaptive":
            check_cutoffs(self.cutoffs, vocab_size)
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
