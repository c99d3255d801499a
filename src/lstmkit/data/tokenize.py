"""Tokenizers: text in, a list of token strings out, and a JSON config to rebuild them from.

Every tokenizer follows one protocol (:class:`Tokenizer`): ``tokenize(text) -> list[str]``, a ``name``
and ``to_config() -> dict``; :func:`tokenizer_from_config` rebuilds one from that dict, so a run
directory can store the tokenizer as JSON beside the vocabulary. Text is first normalised with
Unicode NFKC, which folds full-width letters, digits and punctuation (``ＡＢＣ１２３！``) to their
half-width forms, so the same word typed on a Chinese or an English keyboard becomes one token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "JiebaTokenizer",
    "WordTokenizer",
    "SubwordTokenizer",
    "TOKENIZERS",
    "make_tokenizer",
    "tokenizer_from_config",
    "normalize_text",
]

TOKENIZERS = ("char", "jieba", "word", "subword", "auto")
_AUTO = {"zh": "char", "en": "word"}


def normalize_text(text: str) -> str:
    """NFKC-normalise ``text``: full-width forms become half-width, compatibility characters fold."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    return unicodedata.normalize("NFKC", text)


class Tokenizer(Protocol):
    """What every tokenizer offers."""

    name: ClassVar[str]

    def tokenize(self, text: str) -> list[str]: ...

    def to_config(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CharTokenizer:
    """One token per character (the Chinese default); whitespace is dropped unless ``keep_spaces``."""

    keep_spaces: bool = False
    name: ClassVar[str] = "char"

    def tokenize(self, text: str) -> list[str]:
        text = normalize_text(text)
        if self.keep_spaces:
            return list(text)
        return [ch for ch in text if not ch.isspace()]

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "keep_spaces": self.keep_spaces}


def load_jieba():
    """The jieba module, its dictionary loaded; the start-up chatter of that first load ("Building
    prefix dict...") is silenced, and jieba's logger keeps the level its user gave it."""
    import jieba

    from lstmkit.quiet import quiet

    with quiet(["jieba"]):
        jieba.initialize()  # a no-op once loaded
    return jieba


@dataclass(frozen=True)
class JiebaTokenizer:
    """Chinese words segmented by jieba (its default dictionary and HMM for unknown words)."""

    name: ClassVar[str] = "jieba"

    def tokenize(self, text: str) -> list[str]:
        return [word for word in load_jieba().lcut(normalize_text(text)) if not word.isspace()]

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name}


# A word is a run of letters/digits, optionally joined by apostrophes ("don't", "o'clock", "rock'n'roll");
# anything else that is not whitespace is a one-character token, so no text is silently lost.
_WORD_PATTERN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True)
class WordTokenizer:
    """English words, lower-cased: ``"Don't stop!"`` -> ``["don't", "stop", "!"]``.

    Contractions stay one token (curly apostrophes count as straight ones); each punctuation mark
    is its own token.
    """

    lowercase: bool = True
    name: ClassVar[str] = "word"

    def tokenize(self, text: str) -> list[str]:
        text = normalize_text(text).translate(_APOSTROPHES)
        if self.lowercase:
            text = text.lower()
        return _WORD_PATTERN.findall(text)

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "lowercase": self.lowercase}


@dataclass(frozen=True)
class SubwordTokenizer:
    """A Hugging Face ``tokenizers`` BPE or WordPiece model, trained offline with :meth:`train`.

    The whole trained pipeline (NFKC + lower-case normaliser, pre-tokenizer, merges/vocabulary) is
    held as its JSON string, which :meth:`to_config` embeds, so the tokenizer round-trips exactly.
    """

    tokenizer_json: str = field(repr=False)
    name: ClassVar[str] = "subword"
    _tokenizer: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from tokenizers import Tokenizer as HFTokenizer

        try:
            loaded = HFTokenizer.from_str(self.tokenizer_json)
        except Exception as exc:  # tokenizers raises its own Exception type for bad JSON
            raise ValueError(
                f"tokenizer_json: expected a Hugging Face tokenizer JSON string, got an error: {exc}"
            ) from None
        object.__setattr__(self, "_tokenizer", loaded)

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, model: str = "bpe", min_frequency: int = 2
    ) -> SubwordTokenizer:
        """Learn a subword vocabulary of at most ``vocab_size`` pieces from ``texts`` (deterministic).

        ``model`` is ``"bpe"`` or ``"wordpiece"`` (continuation pieces start with ``##``). Characters
        never seen in training become ``"[UNK]"``.
        """
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, normalizers, pre_tokenizers, trainers

        if vocab_size < 2:
            raise ValueError(f"vocab_size: expected at least 2, got {vocab_size}")
        unk = "[UNK]"
        options = {"vocab_size": vocab_size, "min_frequency": min_frequency, "special_tokens": [unk]}
        if model == "bpe":
            hf = HFTokenizer(models.BPE(unk_token=unk))
            trainer = trainers.BpeTrainer(show_progress=False, **options)
        elif model == "wordpiece":
            hf = HFTokenizer(models.WordPiece(unk_token=unk))
            trainer = trainers.WordPieceTrainer(show_progress=False, **options)
        else:
            raise ValueError(f"model: expected 'bpe' or 'wordpiece', got {model!r}")
        hf.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        hf.pre_tokenizer = pre_tokenizers.Whitespace()
        hf.train_from_iterator(texts, trainer=trainer)
        return cls(hf.to_str())

    def tokenize(self, text: str) -> list[str]:
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return self._tokenizer.encode(text).tokens

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name, "tokenizer_json": self.tokenizer_json}


_CLASSES: dict[str, type] = {cls.name: cls for cls in (CharTokenizer, JiebaTokenizer, WordTokenizer, SubwordTokenizer)}


def tokenizer_from_config(config: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from the dict its ``to_config()`` returned."""
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"tokenizer config: expected a dict with a 'name' key, got {config!r:.80}")
    options = dict(config)
    name = options.pop("name")
    if name not in _CLASSES:
        raise ValueError(f"tokenizer config: unknown tokenizer {name!r}, expected one of {sorted(_CLASSES)}")
    try:
        return _CLASSES[name](**options)
    except TypeError as exc:
        raise ValueError(f"tokenizer config for {name!r} has bad options {sorted(options)}: {exc}") from None


def make_tokenizer(
    name: str, language: str, *, texts: Iterable[str] | None = None, vocab_size: int = 8000
) -> Tokenizer:
    """The tokenizer called ``name`` (one of :data:`TOKENIZERS`) for ``language`` ("zh" or "en").

    ``"auto"`` picks characters for Chinese and words for English. ``"subword"`` must learn its
    pieces: pass the training ``texts`` (and ``vocab_size``).
    """
    if name not in TOKENIZERS:
        raise ValueError(f"tokenizer: expected one of {list(TOKENIZERS)}, got {name!r}")
    if name == "auto":
        if language not in _AUTO:
            raise ValueError(f"language: 'auto' tokenizer knows {sorted(_AUTO)}, got {language!r}")
        name = _AUTO[language]
    if name == "subword":
        if texts is None:
            raise ValueError("tokenizer 'subword' must be trained: pass texts=... (the training texts)")
        return SubwordTokenizer.train(texts, vocab_size)
    return _CLASSES[name]()
