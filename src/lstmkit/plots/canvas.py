"""Figures without pyplot: each a ``Figure`` on its own Agg canvas, built and saved inside
:func:`drawing`, which sets that figure's fonts and leaves the user's matplotlib as it found it.

pyplot would register the figure with the user's backend (a notebook would show it, a server without
a display would need ``matplotlib.use``); a ``Figure`` with a ``FigureCanvasAgg`` needs neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lstmkit.io import atomic_write
from lstmkit.plots.fonts import font_family
from lstmkit.quiet import quiet

__all__ = ["subplots", "drawing", "save"]


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], layout: str = "constrained", **kwargs):
    """``(figure, axes)`` as ``pyplot.subplots`` returns them, on a canvas of the figure's own."""
    figure = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, **kwargs)


@contextmanager
def drawing(texts: Iterable[str] = ()) -> Iterator[None]:
    """The scope to build and save one figure that shows ``texts`` (titles, tick labels) in.

    matplotlib reads ``rcParams`` when it creates a text, and tick labels are created as late as the
    save, so both happen inside: the figure's ``font.family`` gains a CJK font (see
    :func:`~lstmkit.plots.fonts.font_family`) through ``rc_context``, which puts the user's settings
    back on exit. Missing-glyph warnings are silenced, as ``font_family`` has said it once.
    """
    family = font_family(texts, matplotlib.rcParams["font.family"])
    with matplotlib.rc_context({"font.family": family}), quiet(messages=["Glyph .* missing from"]):
        yield


def save(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path`` (atomically) and return the path."""
    return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))
