"""Classification metrics over label indices."""

import json

import numpy as np
import pytest

from lstmkit import metrics

# Hand-worked example, three classes:
#   true 0 0 0 1 1 2
#   pred 0 0 1 1 2 2
# class 0: tp 2, fp 0, fn 1 -> p 1, r 2/3, f1 0.8
# class 1: tp 1, fp 1, fn 1 -> p 1/2, r 1/2, f1 1/2
# class 2: tp 1, fp 1, fn 0 -> p 1/2, r 1, f1 2/3
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]


def test_accuracy_by_hand():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    assert metrics.accuracy(np.array([1, 1]), np.array([1, 1])) == 1.0


def test_macro_f1_by_hand():
    assert metrics.macro_f1(Y_TRUE, Y_PRED) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_macro_f1_class_never_predicted_counts_as_zero_without_warning(recwarn):
    # class 1 is never predicted: precision 0/0 -> 0, f1 0; class 0: p 2/3, r 1, f1 0.8.
    assert metrics.macro_f1([0, 0, 1], [0, 0, 0]) == pytest.approx((0.8 + 0.0) / 2)
    assert not recwarn.list


def test_confusion_matrix_rows_are_true_classes():
    matrix = metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=3)
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # A lone true-0 predicted as 2 lands in row 0, column 2; an unused class keeps a zero row.
    assert metrics.confusion_matrix([0], [2], num_classes=4).tolist() == [
        [0, 0, 1, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]


def test_classification_metrics_shape_and_values():
    result = metrics.classification_metrics(Y_TRUE, Y_PRED, ["neg", "neu", "pos"])
    assert set(result) == {"accuracy", "macro_f1", "confusion_matrix", "per_class"}
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert result["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert result["per_class"]["neg"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert result["per_class"]["pos"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert type(result["per_class"]["neu"]["support"]) is int
    assert json.loads(json.dumps(result)) == result


def test_classification_metrics_lists_absent_labels_with_zero_support():
    result = metrics.classification_metrics([0, 1], [0, 1], ["a", "b", "c"])
    assert result["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["macro_f1"] == 1.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([], [], "y_true is empty"),
        ([0, 1], [0], "differ in length"),
        ([[0, 1]], [[0, 1]], "1-D"),
    ],
)
def test_bad_inputs_name_the_problem(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metrics.accuracy(y_true, y_pred)


def test_non_integer_labels_and_out_of_range_indices_are_rejected():
    with pytest.raises(TypeError, match="integer label indices"):
        metrics.macro_f1([0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"y_pred holds label indices outside \[0, 2\)"):
        metrics.confusion_matrix([0, 1], [0, 2], num_classes=2)
    with pytest.raises(ValueError, match="labels must be distinct"):
        metrics.classification_metrics([0, 1], [0, 1], ["a", "a"])
