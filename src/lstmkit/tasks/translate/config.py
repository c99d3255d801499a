"""The configuration of a translation run, saved as its ``config.json``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lstmkit.heads._checks import check_positive_int, check_probability
from lstmkit.heads.seq2seq import ATTENTIONS, Seq2SeqConfig
from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["TranslateConfig", "TOKENIZER_CHOICES", "model_name"]

TOKENIZER_CHOICES = ("auto", "char", "word", "subword", "jieba")


def model_name(attention: str) -> str:
    """What made the scores or the translations, in the words of a table row."""
    return "LSTM encoder-decoder" + (", no attention" if attention == "none" else f", {attention} attention")


@dataclass(frozen=True)
class TranslateConfig(TaskConfig):
    """Everything a translation run needs; saved as ``config.json`` in the run directory.

    ``data`` is a registered data set (``lstmkit data list --task translate``) or a TSV file of
    ``first<TAB>second[<TAB>attribution]`` lines; ``columns`` names the file's two languages
    (``"en,zh"``), guessed from the script when Chinese is one side, else taken as ``src,tgt``.
    Tokenizers ``"auto"``: characters for Chinese, words for other languages; ``"subword"`` trains a
    WordPiece vocabulary of ``subword_vocab_size`` on the training part. Pairs with more than
    ``max_pair_tokens`` tokens on either side are left out of every part; a longer input to
    ``translate`` is cut to its first ``max_pair_tokens`` tokens, with a warning.
    """

    data: str = "bible-en-es"
    src: str = "en"
    tgt: str = "es"
    columns: str | None = None
    source_tokenizer: str = "auto"
    target_tokenizer: str = "auto"
    subword_vocab_size: int = 8000
    min_freq: int = 2
    max_pair_tokens: int = 30
    max_pairs: int | None = None
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    attention: str = "general"
    input_feeding: bool = True
    dropout: float = 0.3  # the value of the measured runs in docs/translate.md
    embedding_dropout: float = 0.1
    label_smoothing: float = 0.1
    beam_size: int = 5
    length_penalty: float = 1.0
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=10, batch_size=64, lr=2e-3, patience=3, monitor="loss", monitor_mode="min", weight_decay=0.0
        )
    )

    def __post_init__(self) -> None:
        for name in ("subword_vocab_size", "min_freq", "embedding_dim", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        for name in ("dropout", "embedding_dropout", "label_smoothing"):
            check_probability(name, getattr(self, name))
        # ValueError, each message starting with the field's name: the CLI names the option from it.
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {', '.join(ATTENTIONS)}, got {self.attention!r}")
        for name in ("source_tokenizer", "target_tokenizer"):
            if getattr(self, name) not in TOKENIZER_CHOICES:
                raise ValueError(f"{name} must be one of {', '.join(TOKENIZER_CHOICES)}, got {getattr(self, name)!r}")
        for name in ("max_pair_tokens", "beam_size"):
            check_positive_int(name, getattr(self, name))
        if self.max_pairs is not None:
            check_positive_int("max_pairs", self.max_pairs)
        if not (math.isfinite(self.length_penalty) and self.length_penalty >= 0):
            raise ValueError(f"length_penalty must be a number >= 0, got {self.length_penalty}")
        for name in ("src", "tgt"):
            if not getattr(self, name).strip():
                raise ValueError(f"{name} must name a language (en, zh, es, ...), got {getattr(self, name)!r}")
        if self.src == self.tgt:
            raise ValueError(f"src and tgt must be two languages, got {self.src!r} for both (--src, --tgt)")
        self.model_config(1, 1)  # the model's own rules (an even hidden size for a bidirectional encoder)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranslateConfig:
        """Read a saved config; runs written before the rename keep their limit as ``max_length``."""
        if "max_length" in data and "max_pair_tokens" not in data:
            data = {**data, "max_pair_tokens": data["max_length"]}
        return super().from_dict(data)

    def model_config(self, source_vocab: int, target_vocab: int) -> Seq2SeqConfig:
        return Seq2SeqConfig(
            source_vocab_size=source_vocab,
            target_vocab_size=target_vocab,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            attention=self.attention,
            input_feeding=self.input_feeding and self.attention != "none",
            dropout=self.dropout,
            embedding_dropout=self.embedding_dropout,
        )
