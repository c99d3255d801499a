"""Cross-entropies that read real positions only (per-step tagging and next-token prediction)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from lstmkit.heads._checks import Lengths, as_lengths, check_3d, check_tokens
from lstmkit.heads.pooling import mask_from_lengths

__all__ = ["masked_cross_entropy", "lm_loss"]


def masked_cross_entropy(logits: Tensor, targets: Tensor, lengths: Lengths) -> Tensor:
    """Mean cross-entropy over real positions only: ``logits (B, T, C)``, ``targets (B, T)`` -> scalar.

    Positions ``t >= lengths[b]`` are never read, so padded targets may hold anything. Lengths may be
    0 (a sequence with no target), but the batch needs at least one real position.
    """
    batch, steps = check_3d("logits", logits)
    if not isinstance(targets, Tensor) or tuple(targets.shape) != (batch, steps):
        shape = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
        raise ValueError(f"targets must have shape (batch, time) = {(batch, steps)}, got {shape}")
    lengths = as_lengths(lengths, batch, steps, logits.device, min_length=0)
    mask = mask_from_lengths(lengths, steps)
    if not bool(mask.any()):
        raise ValueError("masked_cross_entropy needs at least one real position; every length is 0")
    return F.cross_entropy(logits[mask], targets.to(logits.device)[mask])


def lm_loss(logits: Tensor, tokens: Tensor, lengths: Lengths) -> Tensor:
    """Next-token cross-entropy: ``logits[:, t]`` predicts ``tokens[:, t + 1]`` for ``t < lengths - 1``.

    ``logits (B, T, V)``, ``tokens (B, T)`` -> scalar mean over the predicted tokens (in nats; divide
    by ``ln 2`` for bits per character).
    """
    batch, steps = check_3d("logits", logits)
    check_tokens(tokens)
    lengths = as_lengths(lengths, batch, steps, logits.device)
    return masked_cross_entropy(logits[:, :-1], tokens[:, 1:], lengths - 1)
