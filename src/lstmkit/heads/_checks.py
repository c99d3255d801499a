"""Argument checks shared by the heads: each error names the argument, the expected and the received value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

Lengths = Tensor | Sequence[int] | None


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_probability(name: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")


def check_3d(name: str, x: Tensor) -> tuple[int, int]:
    """Return ``(B, T)`` of a batch-first ``x (B, T, F)``."""
    if not isinstance(x, Tensor) or x.dim() != 3:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be 3-D (batch, time, features), got {shape}")
    return x.shape[0], x.shape[1]


def check_tokens(tokens: Tensor) -> None:
    if not isinstance(tokens, Tensor) or tokens.dim() != 2:
        shape = tuple(tokens.shape) if isinstance(tokens, Tensor) else type(tokens).__name__
        raise ValueError(f"tokens must be a 2-D (batch, time) tensor of token ids, got {shape}")
    if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
        raise TypeError(f"tokens must hold integer token ids, got dtype {tokens.dtype}")


def as_lengths(lengths: Lengths, batch: int, steps: int, device: torch.device, min_length: int = 1) -> Tensor:
    """``lengths`` checked to lie in ``min_length..steps``, as int64 on ``device``; ``None`` means all ``steps``."""
    if lengths is None:
        return torch.full((batch,), steps, dtype=torch.int64, device=device)
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if tuple(lengths.shape) != (batch,):
        raise ValueError(f"lengths must have one entry per sequence ({batch},), got shape {tuple(lengths.shape)}")
    lengths = lengths.to(device=device, dtype=torch.int64)
    # torch.export cannot branch on values: an exported program leaves the range to its caller.
    if batch and not torch.compiler.is_exporting() and (int(lengths.min()) < min_length or int(lengths.max()) > steps):
        raise ValueError(
            f"lengths must lie in {min_length}..{steps} (the padded length), "
            f"got values from {int(lengths.min())} to {int(lengths.max())}"
        )
    return lengths
