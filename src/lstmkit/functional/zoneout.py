"""Zoneout (Krueger et al. 2016) of one step: a unit keeps its previous value instead of the new one.

A sequence loop receives ``zoneout`` as a boolean mask ``(T, B, N)`` (training) or a probability ``p``
(evaluation, the expectation); see :mod:`lstmkit.functional` for ``N``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def apply_zoneout(previous: Tensor, new: Tensor, keep: Tensor | float) -> Tensor:
    """Zoneout of one state ``(B, N)``: ``keep ⊙ previous + (1 − keep) ⊙ new``.

    ``keep`` is a boolean mask ``(B, N)`` (true: the unit keeps its previous value; an exact
    selection) or a probability ``p``, which gives the expectation used at evaluation.
    """
    if isinstance(keep, Tensor) and keep.dtype == torch.bool:
        return torch.where(keep, previous, new)
    return keep * previous + (1 - keep) * new


def split_lstm_zoneout(keep: Tensor | float, out_size: int) -> tuple[Tensor | float, Tensor | float]:
    """An LSTM step's zoneout as ``(keep_h, keep_c)``: a mask's first ``out_size`` units are ``h``'s,
    the rest ``c``'s; a probability applies to both."""
    if isinstance(keep, Tensor):
        return tuple(keep.split([out_size, keep.shape[-1] - out_size], -1))
    return keep, keep


def zoneout_per_step(zoneout: Tensor | float | None, steps: int, batch: int, width: int) -> Tensor | float | None:
    """Check a ``zoneout`` argument against ``(T, B, N) = (steps, batch, width)``; ``None`` when it is off.

    A mask must be boolean ``(T, B, N)``; a probability must lie in ``[0, 1)`` (``0`` is no zoneout).
    """
    if zoneout is None:
        return None
    if isinstance(zoneout, Tensor):
        if zoneout.dtype != torch.bool or tuple(zoneout.shape) != (steps, batch, width):
            raise ValueError(
                f"zoneout mask must be a bool tensor of shape (T, B, N) = {(steps, batch, width)}, "
                f"got {zoneout.dtype} {tuple(zoneout.shape)}"
            )
        return zoneout
    if isinstance(zoneout, bool) or not isinstance(zoneout, (int, float)) or not 0 <= zoneout < 1:
        raise ValueError(f"zoneout must be a bool mask or a probability in [0, 1), got {zoneout!r}")
    return float(zoneout) or None


def zoneout_mask(shape: tuple[int, ...], p: float, device) -> Tensor:
    """A bool mask of ``shape``, each entry true with probability ``p`` rounded to a multiple of 2^-15.

    Zoneout's ``(T, B, N)`` masks are the largest random tensors a layer draws, and torch's generator
    costs one draw per ``torch.rand`` entry. Here four entries share one draw: ``random_()`` fills an
    int64 with 63 random bits, cut into four 16-bit lanes whose low 15 bits are uniform (the top lane's
    16th bit is the always-zero sign bit).
    """
    count = math.prod(shape)
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_()
    lanes = words.view(torch.int16)[:count].view(shape)
    return torch.lt(torch.bitwise_and(lanes, 0x7FFF), round(p * 2**15))
