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

from lstmkit.kernels import _buffers
from lstmkit.kernels._library import library, own_sgemm


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
        batch_sizes = step_mask.sum(1).to(torch.int64).contiguous()
        if bool((lengths[:-1] >= lengths[1:]).all()):
            return BatchOrder(None, None, batch_sizes)
        order = torch.argsort(lengths, descending=True, stable=True)
        return BatchOrder(order, torch.argsort(order), batch_sizes)

    def new_buffer(self, like: Tensor, *shape: int) -> Tensor:
        """A buffer the kernel writes on every running row: zeros where a sequence has ended (such rows
        still enter sums over all rows), uninitialised when every sequence runs every step."""
        return _buffers.empty(like, *shape) if self.batch_sizes is None else _buffers.zeros(like, *shape)

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


DTYPES = (torch.float32, torch.float64)


def input_mismatch(x: Tensor) -> str:
    """Why the kernels cannot take ``x``'s dtype or device (empty when they can)."""
    if x.device.type != "cpu" or x.dtype not in DTYPES:
        return f"the compiled kernels take float32 or float64 CPU input, got {x.dtype} on {x.device}"
    return ""


def check_operands(x: Tensor, **tensors: Tensor | None) -> None:
    """The kernels read raw memory: every operand must be a CPU tensor of the input's dtype.

    Raises ``TypeError`` naming the first operand that is not (a float64 weight read as float32 would
    be garbage, not an error).
    """
    if input_mismatch(x):
        raise TypeError(input_mismatch(x))
    for name, t in tensors.items():
        if t is not None and (t.dtype != x.dtype or t.device != x.device):
            raise TypeError(
                f"{name} must be a {x.dtype} tensor on {x.device} like the input, got {t.dtype} on {t.device}"
            )


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
    return matmul(flat(d_pre), flat(inputs), transpose_a=True)


def weight_grads(
    d: Tensor, x: Tensor | None, h_prev: tuple[Tensor, Tensor, Tensor | None] | None, *, bias: bool
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """``d^T x``, ``d^T h_prev`` and ``sum d``: a layer's ``dW_ih``, ``dW_hh`` and bias error from the
    errors ``d (T, B, G)`` on its pre-activations.

    ``h_prev`` is ``(h0, output, recurrent_mask)``, the states entering each step as
    :func:`states_entering` builds them. A part that is not needed is ``None`` (``bias=False``).
    Float32 on lstmkit's GEMM does all three in one pass over ``d`` without building ``h_prev``
    (``csrc/weight_grad.cpp``); otherwise each is its own product.
    """
    if d.dtype != torch.float32 or not own_sgemm():
        return (
            None if x is None else weight_grad(d, x),
            None if h_prev is None else weight_grad(d, states_entering(*h_prev)),
            flat(d).sum(0) if bias else None,
        )
    steps, batch, gates = d.shape
    h0, output, recurrent_mask = h_prev or (None, None, None)
    nx, nh = (0 if x is None else x.shape[-1]), (0 if h0 is None else h0.shape[-1])
    result, bias_grad = d.new_empty(gates, nx + nh), d.new_empty(gates) if bias else None
    library().handle.lstmkit_weight_grad(
        steps * batch, gates, pointer(d), gates, pointer(x), nx, nx, pointer(h0), pointer(output), nh, nh, batch,
        pointer(recurrent_mask), result.data_ptr(), result.shape[1], pointer(bias_grad),
    )  # fmt: skip
    return (
        None if x is None else result[:, :nx].contiguous(),
        None if h0 is None else result[:, nx:].contiguous(),
        bias_grad,
    )


def input_grad(d_pre: Tensor, w_ih: Tensor) -> Tensor:
    """The error sent to the layer below, ``d_pre @ W_ih``: ``(T, B, G) -> (T, B, I)`` as one GEMM."""
    return matmul(flat(d_pre), w_ih).view(*d_pre.shape[:2], -1)


def combined_bias(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """``b_ih + b_hh``: both are added to every pre-activation, so the loop needs only their sum."""
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def input_projection(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """``x W_ih^T + bias`` for every step at once: ``(T, B, I) -> (T, B, G)``, contiguous."""
    return matmul(flat(x), w_ih, bias, transpose_w=True).view(x.shape[0], x.shape[1], -1)


def states_entering(h0: Tensor, output: Tensor, recurrent_mask: Tensor | None) -> Tensor:
    """The state each step's ``W_hh`` multiplied: ``h0`` then the outputs, times the dropout mask.

    ``output`` holds zeros where a sequence has ended; those steps have zero error, so what stands
    there never reaches a gradient.
    """
    h_prev = torch.cat((h0.unsqueeze(0), output[:-1]))
    return h_prev if recurrent_mask is None else h_prev * recurrent_mask


def matmul(
    a: Tensor, w: Tensor, bias: Tensor | None = None, *, transpose_a: bool = False, transpose_w: bool = False
) -> Tensor:
    """``op(a) @ op(w) (+ bias)`` for 2-D tensors; ``transpose_*`` means the operand is used transposed.

    Float32 runs on lstmkit's packed GEMM when the kernels use it (:class:`use_blas` ``"own"``, the
    default), with the bias added inside the GEMM; everything else on torch's ``mm``/``addmm``.
    """
    lhs = a.t() if transpose_a else a
    rhs = w.t() if transpose_w else w
    if a.dtype != torch.float32 or not own_sgemm():
        return lhs.mm(rhs) if bias is None else torch.addmm(bias, lhs, rhs)
    a, w = a.contiguous(), w.contiguous()
    bias = None if bias is None else bias.contiguous()
    (m, k), n = lhs.shape, rhs.shape[1]
    result = _buffers.empty(a, m, n)
    library().handle.lstmkit_sgemm(
        m, n, k, a.data_ptr(), a.shape[1], int(transpose_a), w.data_ptr(), int(transpose_w), pointer(bias),
        0.0, result.data_ptr(), n,
    )  # fmt: skip
    return result


def zoneout_arguments(zoneout: Tensor | float | None, order: BatchOrder) -> tuple[Tensor | None, float]:
    """The kernels' two zoneout arguments: the bool mask ``(T, B, N)`` in kernel order (or ``None``) and
    the probability used without a mask (``0.0``: no zoneout)."""
    if isinstance(zoneout, Tensor):
        return order.sort(zoneout, 1), 0.0
    return None, float(zoneout or 0.0)
