"""Character bigrams as a recurrent network's second input: each character with the next one, and their
vocabulary (a tagger's and a sentiment run's ``bigrams.json``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lstmkit.data.vocab import Vocab

__all__ = ["BIGRAMS", "BIGRAM_END", "bigrams_of", "build_bigram_vocab"]

BIGRAMS = "bigrams.json"  # a run's character-bigram vocabulary (with bigrams on)
BIGRAM_END = "</s>"  # stands for the character after the last one, in the last character's bigram


def bigrams_of(tokens: Sequence[str]) -> list[str]:
    """Each character's bigram: it and the next character (``</s>`` after the last)."""
    return [first + second for first, second in zip(tokens, [*tokens[1:], BIGRAM_END])]


def build_bigram_vocab(token_lists: Iterable[Sequence[str]], min_freq: int) -> Vocab:
    """The bigrams of ``token_lists`` seen at least ``min_freq`` times; rarer ones read as ``<unk>``, so
    the unknown bigram's vector is learnt from the rare ones and stands for the unseen ones later."""
    return Vocab.build(map(bigrams_of, token_lists), min_freq=min_freq)
