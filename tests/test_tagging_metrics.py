"""lstmkit.tagging_metrics: hand-worked examples and properties of segmentation, span and tag scores."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.tagging_metrics import per_tag_report, segmentation_scores, span_scores, tag_accuracy, word_spans


def test_sighan_example_by_hand():
    # Gold 结婚 的 和 尚未 结婚 的 (6 words); the prediction keeps 结婚, 的 and the last 的 (3 of 5).
    gold = [["结婚", "的", "和", "尚未", "结婚", "的"]]
    predicted = [["结婚", "的", "和尚", "未结婚", "的"]]
    scores = segmentation_scores(gold, predicted, train_words={"结婚", "的", "和"})
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 6)
    assert scores["f1"] == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert (scores["gold_words"], scores["predicted_words"], scores["correct_words"]) == (6, 5, 3)
    # 尚未 is the one OOV gold word (missed); the 5 in-vocabulary gold words have 3 found.
    assert scores["oov_rate"] == pytest.approx(1 / 6)
    assert scores["oov_recall"] == 0.0
    assert scores["iv_recall"] == pytest.approx(3 / 5)
    assert "oov_recall" not in segmentation_scores(gold, predicted)


def test_segmentation_without_oov_words_reports_none_not_zero():
    scores = segmentation_scores([["ab", "c"]], [["ab", "c"]], train_words={"ab", "c"})
    assert scores["oov_recall"] is None and scores["iv_recall"] == 1.0 and scores["f1"] == 1.0


def test_segmentation_refuses_different_characters_naming_the_sentence():
    with pytest.raises(ValueError, match=r"sentence 1: gold and predicted words must spell the same characters"):
        segmentation_scores([["a"], ["bc"]], [["a"], ["b", "d"]])
    with pytest.raises(ValueError, match=r"same number of sentences, got 2 and 1"):
        segmentation_scores([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError, match=r"words\[1\] must be a non-empty string, got ''"):
        segmentation_scores([["ab"]], [["ab", ""]])


def test_span_scores_by_hand():
    gold = [{(0, 2, "PER"), (3, 4, "LOC")}, set()]
    predicted = [{(0, 2, "PER"), (3, 4, "ORG")}, {(5, 6, "LOC")}]
    scores = span_scores(gold, predicted)
    assert (scores["correct"], scores["predicted"], scores["gold"]) == (1, 3, 2)
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(0.4)
    assert scores["per_label"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert scores["per_label"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_label"]["ORG"]["support"] == 0


def test_joint_segmentation_and_pos_needs_both_right():
    gold = [word_spans(["我们", "爱", "北京"], ["r", "v", "ns"])]
    predicted = [word_spans(["我们", "爱", "北", "京"], ["r", "n", "ns", "ns"])]
    assert span_scores(gold, predicted)["correct"] == 1  # 我们/r only: 爱 has the wrong tag, 北京 is split


def test_tag_accuracy_and_report_by_hand():
    gold, predicted = [["a", "b"], ["c"]], [["a", "c"], ["c"]]
    assert tag_accuracy(gold, predicted) == pytest.approx(2 / 3)
    report = per_tag_report(gold, predicted)
    assert report["c"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert report["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    with pytest.raises(ValueError, match=r"sentence 1: predicted must have one tag per gold tag \(1\), got 2"):
        tag_accuracy(gold, [["a", "b"], ["c", "c"]])


# -- properties ----------------------------------------------------------------------------------


@st.composite
def two_segmentations(draw):
    """A text and two segmentations of it, as word lists; the text's characters are few, so words repeat."""
    text = draw(st.text(alphabet="abc", min_size=1, max_size=12))
    cuts = [draw(st.sets(st.integers(1, len(text) - 1))) if len(text) > 1 else set() for _ in range(2)]

    def words(bounds):
        edges = [0, *sorted(bounds), len(text)]
        return [text[a:b] for a, b in zip(edges, edges[1:])]

    return words(cuts[0]), words(cuts[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(two_segmentations(), min_size=1, max_size=3), st.sets(st.text(alphabet="abc", min_size=1, max_size=3)))
def test_segmentation_scores_properties(pairs, train_words):
    gold, predicted = [g for g, _ in pairs], [p for _, p in pairs]
    scores = segmentation_scores(gold, predicted, train_words)
    # A gold word is found iff both its ends are predicted boundaries and no predicted boundary lies inside.
    expected = 0
    for gold_words, predicted_words in zip(gold, predicted):
        bounds = {end for _, end, _ in word_spans(predicted_words)} | {0}
        for start, end, _ in word_spans(gold_words):
            expected += start in bounds and end in bounds and not any(start < b < end for b in bounds)
    assert scores["correct_words"] == expected
    swapped = segmentation_scores(predicted, gold)
    assert (swapped["precision"], swapped["recall"], swapped["f1"]) == (
        scores["recall"],
        scores["precision"],
        scores["f1"],
    )
    assert segmentation_scores(gold, gold)["f1"] == 1.0
    # Recall is the OOV and IV recalls weighted by their shares of the gold words.
    oov_share = scores["oov_rate"]
    parts = [(oov_share, scores["oov_recall"]), (1 - oov_share, scores["iv_recall"])]
    assert scores["recall"] == pytest.approx(sum(share * (recall or 0.0) for share, recall in parts))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.sampled_from("xyz"), st.sampled_from("xyz")), max_size=6), min_size=1, max_size=4)
)
def test_tag_accuracy_is_the_support_weighted_recall(sentences):
    gold = [[g for g, _ in sentence] for sentence in sentences]
    predicted = [[p for _, p in sentence] for sentence in sentences]
    if not any(gold):
        with pytest.raises(ValueError, match="gold holds no tags"):
            tag_accuracy(gold, predicted)
        return
    report = per_tag_report(gold, predicted)
    total = sum(row["support"] for row in report.values())
    weighted = sum(row["recall"] * row["support"] for row in report.values()) / total
    assert tag_accuracy(gold, predicted) == pytest.approx(weighted)
    spans = [{(i, i + 1, tag) for i, tag in enumerate(sentence)} for sentence in gold]
    guesses = [{(i, i + 1, tag) for i, tag in enumerate(sentence)} for sentence in predicted]
    # One-token spans: span recall is token accuracy, and the per-label rows agree with the tag report.
    assert span_scores(spans, guesses)["recall"] == pytest.approx(weighted)
    assert span_scores(spans, guesses)["per_label"] == report
