"""Figures of a training run: learning curves per epoch, and the confusion matrix of a classifier."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from lstmkit.plots.canvas import drawing, save, subplots
from lstmkit.plots.fonts import readable_labels

__all__ = ["plot_learning_curves", "plot_confusion_matrix"]

# Prefixes and suffixes that name a split, not a metric: "train_loss" and "val_loss" share the "loss" panel.
_SPLIT_WORDS = {"train", "training", "val", "valid", "validation", "test", "eval"}

# y-axis labels, with units, of the metric families lstmkit's objectives report; others show their name.
_AXIS_LABELS = {
    "loss": "loss (training objective, lower is better)",
    "accuracy": "accuracy (fraction correct)",
    "macro_f1": "macro F1 (0 to 1)",
    "perplexity": "perplexity (per target token)",
    "bpc": "bits per character",
    "mae": "MAE of the point forecast (scaled units)",
}


def _metric_family(key: str) -> str:
    """``"train_loss"``, ``"val/loss"``, ``"loss_val"`` -> ``"loss"``; ``"val_macro_f1"`` -> ``"macro_f1"``."""
    words = [word for word in re.split(r"[_/.\s-]+", key.lower()) if word]
    kept = [word for word in words if word not in _SPLIT_WORDS]
    family = "_".join(kept or words)
    return "accuracy" if family == "acc" else family


def plot_learning_curves(
    history: Mapping[str, Sequence[float]], path: str | Path, title: str = "Learning curves"
) -> Path:
    """Write per-epoch curves as a PNG: one panel per metric family, x = epoch (1-based, whole numbers).

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
    epochs = max(len(values) for series in families.values() for _, values in series)
    with drawing([title]):
        figure, panels = subplots(1, len(families), figsize=(5 * len(families), 4), squeeze=False)
        for axes, (family, series) in zip(panels[0], families.items()):
            for key, values in series:
                axes.plot(
                    np.arange(1, len(values) + 1), np.asarray(values, dtype=float), marker="o", markersize=3, label=key
                )
            # Half an epoch of margin each side, and only whole epochs as ticks: one epoch is tick "1".
            axes.set_xlim(0.5, epochs + 0.5)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            axes.set_xlabel("epoch")
            axes.set_ylabel(_AXIS_LABELS.get(family, family))
            axes.grid(alpha=0.3)
            axes.legend()
        figure.suptitle(title)
        return save(figure, path)


def plot_confusion_matrix(matrix, labels: Sequence[str], path: str | Path, title: str = "Confusion matrix") -> Path:
    """Write ``matrix`` (rows = true, columns = predicted) as a PNG heat map with the counts written in."""
    counts = np.asarray(matrix)
    labels = list(labels)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix must be {len(labels)}x{len(labels)} to match labels, got shape {counts.shape}")
    size = max(4.0, 0.6 * len(labels) + 2.0)
    with drawing([*labels, title]):
        figure, axes = subplots(figsize=(size, size))
        image = axes.imshow(counts, cmap="Blues")
        figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="examples")
        shown = readable_labels(labels)
        axes.set_xticks(range(len(labels)), shown, rotation=45, ha="right")
        axes.set_yticks(range(len(labels)), shown)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title(title)
        threshold = counts.max() / 2 if counts.size else 0
        for row in range(counts.shape[0]):
            for column in range(counts.shape[1]):
                value = counts[row, column]
                colour = "white" if value > threshold else "black"
                axes.text(column, row, f"{value:g}", ha="center", va="center", color=colour)
        return save(figure, path)
