"""The dropout variants of AWD-LSTM (Merity et al. 2017), as pure functions of a tensor and a mask.

Each takes an optional boolean ``mask`` (true: kept), drawn with keep probability ``1 − p`` when
omitted, and scales what it keeps by ``1 / (1 − p)`` so the expectation is unchanged. Passing the
mask makes a call deterministic (tests, ``gradcheck``, the same draw on two backends).

* :func:`drop_connect` — DropConnect (Wan et al. 2013) on a weight matrix: every entry its own draw.
  On ``w_hh`` once per forward call this is AWD's *weight drop*: the same dropped recurrent matrix
  serves every time step and every sequence of the batch.
* :func:`locked_dropout` — variational dropout (Gal & Ghahramani 2016): one mask per sequence and
  feature, the same at every time step.
* :func:`embedding_dropout` — drops whole rows of an embedding matrix, so a dropped word is missing
  at every position of the batch where it occurs (Gal & Ghahramani 2016, AWD's ``embedded_dropout``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["DROPOUT_KINDS", "drop_connect", "locked_dropout", "embedding_dropout", "sequence_dropout"]

# "standard": a fresh draw per element and step (torch's); "locked": one draw per sequence and feature.
DROPOUT_KINDS = ("standard", "locked")


def _keep_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    return torch.bernoulli(like.new_full(shape, 1 - p)).bool()


def _masked(x: Tensor, mask: Tensor, p: float) -> Tensor:
    # Multiplying by the scaled mask (rather than indexing) lets the gradient reach x through kept entries only.
    return x * (mask.to(x.dtype) / (1 - p))


def _check_mask(name: str, mask: Tensor, shape: tuple[int, ...]) -> None:
    if mask.dtype != torch.bool or tuple(mask.shape) != shape:
        raise ValueError(f"{name} mask must be a bool tensor of shape {shape}, got {mask.dtype} {tuple(mask.shape)}")


def drop_connect(weight: Tensor, p: float, mask: Tensor | None = None) -> Tensor:
    """``weight ⊙ m / (1 − p)`` with ``m`` one Bernoulli(``1 − p``) draw per entry (``mask``: ``weight``'s shape)."""
    if mask is None:
        mask = _keep_mask(tuple(weight.shape), p, weight)
    _check_mask("drop_connect", mask, tuple(weight.shape))
    return _masked(weight, mask, p)


def locked_dropout(x: Tensor, p: float, mask: Tensor | None = None, *, time_dim: int = 0) -> Tensor:
    """Variational dropout of a sequence batch ``x``, ``(T, B, F)`` (``time_dim=0``) or ``(B, T, F)`` (``1``).

    ``mask (B, F)``: one draw per sequence and feature, broadcast over the ``T`` steps.
    """
    shape = tuple(s for d, s in enumerate(x.shape) if d != time_dim)
    if mask is None:
        mask = _keep_mask(shape, p, x)
    _check_mask("locked_dropout", mask, shape)
    return _masked(x, mask.unsqueeze(time_dim), p)


def embedding_dropout(weight: Tensor, p: float, mask: Tensor | None = None) -> Tensor:
    """An embedding matrix ``(V, E)`` with whole rows dropped: ``mask (V,)``, one draw per word.

    Look the tokens up in the result (``F.embedding``) to drop each dropped word at every occurrence.
    """
    if mask is None:
        mask = _keep_mask((weight.shape[0],), p, weight)
    _check_mask("embedding_dropout", mask, (weight.shape[0],))
    return _masked(weight, mask.unsqueeze(1), p)


def sequence_dropout(x: Tensor, p: float, kind: str, training: bool, *, time_dim: int = 0) -> Tensor:
    """Dropout of a sequence batch of the given ``kind`` (see :data:`DROPOUT_KINDS`); identity when not
    ``training`` or ``p == 0``."""
    if not training or p == 0:
        return x
    if kind == "locked":
        return locked_dropout(x, p, time_dim=time_dim)
    return torch.nn.functional.dropout(x, p, True)
