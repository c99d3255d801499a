"""Heat maps over the tokens of a text: a translation's attention, a recurrent layer's gates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lstmkit.plots.canvas import drawing, save, subplots
from lstmkit.plots.fonts import readable_labels

__all__ = ["plot_attention", "UnitHeatmap", "plot_unit_heatmaps"]


def plot_attention(
    weights, source_tokens: Sequence[str], target_tokens: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Heat map of the attention ``weights (len(target_tokens), len(source_tokens))`` as a PNG.

    Each row is one output token's weights over the source tokens (they sum to 1).
    """
    matrix = np.asarray(weights, dtype=float)
    height, width = matrix.shape
    with drawing([*source_tokens, *target_tokens, title]):
        figure, axes = subplots(figsize=(max(4.0, 0.45 * width + 2), max(3.0, 0.4 * height + 1.5)))
        image = axes.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        axes.set_xticks(range(width), readable_labels(source_tokens), rotation=60, ha="right")
        axes.set_yticks(range(height), readable_labels(target_tokens))
        axes.set_xlabel("source token")
        axes.set_ylabel("output token")
        if title:
            axes.set_title(title)
        figure.colorbar(image, ax=axes, fraction=0.04, label="attention weight")
        return save(figure, path)


class UnitHeatmap(NamedTuple):
    """One panel of :func:`plot_unit_heatmaps`: ``values (units, tokens)``; a ``gate`` lies in [0, 1]
    (drawn from 0 to 1), anything else is signed (drawn symmetric around 0)."""

    title: str
    values: np.ndarray
    gate: bool


def plot_unit_heatmaps(
    panels: Sequence[UnitHeatmap], tokens: Sequence[str], units: Sequence[int], path: str | Path, title: str
) -> Path:
    """The panels one above the other as a PNG: rows = ``units`` (their indices as labels), columns = ``tokens``."""
    width = max(6.0, 0.32 * len(tokens) + 2.0)
    height = 0.18 * len(units) + 1.2
    with drawing([*tokens, title]):
        figure, axes_column = subplots(len(panels), 1, figsize=(width, height * len(panels)), squeeze=False)
        shown = readable_labels(tokens)
        for axes, panel in zip(axes_column[:, 0], panels):
            limit = float(np.abs(panel.values).max()) or 1.0
            image = axes.imshow(
                panel.values,
                aspect="auto",
                cmap="viridis" if panel.gate else "RdBu_r",
                vmin=0.0 if panel.gate else -limit,
                vmax=1.0 if panel.gate else limit,
                interpolation="nearest",
            )
            figure.colorbar(image, ax=axes, fraction=0.03, pad=0.01, label="gate" if panel.gate else "value")
            axes.set_yticks(range(len(units)), [str(u) for u in units], fontsize=6)
            axes.set_xticks(range(len(tokens)), shown, fontsize=8)
            axes.set_ylabel("unit")
            axes.set_title(panel.title, fontsize=9)
        axes_column[-1, 0].set_xlabel("token")
        figure.suptitle(title)
        return save(figure, path)
