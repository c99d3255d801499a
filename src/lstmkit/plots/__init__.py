"""Every PNG lstmkit draws, on matplotlib ``Figure`` objects: no pyplot, no process-wide settings.

A figure is built and saved inside :func:`drawing`, which gives it a CJK font where its texts need one
(:mod:`lstmkit.plots.fonts`) and restores the user's ``rcParams`` afterwards; a notebook's backend and
style are untouched. Each plot function takes plain data (arrays, labels, strings), writes one PNG
atomically and returns its path.
"""

from lstmkit.plots.canvas import drawing, save, subplots
from lstmkit.plots.diagnostics import plot_error_by_length
from lstmkit.plots.fonts import cjk_font, font_family, has_cjk, readable_labels
from lstmkit.plots.series import ForecastWindow, plot_forecasts
from lstmkit.plots.text import UnitHeatmap, plot_attention, plot_unit_heatmaps
from lstmkit.plots.training import plot_confusion_matrix, plot_learning_curves

__all__ = [
    "drawing",
    "save",
    "subplots",
    "cjk_font",
    "font_family",
    "has_cjk",
    "readable_labels",
    "plot_learning_curves",
    "plot_confusion_matrix",
    "plot_attention",
    "UnitHeatmap",
    "plot_unit_heatmaps",
    "ForecastWindow",
    "plot_forecasts",
    "plot_error_by_length",
]
