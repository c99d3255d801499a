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

from collections import Counter
from collections.abc import Sequence

from lstmkit.data.tag_schemes import parse_tag, spans_from_tags

__all__ = ["precision_recall_f1", "score_tags", "confusion_labels", "words_of"]

Sentences = Sequence[Sequence[str]]


def precision_recall_f1(gold: Sequence[set], predicted: Sequence[set]) -> dict[str, float]:
    """Micro precision, recall and F1 of predicted items against gold ones, sentence by sentence."""
    hits = sum(len(g & p) for g, p in zip(gold, predicted))
    found, wanted = sum(map(len, predicted)), sum(map(len, gold))
    precision = hits / found if found else 0.0
    recall = hits / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def words_of(tokens: Sequence[str], tags: Sequence[str], scheme: str) -> set[tuple[int, int, str]]:
    """The spans of ``tags`` with the text each covers: ``(start, end, text)``."""
    return {(start, end, "".join(tokens[start:end])) for start, end, _ in spans_from_tags(tags, scheme)}


def _per_tag(gold: Sentences, predicted: Sentences) -> dict[str, dict[str, float]]:
    counts = {name: Counter() for name in sorted({t for tags in [*gold, *predicted] for t in tags})}
    for gold_tags, predicted_tags in zip(gold, predicted):
        for want, got in zip(gold_tags, predicted_tags):
            counts[want]["support"] += 1
            counts[got]["predicted"] += 1
            counts[want]["hits"] += want == got
    report = {}
    for name, count in counts.items():
        precision = count["hits"] / count["predicted"] if count["predicted"] else 0.0
        recall = count["hits"] / count["support"] if count["support"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[name] = {"precision": precision, "recall": recall, "f1": f1, "support": count["support"]}
    return report


def confusion_labels(gold: Sentences, predicted: Sentences, scheme: str) -> tuple[list[str], list[list[int]]]:
    """Label names and the token confusion matrix over them (rows: gold, columns: predicted). The labels
    are the tags' labels without position prefixes (``v``, ``PER``; ``O`` for outside) where the tags
    have labels, else the tags themselves, so joint tags do not make a matrix of hundreds of rows."""

    def label(tag: str) -> str:
        prefix, name = parse_tag(tag, scheme)
        return name or prefix

    labelled = any(parse_tag(tag, scheme)[1] for tags in gold for tag in tags) and scheme != "plain"
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


def score_tags(
    tokens: Sentences, gold: Sentences, predicted: Sentences, scheme: str, characters: bool, train_words: set[str]
) -> dict:
    """The scores of ``predicted`` tags against ``gold`` (see the module docstring); ``train_words`` are
    the words of the training part, for the OOV recall of character data."""
    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted)):
        raise ValueError("predicted: expected one tag per gold tag in every sentence")
    total = sum(map(len, gold))
    scores: dict = {
        "tag_accuracy": sum(w == g for gt, pt in zip(gold, predicted) for w, g in zip(gt, pt)) / max(total, 1)
    }
    gold_spans = [spans_from_tags(tags, scheme) for tags in gold]
    predicted_spans = [spans_from_tags(tags, scheme) for tags in predicted]
    if characters:
        unlabelled = [{(start, end) for start, end, _ in spans} for spans in gold_spans]
        found = [{(start, end) for start, end, _ in spans} for spans in predicted_spans]
        scores |= {f"word_{name}": value for name, value in precision_recall_f1(unlabelled, found).items()}
        oov = [
            {(s, e) for s, e, text in words_of(t, g, scheme) if text not in train_words} for t, g in zip(tokens, gold)
        ]
        scores["oov_recall"] = precision_recall_f1(oov, found)["recall"]
        scores["oov_words"] = sum(map(len, oov))
        if any(label for spans in gold_spans for _, _, label in spans):
            labels = [(parse_tag(w, scheme)[1], parse_tag(g, scheme)[1]) for gt, pt in zip(gold, predicted)
                      for w, g in zip(gt, pt)]  # fmt: skip
            scores["pos_accuracy"] = sum(want == got for want, got in labels) / max(total, 1)
            scores["joint_f1"] = precision_recall_f1(gold_spans, predicted_spans)["f1"]
    elif scheme in ("bio", "bioes"):
        scores |= {f"span_{name}": value for name, value in precision_recall_f1(gold_spans, predicted_spans).items()}
    scores["per_tag"] = _per_tag(gold, predicted)
    return scores
