"""Argument checks of the layers' constructors and forward, with errors that name the argument."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["check_positive_int", "check_probability", "check_lengths"]


def check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_probability(name: str, value) -> None:
    """A dropout-like rate: a number in ``[0, 1)``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")


def check_lengths(lengths, batch: int, steps: int, device, batched: bool) -> Tensor:
    """Validate ``lengths`` (a sequence of ints or a 1-D integer tensor) and return it as int64 on ``device``."""
    if not batched:
        raise ValueError("lengths= needs batched input (time, batch, features); got one unbatched sequence")
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        shape, values = tuple(lengths.shape), lengths.reshape(-1).tolist()
    else:
        if isinstance(lengths, (str, bytes)) or not isinstance(lengths, Iterable):
            raise TypeError(f"lengths must be a sequence of ints or an integer tensor, got {type(lengths).__name__}")
        values = list(lengths)
        # numbers.Integral takes numpy's integers too (a numpy array of lengths iterates as them).
        if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in values):
            raise TypeError(f"lengths must hold integers, got {values!r}")
        shape, values = (len(values),), [int(n) for n in values]
    if len(shape) != 1 or shape[0] != batch:
        raise ValueError(f"lengths must have one entry per sequence ({batch}), got shape {shape}")
    # Checked as Python ints, before any int64 tensor: a value past int64 is out of range, not an overflow.
    low, high = min(values), max(values)
    if low < 1 or high > steps:
        raise ValueError(f"lengths must lie in 1..{steps} (the padded length), got values from {low} to {high}")
    return torch.tensor(values, dtype=torch.int64, device=device)
