"""Classification metrics over label indices, and the plots a run directory keeps.

The metric functions are pure: label indices in (lists, NumPy arrays or CPU tensors of shape ``(N,)``),
numbers out. Names follow ``metrics.json`` (lower case: ``accuracy``, ``macro_f1``). The plot functions
write one PNG each with matplotlib's Agg backend and return its path.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from lstmkit.io import atomic_write

__all__ = [
    "accuracy",
    "macro_f1",
    "confusion_matrix",
    "classification_metrics",
    "plot_confusion_matrix",
    "plot_learning_curves",
]

# Prefixes and suffixes that name a split, not a metric: "train_loss" and "val_loss" share the "loss" panel.
_SPLIT_WORDS = {"train", "training", "val", "valid", "validation", "test", "eval"}


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


def _pyplot():
    """pyplot on the Agg backend: plots are files, and no display is needed (or available on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: str | Path) -> Path:
    # DejaVu Sans lacks CJK glyphs: such labels draw as boxes with a warning, which is all we promise.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))


def plot_confusion_matrix(matrix, labels: Sequence[str], path: str | Path, title: str = "Confusion matrix") -> Path:
    """Write ``matrix`` (rows = true, columns = predicted) as a PNG heat map with the counts written in."""
    counts = np.asarray(matrix)
    labels = list(labels)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix must be {len(labels)}x{len(labels)} to match labels, got shape {counts.shape}")
    plt = _pyplot()
    size = max(4.0, 0.6 * len(labels) + 2.0)
    figure, axes = plt.subplots(figsize=(size, size))
    try:
        image = axes.imshow(counts, cmap="Blues")
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
        axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        axes.set_yticks(range(len(labels)), labels)
        axes.set_xlabel("predicted")
        axes.set_ylabel("true")
        axes.set_title(title)
        threshold = counts.max() / 2 if counts.size else 0
        for row in range(counts.shape[0]):
            for column in range(counts.shape[1]):
                value = counts[row, column]
                axes.text(
                    column,
                    row,
                    f"{value:g}",
                    ha="center",
                    va="center",
                    color="white" if value > threshold else "black",
                )
        return _save(figure, path)
    finally:
        plt.close(figure)


def _metric_family(key: str) -> str:
    """``"train_loss"``, ``"val/loss"``, ``"loss_val"`` -> ``"loss"``; ``"val_macro_f1"`` -> ``"macro_f1"``."""
    words = [word for word in re.split(r"[_/.\s-]+", key.lower()) if word]
    kept = [word for word in words if word not in _SPLIT_WORDS]
    family = "_".join(kept or words)
    return "accuracy" if family == "acc" else family


def plot_learning_curves(
    history: Mapping[str, Sequence[float]], path: str | Path, title: str = "Learning curves"
) -> Path:
    """Write per-epoch curves as a PNG: one panel per metric family, x = epoch (1-based).

    ``history`` maps a series name to one value per epoch (``{"train_loss": [...], "val_loss": [...],
    "val_accuracy": [...]}``). Series whose names differ only by a split word (train/val/test) share a
    panel, so losses are drawn together and accuracies together. Empty series are skipped.
    """
    families: dict[str, list[tuple[str, Sequence[float]]]] = {}
    for key, values in history.items():
        if len(values):
            families.setdefault(_metric_family(key), []).append((key, values))
    if not families:
        raise ValueError(f"history has no values to plot: keys {sorted(history)} are all empty")
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, panels = plt.subplots(1, len(families), figsize=(5 * len(families), 4), squeeze=False, layout="constrained")
    try:
        for axes, (family, series) in zip(panels[0], families.items()):
            for key, values in series:
                epochs = np.arange(1, len(values) + 1)
                axes.plot(epochs, np.asarray(values, dtype=float), marker="o", markersize=3, label=key)
            axes.set_xlabel("epoch")
            axes.set_ylabel(family)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(alpha=0.3)
            axes.legend()
        figure.suptitle(title)
        return _save(figure, path)
    finally:
        plt.close(figure)
