"""Adversarial perturbations of embedded sequences (Miyato, Dai & Goodfellow, ICLR 2017).

Adversarial training adds to the loss the loss at ``embedded + r_adv``, where
``r_adv = eps * g / ||g||`` and ``g`` is the gradient of the loss with respect to the embedded
sequence. The norm is taken per sequence over all its real steps and features together (the paper
perturbs a text as one point of ``R^(T*E)``), so every text moves by exactly ``eps`` whatever its
length. Virtual adversarial training takes ``g`` from the KL divergence between the clean
prediction and the prediction at a small random step instead, so it needs no label.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmkit.functional.sequences import step_mask_from_lengths

__all__ = ["sequence_l2_normalize", "adversarial_perturbation"]


def sequence_l2_normalize(x: Tensor, lengths: Tensor) -> Tensor:
    """``x (B, T, E)`` scaled to unit L2 norm per sequence over its first ``lengths[b]`` steps.

    Padded steps (``t >= lengths[b]``) come out zero. A sequence whose real steps are all zero stays
    zero (there is no direction to normalise).
    """
    if x.dim() != 3 or lengths.shape != (x.shape[0],):
        raise ValueError(
            f"x must be (batch, time, features) with lengths (batch,), got x {tuple(x.shape)}, "
            f"lengths {tuple(lengths.shape)}"
        )
    real = step_mask_from_lengths(lengths.to(x.device), x.shape[1]).transpose(0, 1).unsqueeze(2)
    x = x * real
    # Dividing by the largest entry first keeps the squares of tiny gradients from underflowing.
    scale = x.abs().flatten(1).amax(dim=1).clamp_min(torch.finfo(x.dtype).tiny)
    x = x / scale[:, None, None]
    norm = x.flatten(1).norm(dim=1)
    return x / norm.clamp_min(torch.finfo(x.dtype).tiny)[:, None, None]


def adversarial_perturbation(gradient: Tensor, lengths: Tensor, eps: float) -> Tensor:
    """``r_adv (B, T, E) = eps * g / ||g||``, the norm per sequence over its real steps (padding: zero).

    ``gradient (B, T, E)``: of the loss with respect to the embedded sequence; ``lengths (B,)``. The
    result is detached: the perturbation is a constant of the adversarial loss, as in the paper.
    """
    if not eps >= 0:
        raise ValueError(f"eps must be a number >= 0, got {eps}")
    return eps * sequence_l2_normalize(gradient.detach(), lengths)
