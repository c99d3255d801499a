"""The compiled Elman RNN layer: same contract as :func:`lstmkit.bptt.rnn_layer`, the time loop in C++."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit import functional as LF
from lstmkit.kernels._common import (
    BatchOrder,
    check_operands,
    combined_bias,
    input_grad,
    input_projection,
    pointer,
    weight_grads,
)
from lstmkit.kernels._library import library

__all__ = ["rnn_layer"]


class _RNNKernel(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, nonlinearity):
        check_operands(x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, recurrent_mask=recurrent_mask)
        order = BatchOrder.from_step_mask(step_mask)
        x, h0, rmask = order.sort(x, 1), order.sort(h0, 0), order.sort(recurrent_mask, 0)
        w_hh = w_hh.contiguous()
        steps, batch = x.shape[:2]
        hidden = h0.shape[-1]
        pre = input_projection(x, w_ih, combined_bias(b_ih, b_hh))
        h = h0.clone()
        output = order.new_buffer(x, steps, batch, hidden)
        work = x.new_empty(batch * hidden)
        relu = int(nonlinearity == "relu")
        library().call(
            "rnn_forward", x.dtype, steps, batch, hidden, relu, pointer(order.batch_sizes),
            *map(pointer, (pre, w_hh, rmask, h, output, work)),
        )  # fmt: skip
        ctx.order, ctx.relu, ctx.has_bias = order, relu, b_ih is not None
        ctx.save_for_backward(x, h0, w_ih, w_hh, output, rmask)
        return order.unsort(output, 1), order.unsort(h, 0)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn):
        x, h0, w_ih, w_hh, output, rmask = ctx.saved_tensors
        order = ctx.order
        steps, batch = x.shape[:2]
        hidden = h0.shape[-1]
        d_output, dh = order.sort(d_output, 1), order.sort(d_hn, 0).clone()
        d_pre = order.new_buffer(x, steps, batch, hidden)
        work = x.new_empty(batch * hidden)
        library().call(
            "rnn_backward", x.dtype, steps, batch, hidden, ctx.relu, pointer(order.batch_sizes),
            *map(pointer, (output, w_hh, rmask, d_output, dh, d_pre, work)),
        )  # fmt: skip
        need = ctx.needs_input_grad
        dx = order.unsort(input_grad(d_pre, w_ih), 1) if need[0] else None
        dw_ih, dw_hh, db = weight_grads(
            d_pre, x if need[2] else None, (h0, output, rmask) if need[3] else None,
            bias=ctx.has_bias and (need[4] or need[5]),
        )  # fmt: skip
        return (dx, order.unsort(dh, 0), dw_ih, dw_hh, db if need[4] else None, db if need[5] else None,
                None, None, None)  # fmt: skip


def rnn_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    nonlinearity: str = "tanh",
    trace: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One Elman RNN layer in one direction on the compiled kernel (an RNN has no gates to trace)."""
    if nonlinearity not in LF.RNN_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {LF.RNN_NONLINEARITIES}, got {nonlinearity!r}")
    output, h = _RNNKernel.apply(x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, nonlinearity)
    return output, h, {}
