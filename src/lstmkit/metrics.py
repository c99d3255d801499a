"""Classification metrics over label indices (their plots are in :mod:`lstmkit.plots`).

The metric functions are pure: label indices in (lists, NumPy arrays or CPU tensors of shape ``(N,)``),
numbers out. Names follow ``metrics.json`` (lower case: ``accuracy``, ``macro_f1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

__all__ = [
    "accuracy",
    "macro_f1",
    "confusion_matrix",
    "classification_metrics",
]


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both label sequences as 1-D integer arrays of the same, non-zero length."""
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        array = np.asarray(values)
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of label indices, got shape {array.shape}")
        if array.size == 0:
            raise ValueError(f"{name} is empty: metrics need at least one label")
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must hold integer label indices, got dtype {array.dtype}")
        arrays.append(array)
    if len(arrays[0]) != len(arrays[1]):
        raise ValueError(f"y_true and y_pred differ in length: {len(arrays[0])} vs {len(arrays[1])}")
    return arrays[0], arrays[1]


def accuracy(y_true, y_pred) -> float:
    """Fraction of positions where ``y_pred`` equals ``y_true``."""
    true, pred = _check_pair(y_true, y_pred)
    return float(np.mean(true == pred))


def macro_f1(y_true, y_pred) -> float:
    """Unweighted mean of the per-class F1 over every class seen in ``y_true`` or ``y_pred``.

    A class that is never predicted has precision 0/0; it counts as 0 (sklearn's ``zero_division=0``),
    so its F1 is 0 and pulls the mean down rather than raising a warning.
    """
    true, pred = _check_pair(y_true, y_pred)
    return float(f1_score(true, pred, average="macro", zero_division=0))


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts ``(num_classes, num_classes)``: row = true class, column = predicted class."""
    true, pred = _check_pair(y_true, y_pred)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    for name, array in (("y_true", true), ("y_pred", pred)):
        if array.min() < 0 or array.max() >= num_classes:
            raise ValueError(
                f"{name} holds label indices outside [0, {num_classes}): min {array.min()}, max {array.max()}"
            )
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def classification_metrics(y_true, y_pred, labels: Sequence[str]) -> dict:
    """Accuracy, macro F1, the confusion matrix and per-class scores, JSON-ready.

    ``labels[i]`` names class index ``i``. Returns::

        {"accuracy": float, "macro_f1": float, "confusion_matrix": [[int]],  # rows = true class
         "per_class": {label: {"precision": float, "recall": float, "f1": float, "support": int}}}

    ``macro_f1`` averages over the classes seen in ``y_true`` or ``y_pred`` (see :func:`macro_f1`);
    ``per_class`` lists every label, with support 0 for a class absent from ``y_true``.
    """
    labels = list(labels)
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels}")
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    true, pred = _check_pair(y_true, y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=np.arange(len(labels)), zero_division=0
    )
    per_class = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    return {
        "accuracy": accuracy(true, pred),
        "macro_f1": macro_f1(true, pred),
        "confusion_matrix": matrix.tolist(),
        "per_class": per_class,
    }
