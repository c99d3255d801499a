"""The one CJK font of every figure: found once among the installed fonts, applied figure by figure.

matplotlib's default font (DejaVu Sans) has no Chinese or Japanese glyphs, so such text draws as
boxes. :func:`font_family` appends an installed CJK font to the figure's ``font.family`` (matplotlib
then falls back glyph by glyph); :func:`readable_labels` spells CJK labels by code point when there
is none. The README says how to install one.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["has_cjk", "cjk_font", "font_family", "readable_labels"]

# In order of preference: the families that ship with Linux distributions first, then those of
# macOS and Windows.
_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
)
# File names of those fonts, for a font installed after matplotlib built its font cache.
_CJK_FILES = re.compile(
    r"(wqy|NotoSansCJK|NotoSerifCJK|SourceHan|DroidSansFallback|uming|ukai|simhei|msyh|PingFang|Hiragino)", re.I
)
_INSTALL_HINT = "on Debian/Ubuntu: apt-get install fonts-noto-cjk, or the smaller fonts-wqy-microhei"


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK character or full-width punctuation (which DejaVu Sans lacks)."""
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font that draws Chinese, or ``None``; looked up once a process.

    matplotlib caches its font list on first use; CJK font files installed later are found by file
    name among the system fonts and registered with its font manager (this adds fonts to choose from
    and changes no setting).
    """
    from matplotlib import font_manager

    def known() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in _CJK_FAMILIES if name in installed), None)

    if (name := known()) is not None:
        return name
    for path in font_manager.findSystemFonts():
        if _CJK_FILES.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


@functools.cache  # once per process: a training that draws a figure per epoch warns once
def _warn_no_cjk_font() -> None:
    warnings.warn(
        f"no CJK font found for matplotlib: Chinese text in figures draws as boxes and Chinese tokens "
        f"are labelled by code point; install one ({_INSTALL_HINT})",
        # points at the plot function's caller: here <- font_family <- drawing <- contextlib <- plot_*
        stacklevel=6,
    )


def font_family(texts: Iterable[str], family: Sequence[str]) -> list[str]:
    """``family`` (a ``font.family`` list) followed by the CJK font where one is installed.

    Warns once per process when ``texts`` hold CJK characters and no CJK font is installed.
    """
    font = cjk_font()
    if font is None:
        if any(has_cjk(text) for text in texts):
            _warn_no_cjk_font()
        return list(family)
    return [*family, font]


def readable_labels(labels: Iterable[str]) -> list[str]:
    """``labels`` as they can be drawn: without a CJK font, a label holding CJK characters is spelled
    by code point (``"你好"`` -> ``"U+4F60 U+597D"``), which can be read where boxes cannot."""
    labels = [str(label) for label in labels]
    if cjk_font() is not None:
        return labels
    return [" ".join(f"U+{ord(ch):04X}" for ch in label) if has_cjk(label) else label for label in labels]
