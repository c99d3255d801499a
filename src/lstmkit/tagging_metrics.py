"""Scores of sequence tagging: word segmentation, labelled spans, per-tag accuracy. Pure functions, no torch.

* :func:`segmentation_scores`: word precision, recall and F1 as the SIGHAN bakeoff scorer defines them
  (Emerson 2005): a predicted word is correct when its character span ``(start, end)`` is a gold
  word's span in the same sentence; with the training vocabulary, also the recall of gold words
  outside it (``oov_recall``) and inside it (``iv_recall``).
* :func:`span_scores`: micro precision/recall/F1 of labelled spans ``(start, end, label)``, overall and
  per label. Over entity chunks this is conlleval's (and seqeval's) entity F1; over words labelled
  with their part of speech (:func:`word_spans`) it is the joint segmentation + POS F1.
* :func:`tag_accuracy` and :func:`per_tag_report`: token-level figures over aligned tag sequences.

A ratio with a zero denominator (no predicted span of a label, no gold OOV word) is reported as 0.0
for precision/recall/F1 and as ``None`` for ``oov_recall``/``iv_recall``, where 0.0 would claim a
failure that never had a chance to happen. Results are plain dicts, ready for ``metrics.json``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = ["word_spans", "segmentation_scores", "span_scores", "tag_accuracy", "per_tag_report"]

Span = tuple[int, int, str]


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision, recall = _ratio(correct, predicted), _ratio(correct, gold)
    f1 = _ratio(2 * correct, predicted + gold)  # = 2PR / (P + R), and 0 when nothing was found
    return {"precision": precision, "recall": recall, "f1": f1}


def _check_pair(gold: Sequence, predicted: Sequence) -> None:
    """The same, non-zero number of sentences on both sides."""
    if len(gold) != len(predicted):
        raise ValueError(
            f"gold and predicted must hold the same number of sentences, got {len(gold)} and {len(predicted)}"
        )
    if not gold:
        raise ValueError("gold is empty: scores need at least one sentence")


def word_spans(words: Sequence[str], labels: Sequence[str] | None = None) -> set[Span]:
    """The character span ``(start, end, label)`` of each word (``end`` exclusive); ``label`` is ``""``
    without ``labels``, else the word's own (e.g. its part of speech)."""
    if labels is not None and len(labels) != len(words):
        raise ValueError(f"labels must have one entry per word ({len(words)}), got {len(labels)}")
    spans, start = set(), 0
    for index, word in enumerate(words):
        if not isinstance(word, str) or not word:
            raise ValueError(f"words[{index}] must be a non-empty string, got {word!r}")
        spans.add((start, start + len(word), "" if labels is None else labels[index]))
        start += len(word)
    return spans


def segmentation_scores(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], train_words: set[str] | None = None
) -> dict:
    """Word precision, recall and F1 of a segmentation, with counts; ``oov_rate``, ``oov_recall`` and
    ``iv_recall`` too when ``train_words`` (the training vocabulary) is given.

    ``gold[i]`` and ``predicted[i]`` are the words of sentence ``i``; both must spell the same characters.
    """
    _check_pair(gold, predicted)
    correct = gold_total = predicted_total = 0
    found: Counter[bool] = Counter()  # correct gold words, by "is out of vocabulary"
    seen: Counter[bool] = Counter()  # all gold words, likewise
    for index, (gold_words, predicted_words) in enumerate(zip(gold, predicted)):
        if "".join(gold_words) != "".join(predicted_words):
            raise ValueError(
                f"sentence {index}: gold and predicted words must spell the same characters, "
                f"got {''.join(gold_words)[:40]!r} and {''.join(predicted_words)[:40]!r}"
            )
        gold_spans, predicted_spans = word_spans(gold_words), word_spans(predicted_words)
        correct += len(gold_spans & predicted_spans)
        gold_total += len(gold_spans)
        predicted_total += len(predicted_spans)
        if train_words is not None:
            for word, span in zip(gold_words, sorted(gold_spans)):
                oov = word not in train_words
                seen[oov] += 1
                found[oov] += span in predicted_spans
    scores = {**_prf(correct, predicted_total, gold_total), "gold_words": gold_total}
    scores.update(predicted_words=predicted_total, correct_words=correct)
    if train_words is not None:
        scores["oov_rate"] = _ratio(seen[True], gold_total)
        scores["oov_recall"] = found[True] / seen[True] if seen[True] else None
        scores["iv_recall"] = found[False] / seen[False] if seen[False] else None
    return scores


def span_scores(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]) -> dict:
    """Micro precision/recall/F1 of labelled spans over all sentences, with counts, and ``per_label``
    ``{label: {precision, recall, f1, support}}`` (``support``: gold spans of the label).

    ``gold[i]`` and ``predicted[i]`` are the spans ``(start, end, label)`` of sentence ``i``; a predicted
    span is correct only when start, end and label all match a gold one.
    """
    _check_pair(gold, predicted)
    counts = {"correct": Counter(), "predicted": Counter(), "gold": Counter()}
    for gold_spans, predicted_spans in zip(gold, predicted):
        gold_set, predicted_set = set(gold_spans), set(predicted_spans)
        for name, spans in (("correct", gold_set & predicted_set), ("predicted", predicted_set), ("gold", gold_set)):
            counts[name].update(label for _, _, label in spans)
    totals = {name: sum(counter.values()) for name, counter in counts.items()}
    labels = sorted(set(counts["gold"]) | set(counts["predicted"]))
    per_label = {
        label: {
            **_prf(counts["correct"][label], counts["predicted"][label], counts["gold"][label]),
            "support": counts["gold"][label],
        }
        for label in labels
    }
    return {**_prf(totals["correct"], totals["predicted"], totals["gold"]), **totals, "per_label": per_label}


def _aligned_pairs(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """``(gold tag, predicted tag)`` of every token; each sentence's two sequences must be equally long."""
    _check_pair(gold, predicted)
    pairs = []
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {index}: predicted must have one tag per gold tag ({len(gold_tags)}), "
                f"got {len(predicted_tags)}"
            )
        pairs.extend(zip(gold_tags, predicted_tags))
    if not pairs:
        raise ValueError("gold holds no tags: accuracy needs at least one token")
    return pairs


def tag_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """The fraction of tokens whose predicted tag equals the gold one."""
    pairs = _aligned_pairs(gold, predicted)
    return sum(g == p for g, p in pairs) / len(pairs)


def per_tag_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, dict]:
    """``{tag: {precision, recall, f1, support}}`` over tokens, for every tag on either side (sorted)."""
    pairs = _aligned_pairs(gold, predicted)
    correct = Counter(g for g, p in pairs if g == p)
    gold_counts, predicted_counts = Counter(g for g, _ in pairs), Counter(p for _, p in pairs)
    return {
        tag: {**_prf(correct[tag], predicted_counts[tag], gold_counts[tag]), "support": gold_counts[tag]}
        for tag in sorted(set(gold_counts) | set(predicted_counts))
    }
