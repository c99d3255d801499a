"""One side of a translation pair: its tokenizer and vocabulary, and how its tokens join back into text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmkit.data import SubwordTokenizer, Vocab, make_tokenizer
from lstmkit.data.tokenize import tokenizer_from_config
from lstmkit.errors import RunDirectoryError
from lstmkit.io import load_json, write_json
from lstmkit.tasks.translate.config import TranslateConfig

__all__ = ["SideEncoder", "make_side", "read_sides", "write_sides", "LANGUAGES_WITHOUT_SPACES"]

LANGUAGES_WITHOUT_SPACES = ("zh", "ja")


@dataclass(frozen=True)
class SideEncoder:
    """One side's tokenizer and vocabulary (the target's has BOS/EOS), and how tokens join back."""

    tokenizer: Any
    vocab: Vocab
    language: str

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def encode(self, text: str) -> list[int]:
        return self.vocab.encode(self.tokens(text))

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Tokens back to text: joined without spaces for Chinese, else with spaces before words only."""
        if self.language in LANGUAGES_WITHOUT_SPACES and self.tokenizer.name in ("char", "jieba"):
            return "".join(tokens)
        text = ""
        for token in tokens:
            if token.startswith("##"):
                text += token[2:]
            elif not text or re.fullmatch(r"[.,!?;:)\]}%'’”]", token) or text[-1] in "([{¿¡“$":
                text += token
            else:
                text += " " + token
        return text

    @property
    def lowercases(self) -> bool:
        return self.tokenizer.name == "subword" or bool(getattr(self.tokenizer, "lowercase", False))

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "language": self.language}

    @classmethod
    def from_dict(cls, data: dict) -> SideEncoder:
        return cls(tokenizer_from_config(data["tokenizer"]), Vocab.from_dict(data["vocab"]), data["language"])


def make_side(name: str, language: str, texts: Sequence[str], config: TranslateConfig, target: bool) -> SideEncoder:
    """Tokenizer ``name`` (``auto``: characters for Chinese, words otherwise) and a vocabulary built on ``texts``."""
    if name == "subword":
        tokenizer = SubwordTokenizer.train(texts, config.subword_vocab_size, model="wordpiece")
    else:
        tokenizer = make_tokenizer(name if name != "auto" or language in ("zh", "en") else "word", language)
    vocab = Vocab.build((tokenizer.tokenize(t) for t in texts), min_freq=config.min_freq, bos_eos=target)
    return SideEncoder(tokenizer, vocab, language)


def write_sides(path: Path, source: SideEncoder, target: SideEncoder) -> Path:
    """Both sides in one file (a run's ``vocab.json``)."""
    return write_json(path, {"source": source.to_dict(), "target": target.to_dict()})


def read_sides(path: Path) -> tuple[SideEncoder, SideEncoder]:
    """``(source, target)`` as :func:`write_sides` saved them."""

    def parse(sides: Any) -> tuple[SideEncoder, SideEncoder]:
        if not isinstance(sides, dict) or "source" not in sides or "target" not in sides:
            raise RunDirectoryError(f"{path} has no source and target vocabularies")
        return SideEncoder.from_dict(sides["source"]), SideEncoder.from_dict(sides["target"])

    return load_json(path, parse)
