"""Figures of the diagnostics: the error of each cell against sequence length (the memory study)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from lstmkit.plots.canvas import drawing, save, subplots

__all__ = ["plot_error_by_length"]


def plot_error_by_length(
    curves: Mapping[str, Sequence[tuple[int, float]]],
    path: str | Path,
    *,
    error_name: str,
    baseline: float,
    baseline_label: str,
    threshold: float,
    title: str,
) -> Path:
    """One line per cell through its ``(length, error)`` points (log-scaled lengths), with the trivial
    ``baseline`` (dashed) and the success ``threshold`` (dotted), as a PNG."""
    with drawing([title]):
        figure, axes = subplots(figsize=(6, 4))
        for cell, points in curves.items():
            axes.plot(*zip(*points), marker="o", label=cell)
        axes.axhline(baseline, color="grey", linestyle="--", label=baseline_label)
        axes.axhline(threshold, color="green", linestyle=":", label=f"success < {threshold:g}")
        axes.set_xscale("log")
        axes.set_xlabel("sequence length T (steps)")
        axes.set_ylabel(f"test {error_name}")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
        return save(figure, path)
