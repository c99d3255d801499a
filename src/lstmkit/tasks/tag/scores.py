"""What a tagging run is scored by, from gold and predicted tag sequences (pure functions).

- every run: ``tag_accuracy`` (share of tokens whose tag is right) and a per-tag report;
- character data (Chinese, BMES): word precision, recall and F1 (a word counts when both its ends
  are right, the SIGHAN bakeoff definition) and the recall of words not seen in training (OOV);
  with POS labels (``pku-pos``) also ``pos_accuracy`` (share of characters whose POS is right) and
  ``joint_f1`` (a word counts when its ends and its POS are right);
- BIO/BIOES data: span (entity) precision, recall and F1, exact spans with their labels, as
  conlleval and seqeval's default count them.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstmkit.data.tag_schemes import parse_tag, spans_from_tags, tags_to_words
from lstmkit.tagging_metrics import per_tag_report, segmentation_scores, span_scores, tag_accuracy

__all__ = ["score_tags", "confusion_labels", "words_in"]

Sentences = Sequence[Sequence[str]]


def words_in(tokens: Sequence[str], tags: Sequence[str], scheme: str) -> list[str]:
    """The words ``tags`` cut ``tokens`` into (the text of each span, in order)."""
    return [word for word, _ in tags_to_words(tokens, tags, scheme)]


def confusion_labels(gold: Sentences, predicted: Sentences, scheme: str) -> tuple[list[str], list[list[int]]]:
    """Label names and the token confusion matrix over them (rows: gold, columns: predicted). The labels
    are the tags' labels without position prefixes (``v``, ``PER``; ``O`` for outside) where the tags
    have labels, else the tags themselves, so joint tags do not make a matrix of hundreds of rows."""

    def label(tag: str) -> str:
        prefix, name = parse_tag(tag, scheme)
        return name or prefix

    labelled = scheme != "plain" and any(parse_tag(tag, scheme)[1] for tags in gold for tag in tags)
    pairs = [
        (label(want), label(got)) if labelled else (want, got)
        for gold_tags, predicted_tags in zip(gold, predicted)
        for want, got in zip(gold_tags, predicted_tags)
    ]
    names = sorted({name for pair in pairs for name in pair})
    index = {name: i for i, name in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for want, got in pairs:
        matrix[index[want]][index[got]] += 1
    return names, matrix


def _labels(sentences: Sentences, scheme: str) -> list[list[str]]:
    return [[parse_tag(tag, scheme)[1] for tag in tags] for tags in sentences]


def score_tags(
    tokens: Sentences, gold: Sentences, predicted: Sentences, scheme: str, characters: bool, train_words: set[str]
) -> dict:
    """The scores of ``predicted`` tags against ``gold`` (see the module docstring; the arithmetic is
    :mod:`lstmkit.tagging_metrics`'); ``train_words`` are the words of the training part, for the OOV
    recall of character data."""
    scores: dict = {"tag_accuracy": tag_accuracy(gold, predicted)}
    gold_spans = [spans_from_tags(tags, scheme) for tags in gold]
    predicted_spans = [spans_from_tags(tags, scheme) for tags in predicted]
    if characters:
        words = [[words_in(t, tags, scheme) for t, tags in zip(tokens, side)] for side in (gold, predicted)]
        segmentation = segmentation_scores(*words, train_words)
        scores |= {f"word_{name}": segmentation[name] for name in ("precision", "recall", "f1")}
        scores |= {name: segmentation[name] for name in ("oov_recall", "iv_recall", "oov_rate")}
        if any(label for spans in gold_spans for _, _, label in spans):
            scores["pos_accuracy"] = tag_accuracy(_labels(gold, scheme), _labels(predicted, scheme))
            scores["joint_f1"] = span_scores(gold_spans, predicted_spans)["f1"]
    elif scheme in ("bio", "bioes"):
        spans = span_scores(gold_spans, predicted_spans)
        scores |= {f"span_{name}": spans[name] for name in ("precision", "recall", "f1")}
        scores["per_label"] = spans["per_label"]
    scores["per_tag"] = per_tag_report(gold, predicted)
    return scores
