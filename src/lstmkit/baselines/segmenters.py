"""Chinese word segmentation baselines that a neural segmenter must beat, and a reference segmenter.

* :class:`MaxMatchSegmenter`: greedy longest dictionary match, forward, backward or both (the
  classic dictionary baseline; with the training words as dictionary it shows what memorising the
  vocabulary alone gives, and it cannot find an out-of-vocabulary word of more than one character).
* :class:`CharCRFSegmenter`: a linear-chain CRF over characters with BMES tags and hand-made
  character n-gram features (Peng, Feng & McCallum 2004; Tseng et al. 2005), trained by
  python-crfsuite: the strong pre-neural baseline.
* :class:`JiebaSegmenter`: jieba's own dictionary and HMM. A *reference*, not a baseline: its
  dictionary was built from other corpora (possibly overlapping the test text) and follows its own
  segmentation standard, so its score is not comparable to a model trained on our split.

Every segmenter has ``segment(text) -> list[str]``, the words in order, which join back to ``text``.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from lstmkit.data.tag_schemes import tags_to_words
from lstmkit.heads._checks import check_choice, check_positive_int

__all__ = [
    "DIRECTIONS",
    "char_class",
    "char_features",
    "MaxMatchSegmenter",
    "CharCRFSegmenter",
    "JiebaSegmenter",
]

DIRECTIONS = ("forward", "backward", "bidirectional")
_BOUNDARY = "<s>"  # stands for the characters before the start and after the end of a sentence


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")


def char_class(char: str) -> str:
    """``"digit"``, ``"latin"``, ``"punct"`` or ``"other"`` (a Han character, mostly); full-width forms
    (``１``, ``Ａ``) count as their ASCII twins, and symbols (``％``, ``+``) as punctuation."""
    if unicodedata.category(char) == "Nd":
        return "digit"
    folded = unicodedata.normalize("NFKC", char)
    if folded.isascii() and folded.isalpha():
        return "latin"
    if unicodedata.category(char)[0] in "PSZ":
        return "punct"
    return "other"


def char_features(chars: Sequence[str], index: int) -> list[str]:
    """CRF features of ``chars[index]``: the characters at offsets -2..2, the four adjacent bigrams
    in that window, and the character classes at -1, 0, 1 alone and together."""

    def at(offset: int) -> str:
        position = index + offset
        return chars[position] if 0 <= position < len(chars) else _BOUNDARY

    features = ["bias"]
    features += [f"c[{k}]={at(k)}" for k in range(-2, 3)]
    features += [f"c[{k}:{k + 1}]={at(k)}{at(k + 1)}" for k in range(-2, 2)]
    classes = [at(k) if at(k) == _BOUNDARY else char_class(at(k)) for k in (-1, 0, 1)]
    features += [f"t[{k}]={name}" for k, name in zip((-1, 0, 1), classes)]
    features.append(f"t[-1:1]={'/'.join(classes)}")
    return features


class MaxMatchSegmenter:
    """Greedy longest match against a word list (``words``; empty strings are ignored).

    ``forward`` takes the longest dictionary word starting at the left, ``backward`` the longest ending
    at the right; a character that starts (ends) no dictionary word is a word of its own.
    ``bidirectional`` runs both and keeps the one with fewer words, then fewer single-character words,
    then the backward one (which errs less on Chinese; Sproat et al. 1996). ``max_word_len`` bounds the
    lookahead (default: the longest dictionary word).
    """

    def __init__(self, words: Iterable[str], direction: str = "forward", max_word_len: int | None = None) -> None:
        check_choice("direction", direction, DIRECTIONS)
        self.words = frozenset(word for word in words if word)
        self.direction = direction
        if max_word_len is None:
            max_word_len = max((len(word) for word in self.words), default=1)
        check_positive_int("max_word_len", max_word_len)
        self.max_word_len = max_word_len

    def segment(self, text: str) -> list[str]:
        _check_text(text)
        if self.direction == "forward":
            return self._forward(text)
        if self.direction == "backward":
            return self._backward(text)
        forward, backward = self._forward(text), self._backward(text)
        if len(forward) != len(backward):
            return min(forward, backward, key=len)

        def singles(words: list[str]) -> int:
            return sum(len(word) == 1 for word in words)

        return forward if singles(forward) < singles(backward) else backward

    def _forward(self, text: str) -> list[str]:
        words, start = [], 0
        while start < len(text):
            size = min(self.max_word_len, len(text) - start)
            while size > 1 and text[start : start + size] not in self.words:
                size -= 1
            words.append(text[start : start + size])
            start += size
        return words

    def _backward(self, text: str) -> list[str]:
        words, end = [], len(text)
        while end > 0:
            size = min(self.max_word_len, end)
            while size > 1 and text[end - size : end] not in self.words:
                size -= 1
            words.append(text[end - size : end])
            end -= size
        return words[::-1]


class CharCRFSegmenter:
    """Character-level CRF segmenter over :func:`char_features`, trained with python-crfsuite (L-BFGS
    with L1 weight ``c1`` and L2 weight ``c2``).

    :meth:`fit` takes ``(chars, tags)`` sentences (``chars`` a string or a sequence of characters, one
    BMES tag per character); :meth:`predict` tags characters, :meth:`segment` returns words.
    """

    def __init__(self) -> None:
        self.model_data: bytes | None = None
        self._tagger = None

    def fit(
        self,
        sentences: Iterable[tuple[Sequence[str], Sequence[str]]],
        c1: float = 0.1,
        c2: float = 0.01,
        max_iterations: int = 100,
    ) -> CharCRFSegmenter:
        import pycrfsuite

        for name, value in (("c1", c1), ("c2", c2)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number >= 0 (a regularisation weight), got {value!r}")
        check_positive_int("max_iterations", max_iterations)
        trainer = pycrfsuite.Trainer(verbose=False)
        count = 0
        for index, (chars, tags) in enumerate(sentences):
            if len(chars) != len(tags) or not chars:
                raise ValueError(
                    f"sentence {index}: tags must have one entry per character and at least one, "
                    f"got {len(chars)} characters and {len(tags)} tags"
                )
            trainer.append([char_features(chars, i) for i in range(len(chars))], list(tags))
            count += 1
        if not count:
            raise ValueError("sentences is empty: the CRF needs at least one tagged sentence")
        trainer.set_params({"c1": float(c1), "c2": float(c2), "max_iterations": max_iterations})
        # crfsuite only writes its model to a file; it is read back once and the file removed.
        with tempfile.TemporaryDirectory(prefix="lstmkit-crf-") as folder:
            path = Path(folder) / "model.crfsuite"
            trainer.train(str(path))
            self.model_data = path.read_bytes()
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open_inmemory(self.model_data)
        return self

    def predict(self, chars: Sequence[str]) -> list[str]:
        """One tag per character of ``chars`` (a string or a sequence of characters)."""
        if self._tagger is None:
            raise ValueError("CharCRFSegmenter is not fitted: call fit(sentences) before predict or segment")
        if not chars:
            return []
        return list(self._tagger.tag([char_features(chars, i) for i in range(len(chars))]))

    def segment(self, text: str) -> list[str]:
        _check_text(text)
        # Read leniently (a tag that cannot continue a word starts one), as every segmenter's tags are.
        return [word for word, _ in tags_to_words(text, self.predict(text), "bmes")]


class JiebaSegmenter:
    """jieba's segmentation (its default dictionary; ``hmm`` finds words outside it): a reference only."""

    def __init__(self, hmm: bool = True) -> None:
        self.hmm = hmm

    def segment(self, text: str) -> list[str]:
        from lstmkit.data.tokenize import load_jieba

        _check_text(text)
        return load_jieba().lcut(text, HMM=self.hmm)
