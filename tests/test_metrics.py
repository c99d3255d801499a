"""Classification metrics and the plots written to a run directory."""

import json
import math

import numpy as np
import pytest

from lstmkit import metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

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


def _assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_MAGIC


def test_plot_confusion_matrix_writes_png(tmp_path):
    matrix = metrics.confusion_matrix(Y_TRUE, Y_PRED, 3)
    path = metrics.plot_confusion_matrix(matrix, ["neg", "neu", "pos"], tmp_path / "sub" / "cm.png", "test")
    assert path == tmp_path / "sub" / "cm.png"
    _assert_png(path)


def test_plot_confusion_matrix_survives_non_ascii_labels(tmp_path):
    path = metrics.plot_confusion_matrix([[3, 1], [0, 4]], ["正面", "négatif"], tmp_path / "cm.png", "混淆矩阵")
    _assert_png(path)


def test_plot_confusion_matrix_checks_shape(tmp_path):
    with pytest.raises(ValueError, match="matrix must be 3x3"):
        metrics.plot_confusion_matrix([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "cm.png")


def test_plot_learning_curves_writes_png(tmp_path):
    history = {
        "train_loss": [1.0, 0.6, 0.4],
        "val_loss": [1.1, 0.8, 0.7],
        "train_accuracy": [0.5, 0.7, 0.8],
        "val_accuracy": [0.5, 0.65, math.nan],
    }
    path = metrics.plot_learning_curves(history, tmp_path / "curves.png", "run")
    _assert_png(path)


def test_learning_curve_families_group_splits():
    assert metrics._metric_family("train_loss") == metrics._metric_family("val/loss") == "loss"
    assert metrics._metric_family("val_acc") == metrics._metric_family("train_accuracy") == "accuracy"
    assert metrics._metric_family("val_macro_f1") == "macro_f1"


def test_plot_learning_curves_rejects_empty_history(tmp_path):
    with pytest.raises(ValueError, match="no values to plot"):
        metrics.plot_learning_curves({"train_loss": []}, tmp_path / "curves.png")
