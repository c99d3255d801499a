"""The configuration of a translation run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lstmkit.errors import DataError
from lstmkit.heads.seq2seq import ATTENTIONS, Seq2SeqConfig
from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["TranslateConfig", "TOKENIZER_CHOICES"]

TOKENIZER_CHOICES = ("auto", "char", "word", "subword", "jieba")


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
        if self.attention not in ATTENTIONS:
            raise DataError(f"--attention must be one of {', '.join(ATTENTIONS)}, got {self.attention!r}")
        for name in ("source_tokenizer", "target_tokenizer"):
            if getattr(self, name) not in TOKENIZER_CHOICES:
                raise DataError(f"{name} must be one of {', '.join(TOKENIZER_CHOICES)}, got {getattr(self, name)!r}")
        if self.max_pair_tokens < 1:
            raise DataError(f"--max-pair-tokens must be at least 1, got {self.max_pair_tokens}")
        if self.beam_size < 1:
            raise DataError(f"--beam must be at least 1, got {self.beam_size}")

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
