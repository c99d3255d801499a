"""Checks and repairs of a series' values: missing, infinite and overflowing numbers."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import DataError

__all__ = ["LARGEST", "check_finite", "fill_gaps", "is_number", "rows"]

# Larger magnitudes are refused: scaling squares the values, and past about 1e154 the square is infinite
# in float64 (one value of 1e308 made the whole run's metrics infinite, and NaN in float32).
LARGEST = 1e150


def is_number(value: str | bytes) -> bool:
    """Whether ``float`` reads ``value`` (``"1e3"``, ``b"-0.5"``, ``"nan"``): a label or vector field check."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def rows(indices: np.ndarray, limit: int = 5) -> str:
    """``"rows 3, 7, 9"`` (1-based data rows; the CSV header is not counted), shortened past ``limit``."""
    shown = ", ".join(str(int(i) + 1) for i in indices[:limit])
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return f"row{'s' if len(indices) > 1 else ''} {shown}{more}"


def check_finite(values: np.ndarray, column: str, fill: bool = False) -> np.ndarray:
    """``values (T,)`` with NaN/inf either rejected (naming the rows) or, with ``fill``, interpolated.

    Magnitudes above :data:`LARGEST` are refused either way, naming the rows: they are not gaps.
    """
    with np.errstate(invalid="ignore"):
        huge = np.flatnonzero(np.isfinite(values) & (np.abs(values) > LARGEST))
    if len(huge):
        raise DataError(
            f"column {column!r} has values too large to scale (|x| > {LARGEST:g}) at {rows(huge)}: "
            f"{values[huge[0]]:g} first"
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad) == 0:
        return values
    if not fill:
        raise DataError(f"column {column!r} has missing or infinite values at {rows(bad)}; pass --fill to interpolate")
    if len(bad) == len(values):
        raise DataError(f"column {column!r} has no finite value to interpolate from")
    return fill_gaps(values)


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN/inf in ``values (T,)``; the ends take the nearest finite value."""
    values = np.asarray(values, dtype=np.float64).copy()
    good = np.isfinite(values)
    positions = np.arange(len(values))
    values[~good] = np.interp(positions[~good], positions[good], values[good])
    return values
