"""What the kernel bindings share: the batch order, raw pointers, and the whole-sequence GEMMs.

The kernels need the batch longest sequence first, as in a ``PackedSequence``. With the batch sorted
by length, the sequences still running at step ``t`` are the first ``batch_sizes[t]`` rows, so the
kernels shrink every GEMM and element-wise pass to them: a finished sequence costs nothing. A batch
without lengths, or already sorted, is left as it is (no copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class BatchOrder:
    """``order`` sorts the batch (``None``: already sorted); ``batch_sizes (T,)`` int64 or ``None`` (all run)."""

    order: Tensor | None
    inverse: Tensor | None
    batch_sizes: Tensor | None

    @staticmethod
    def from_step_mask(step_mask: Tensor | None) -> BatchOrder:
        if step_mask is None:
            return BatchOrder(None, None, None)
        lengths = step_mask.sum(0)
        if bool((lengths[:-1] >= lengths[1:]).all()):
            return BatchOrder(None, None, step_mask.sum(1).to(torch.int64).contiguous())
        order = torch.argsort(lengths, descending=True, stable=True)
        batch_sizes = step_mask.sum(1).to(torch.int64).contiguous()
        return BatchOrder(order, torch.argsort(order), batch_sizes)

    def new_buffer(self, like: Tensor, *shape: int) -> Tensor:
        """A buffer the kernel writes on every running row: zeros where a sequence has ended (such rows
        still enter sums over all rows), uninitialised when every sequence runs every step."""
        return like.new_empty(shape) if self.batch_sizes is None else like.new_zeros(shape)

    def sort(self, t: Tensor | None, dim: int) -> Tensor | None:
        """``t`` with its batch dimension ``dim`` in kernel order, contiguous."""
        if t is None:
            return None
        return (t if self.order is None else t.index_select(dim, self.order)).contiguous()

    def unsort(self, t: Tensor | None, dim: int) -> Tensor | None:
        """``t`` back in the caller's batch order."""
        if t is None or self.inverse is None:
            return t
        return t.index_select(dim, self.inverse)


def pointer(t: Tensor | None) -> int | None:
    """The data address of a contiguous tensor, ``None`` for an absent one (a C null pointer)."""
    if t is None:
        return None
    assert t.is_contiguous(), "kernel buffers must be contiguous"
    return t.data_ptr()


def flat(t: Tensor) -> Tensor:
    """``(T, B, N) -> (T*B, N)`` so that a sum over steps and batch is one GEMM."""
    return t.reshape(-1, t.shape[-1])


def weight_grad(d_pre: Tensor, inputs: Tensor) -> Tensor:
    """``sum_t d_pre[t]^T @ inputs[t]``: ``(T, B, N), (T, B, M) -> (N, M)`` as one GEMM."""
    return flat(d_pre).t().mm(flat(inputs))


def combined_bias(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """``b_ih + b_hh``: both are added to every pre-activation, so the loop needs only their sum."""
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def input_projection(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """``x W_ih^T + bias`` for every step at once: ``(T, B, I) -> (T, B, G)``, contiguous."""
    rows = flat(x)
    projected = rows.mm(w_ih.t()) if bias is None else torch.addmm(bias, rows, w_ih.t())
    return projected.view(x.shape[0], x.shape[1], -1)


def states_entering(h0: Tensor, output: Tensor, recurrent_mask: Tensor | None) -> Tensor:
    """The state each step's ``W_hh`` multiplied: ``h0`` then the outputs, times the dropout mask.

    ``output`` holds zeros where a sequence has ended; those steps have zero error, so what stands
    there never reaches a gradient.
    """
    h_prev = torch.cat((h0.unsqueeze(0), output[:-1]))
    return h_prev if recurrent_mask is None else h_prev * recurrent_mask


def zero_ended(records: dict[str, Tensor], step_mask: Tensor | None) -> dict[str, Tensor]:
    """Recorded gates and cells are zero at steps past a sequence's end, as in the reference loop."""
    if step_mask is None:
        return records
    keep = step_mask.unsqueeze(-1)
    return {name: torch.where(keep, value, torch.zeros_like(value)) for name, value in records.items()}


def zoneout_arguments(zoneout: Tensor | float | None, order: BatchOrder) -> tuple[Tensor | None, float]:
    """The kernels' two zoneout arguments: the bool mask ``(T, B, N)`` in kernel order (or ``None``) and
    the probability used without a mask (``0.0``: no zoneout)."""
    if isinstance(zoneout, Tensor):
        return order.sort(zoneout, 1), 0.0
    return None, float(zoneout or 0.0)
