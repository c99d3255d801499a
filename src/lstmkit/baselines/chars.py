"""Count-based character language models, the baselines a character LSTM must beat (bits per character).

* :class:`UnigramModel`: ``P(c)`` from counts, add-one smoothed over the vocabulary.
* :class:`TrigramModel`: Jelinek–Mercer interpolation ``l3 P(c|ab) + l2 P(c|b) + l1 P_add-k(c)`` of
  maximum-likelihood trigram and bigram estimates and an add-k unigram; the weights are chosen on
  held-out text from a fixed grid (:meth:`TrigramModel.tune`).

Both read sequences of integer ids and score ``ids[1:]`` given what precedes them, the same characters
the LSTM is scored on, so the three figures compare directly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

__all__ = ["UnigramModel", "TrigramModel"]

_LAMBDA_GRID = [
    (l3, l2) for l3 in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98) for l2 in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3) if l3 + l2 < 1
]


class UnigramModel:
    def __init__(self, ids: Sequence[int], vocab_size: int, k: float = 1.0) -> None:
        if vocab_size < 1 or k <= 0:
            raise ValueError(f"vocab_size and k must be positive, got {vocab_size} and {k}")
        self.counts = Counter(ids)
        self.total = len(ids)
        self.vocab_size = vocab_size
        self.k = k

    def prob(self, token: int) -> float:
        return (self.counts.get(token, 0) + self.k) / (self.total + self.k * self.vocab_size)

    def bits_per_char(self, ids: Sequence[int]) -> float:
        """Mean ``-log2 P(c)`` over ``ids[1:]``."""
        _check_length(ids)
        return -sum(math.log2(self.prob(c)) for c in ids[1:]) / (len(ids) - 1)


class TrigramModel:
    """Interpolated trigram; ``weights = (l3, l2)`` and ``l1 = 1 - l3 - l2``."""

    def __init__(self, ids: Sequence[int], vocab_size: int, k: float = 0.1) -> None:
        self.unigram = UnigramModel(ids, vocab_size, k)
        self.bigrams = Counter(zip(ids, ids[1:]))
        self.trigrams = Counter(zip(ids, ids[1:], ids[2:]))
        # History counts as histories (followed by something), so the ML estimates sum to one.
        self.bigram_histories = Counter(ids[:-1])
        self.trigram_histories = Counter(zip(ids[:-1], ids[1:-1]))
        self.weights = (0.7, 0.2)

    def prob(self, a: int | None, b: int, c: int) -> float:
        l3, l2 = self.weights
        p = (1 - l3 - l2) * self.unigram.prob(c)
        seen_b = self.bigram_histories.get(b, 0)
        bigram = self.bigrams.get((b, c), 0) / seen_b if seen_b else 0.0
        seen_ab = self.trigram_histories.get((a, b), 0) if a is not None else 0
        trigram = self.trigrams.get((a, b, c), 0) / seen_ab if seen_ab else 0.0
        # An unseen history passes its weight down to the lower orders.
        if not seen_ab:
            l2, l3 = l2 + l3, 0.0
        if not seen_b:
            p, l2 = p + l2 * self.unigram.prob(c), 0.0
        return p + l2 * bigram + l3 * trigram

    def bits_per_char(self, ids: Sequence[int]) -> float:
        """Mean ``-log2 P(c | two previous)`` over ``ids[1:]`` (the second id has one character of history)."""
        _check_length(ids)
        total = 0.0
        for i in range(1, len(ids)):
            total -= math.log2(self.prob(ids[i - 2] if i >= 2 else None, ids[i - 1], ids[i]))
        return total / (len(ids) - 1)

    def tune(self, held_out: Sequence[int]) -> tuple[float, float]:
        """Pick the interpolation weights with the lowest bits per character on ``held_out``."""
        best = None
        for weights in _LAMBDA_GRID:
            self.weights = weights
            bpc = self.bits_per_char(held_out)
            if best is None or bpc < best[0]:
                best = (bpc, weights)
        self.weights = best[1]
        return self.weights


def _check_length(ids: Sequence[int]) -> None:
    if len(ids) < 2:
        raise ValueError(f"need at least 2 characters to score, got {len(ids)}")
