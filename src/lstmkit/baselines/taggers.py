"""The most-frequent-tag baseline of part-of-speech tagging (and any per-word labelling).

A word seen in training gets the tag it carried most often there. An unseen word gets the tag most
frequent among the training words *seen only once* (hapax legomena, the best stand-in for unseen
words: Baayen & Sproat 1996) that share its shape, the character classes of its first and last
characters and whether it starts upper case (so ``１９９８年`` falls with ``１２月``, ``1995`` with
other numbers, ``，`` with punctuation, ``Smith`` with capitalised words); a shape without a hapax
falls back to the tag most frequent over all training tokens. Nothing here names a tag set's tags:
the rule learns from the training data which tag numerals or punctuation carry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from lstmkit.baselines.segmenters import char_class

__all__ = ["MostFrequentTagger", "word_shape"]


def word_shape(word: str) -> tuple[str, str, bool]:
    """``(class of the first character, class of the last, first is upper case)`` (:func:`char_class`)."""
    return char_class(word[0]), char_class(word[-1]), word[0].isupper()


def _most_frequent(counts: Counter) -> str:
    return counts.most_common(1)[0][0]  # ties go to the tag seen first


class MostFrequentTagger:
    """Per-word most frequent tag, with the shape rule above for unseen words; :meth:`fit` then :meth:`tag`."""

    def __init__(self) -> None:
        self.word_tags: dict[str, str] = {}
        self.shape_tags: dict[tuple[str, str, bool], str] = {}
        self.default_tag: str | None = None

    def fit(self, sentences: Iterable[Sequence[tuple[str, str]]]) -> MostFrequentTagger:
        """Count tags from sentences of ``(word, tag)`` pairs."""
        counts: dict[str, Counter] = defaultdict(Counter)
        for index, sentence in enumerate(sentences):
            for position, pair in enumerate(sentence):
                if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and pair[0] and isinstance(pair[0], str)):
                    raise ValueError(
                        f"sentence {index}, item {position}: expected a (word, tag) pair with a non-empty word, "
                        f"got {pair!r}"
                    )
                counts[pair[0]][pair[1]] += 1
        if not counts:
            raise ValueError("sentences hold no (word, tag) pair: the tagger needs training data")
        hapax_by_shape: dict[tuple[str, str, bool], Counter] = defaultdict(Counter)
        every_tag: Counter = Counter()
        for word, tags in counts.items():
            every_tag.update(tags)
            if tags.total() == 1:
                hapax_by_shape[word_shape(word)].update(tags)
        self.word_tags = {word: _most_frequent(tags) for word, tags in counts.items()}
        self.shape_tags = {shape: _most_frequent(tags) for shape, tags in hapax_by_shape.items()}
        self.default_tag = _most_frequent(every_tag)
        return self

    def tag(self, words: Sequence[str]) -> list[str]:
        """One tag per word of ``words``."""
        if self.default_tag is None:
            raise ValueError("MostFrequentTagger is not fitted: call fit(sentences) before tag")
        tags = []
        for position, word in enumerate(words):
            if not isinstance(word, str) or not word:
                raise ValueError(f"words[{position}] must be a non-empty string, got {word!r}")
            known = self.word_tags.get(word)
            tags.append(known if known is not None else self.shape_tags.get(word_shape(word), self.default_tag))
        return tags
