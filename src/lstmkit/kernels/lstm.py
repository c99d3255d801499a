"""The compiled LSTM layer: same contract as :func:`lstmkit.bptt.lstm_layer`, the time loop in C++.

Python does the work that spans the whole sequence — the input projection before the loop, and
``dx``, ``dW_ih``, ``dW_hh``, ``db`` and ``dW_hr`` as single GEMMs after it — and the kernel does the
sequential part (``csrc/lstm.cpp``).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit import functional as LF
from lstmkit.kernels._common import (
    BatchOrder,
    buffer,
    check_operands,
    combined_bias,
    flat,
    input_grad,
    input_projection,
    pointer,
    states_entering,
    weight_grad,
    zero_ended,
)
from lstmkit.kernels._library import library

__all__ = ["lstm_layer"]


class _LSTMKernel(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, step_mask, recurrent_mask, trace):
        operands = {"h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh, "w_hr": w_hr}
        check_operands(x, **operands, recurrent_mask=recurrent_mask)
        order = BatchOrder.from_step_mask(step_mask)
        x, rmask = order.sort(x, 1), order.sort(recurrent_mask, 0)
        h, c = order.sort(h0, 0).clone(), order.sort(c0, 0).clone()
        w_hh, w_hr = w_hh.contiguous(), None if w_hr is None else w_hr.contiguous()
        steps, batch = x.shape[:2]
        hidden, out_size = w_hh.shape[0] // 4, w_hh.shape[1]
        gates = input_projection(x, w_ih, combined_bias(b_ih, b_hh))  # activated in place by the kernel
        ended = step_mask is not None
        keep = trace or any(ctx.needs_input_grad)  # inference keeps nothing for a backward pass
        cells = buffer(x, steps, batch, hidden, ended_rows=ended) if keep else None
        tanh_cells = buffer(x, steps, batch, hidden, ended_rows=ended) if keep else None
        output = buffer(x, steps, batch, out_size, ended_rows=ended)
        work = x.new_empty(batch * (hidden + out_size))
        library().call(
            "lstm_forward", x.dtype, steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, w_hh, w_hr, rmask, h, c, cells, tanh_cells, output, work)),
        )  # fmt: skip
        ctx.order = order
        ctx.has_bias = b_ih is not None
        ctx.save_for_backward(x, order.sort(c0, 0), order.sort(h0, 0), w_ih, w_hh, w_hr, gates, cells, tanh_cells,
                              output, rmask)  # fmt: skip
        traced = (order.unsort(gates, 1), order.unsort(cells, 1)) if trace else (x.new_empty(0), x.new_empty(0))
        ctx.mark_non_differentiable(*traced)
        return order.unsort(output, 1), order.unsort(h, 0), order.unsort(c, 0), *traced

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn, d_cn, _d_gates, _d_cells):
        x, c0, h0, w_ih, w_hh, w_hr, gates, cells, tanh_cells, output, rmask = ctx.saved_tensors
        order = ctx.order
        steps, batch = x.shape[:2]
        hidden, out_size = w_hh.shape[0] // 4, w_hh.shape[1]
        d_output = order.sort(d_output, 1)
        dh, dc = order.sort(d_hn, 0).clone(), order.sort(d_cn, 0).clone()
        ended = order.batch_sizes is not None
        d_pre = buffer(x, steps, batch, 4 * hidden, ended_rows=ended)
        d_h_new = buffer(x, steps, batch, out_size, ended_rows=ended) if w_hr is not None else None
        work = x.new_empty(batch * (hidden + out_size))
        library().call(
            "lstm_backward", x.dtype, steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, cells, tanh_cells, c0, w_hh, w_hr, rmask, d_output, dh, dc, d_pre, d_h_new, work)),
        )  # fmt: skip
        need = ctx.needs_input_grad
        dx = order.unsort(input_grad(d_pre, w_ih), 1) if need[0] else None
        dw_ih = weight_grad(d_pre, x) if need[3] else None
        dw_hh = weight_grad(d_pre, states_entering(h0, output, rmask)) if need[4] else None
        db = flat(d_pre).sum(0) if ctx.has_bias and (need[5] or need[6]) else None
        dw_hr = None
        if w_hr is not None and need[7]:
            dw_hr = weight_grad(d_h_new, gates[..., 3 * hidden :] * tanh_cells)  # W_hr multiplies o * tanh(c)
        dh0, dc0 = order.unsort(dh, 0), order.unsort(dc, 0)
        return (dx, dh0, dc0, dw_ih, dw_hh, db if need[5] else None, db if need[6] else None, dw_hr,
                None, None, None)  # fmt: skip


def lstm_layer(
    x: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    trace: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor], dict[str, Tensor]]:
    """One LSTM layer in one direction on the compiled kernel (see :func:`lstmkit.bptt.lstm_layer`)."""
    output, h, c, gates, cells = _LSTMKernel.apply(
        x, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, w_hr, step_mask, recurrent_mask, trace
    )
    records = {}
    if trace:
        records = dict(zip(LF.LSTM_GATES, gates.chunk(4, dim=-1)))
        records["cell_state"] = cells
        records = zero_ended(records, step_mask)
    return output, (h, c), records
