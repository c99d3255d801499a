"""lstmkit.tagging_metrics: hand-worked examples and properties of segmentation, span and tag scores."""

import pytest

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
