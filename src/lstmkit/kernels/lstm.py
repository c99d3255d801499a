"""The compiled LSTM layer: same contract as :func:`lstmkit.bptt.lstm_layer`, the time loop in C++.

Python does the work that spans the whole sequence — the input projection before the loop, and
``dx``, ``dW_ih``, ``dW_hh``, ``db`` and ``dW_hr`` as single GEMMs after it — and the kernel does the
sequential part (``csrc/lstm.cpp``). A layer-normalised LSTM keeps that split: ``W_ih x`` is still
one GEMM before the loop, and the kernel normalises it together with the recurrent projection and the
cell state, row by row while each row is in cache (``csrc/lstm_layer_norm.h``); it also sums the
gradients of the gains and biases.
"""

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
    weight_grad,
    weight_grads,
    zoneout_arguments,
)
from lstmkit.kernels._library import library

__all__ = ["lstm_layer"]


def _contiguous(*tensors: Tensor | None) -> list[Tensor | None]:
    return [None if t is None else t.contiguous() for t in tensors]


class _LSTMKernel(torch.autograd.Function):
    """The loop as one autograd node; the layer-norm gains and biases are ``None`` for a plain LSTM."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, ih_gain, hh_gain, cell_weight, cell_bias, step_mask,
                recurrent_mask, zoneout, trace, grad_enabled):  # fmt: skip
        operands = {"h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh, "w_hr": w_hr}
        norm = {"ih_gain": ih_gain, "hh_gain": hh_gain, "cell_weight": cell_weight, "cell_bias": cell_bias}
        check_operands(x, **operands, **norm, recurrent_mask=recurrent_mask)
        order = BatchOrder.from_step_mask(step_mask)
        x, rmask = order.sort(x, 1), order.sort(recurrent_mask, 0)
        h, c = order.sort(h0, 0).clone(), order.sort(c0, 0).clone()
        w_hh, w_hr = _contiguous(w_hh, w_hr)
        steps, batch = x.shape[:2]
        hidden, out_size = w_hh.shape[0] // 4, w_hh.shape[1]
        bias = combined_bias(b_ih, b_hh)
        layer_norm = ih_gain is not None
        if layer_norm:
            # W_ih x, normalised in place by the kernel; the gates then hold W_hh h before their norm.
            ln_saved = (input_projection(x, w_ih, None), order.new_buffer(x, steps, batch),
                        order.new_buffer(x, steps, batch, 4 * hidden), order.new_buffer(x, steps, batch),
                        order.new_buffer(x, steps, batch, hidden), order.new_buffer(x, steps, batch))  # fmt: skip
            ln_arguments = (*_contiguous(ih_gain, hh_gain, bias, cell_weight, cell_bias), *ln_saved)
            gates = order.new_buffer(x, steps, batch, 4 * hidden)
        else:
            ln_saved, ln_arguments = (None,) * 6, (None,) * 11
            gates = input_projection(x, w_ih, bias)  # activated in place by the kernel
        mask, probability = zoneout_arguments(zoneout, order)
        # Plain inference keeps nothing for a backward pass; zoneout and layer norm read the kept cells.
        # (needs_input_grad says what requires grad even under torch.no_grad(), where no graph is kept.)
        backward = grad_enabled and any(ctx.needs_input_grad)
        keep = trace or backward or layer_norm or mask is not None or probability > 0
        cells = order.new_buffer(x, steps, batch, hidden) if keep else None  # the cell state carried out of each step
        tanh_cells = order.new_buffer(x, steps, batch, hidden) if keep else None  # tanh of the cell the output reads
        output = order.new_buffer(x, steps, batch, out_size)
        work = x.new_empty(batch * (hidden + out_size))
        h0_sorted, c0_sorted = order.sort(h0, 0), order.sort(c0, 0)
        library().call(
            "lstm_forward", x.dtype, steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, w_hh, w_hr, rmask, h, c, cells, tanh_cells, output, work, h0_sorted, c0_sorted,
                           mask)),
            probability, *map(pointer, ln_arguments),
        )  # fmt: skip
        ctx.order, ctx.probability, ctx.has_bias = order, probability, b_ih is not None
        ctx.save_for_backward(x, c0_sorted, h0_sorted, w_ih, w_hh, w_hr, gates, cells, tanh_cells, output, rmask, mask,
                              *_contiguous(ih_gain, hh_gain, cell_weight), *ln_saved)  # fmt: skip
        traced = (order.unsort(gates, 1), order.unsort(cells, 1)) if trace else (x.new_empty(0), x.new_empty(0))
        ctx.mark_non_differentiable(*traced)
        return order.unsort(output, 1), order.unsort(h, 0), order.unsort(c, 0), *traced

    @staticmethod
    @once_differentiable
    def backward(ctx, d_output, d_hn, d_cn, _d_gates, _d_cells):
        (x, c0, h0, w_ih, w_hh, w_hr, gates, cells, tanh_cells, output, rmask, mask, ih_gain, hh_gain, cell_weight,
         *ln_saved) = ctx.saved_tensors  # fmt: skip
        order, layer_norm = ctx.order, ih_gain is not None
        steps, batch = x.shape[:2]
        hidden, out_size = w_hh.shape[0] // 4, w_hh.shape[1]
        d_output = order.sort(d_output, 1)
        dh, dc = order.sort(d_hn, 0).clone(), order.sort(d_cn, 0).clone()
        d_pre = order.new_buffer(x, steps, batch, 4 * hidden)  # error on the recurrent GEMM's product
        d_h_new = order.new_buffer(x, steps, batch, out_size) if w_hr is not None else None
        work = x.new_empty(2 * batch * (hidden + out_size) + 5 * batch * hidden)
        d_input, d_norm, ln_arguments = d_pre, (None,) * 5, (None,) * 15
        if layer_norm:
            d_input = order.new_buffer(x, steps, batch, 4 * hidden)  # error on W_ih x
            d_norm = tuple(torch.zeros_like(p) for p in (ih_gain, ih_gain, hh_gain, cell_weight, cell_weight))
            ln_arguments = (ih_gain, hh_gain, cell_weight, *ln_saved, d_input, *d_norm)
        library().call(
            "lstm_backward", x.dtype, steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, cells, tanh_cells, c0, w_hh, w_hr, rmask, d_output, dh, dc, d_pre, d_h_new, work,
                           mask)),
            ctx.probability, *map(pointer, ln_arguments),
        )  # fmt: skip
        need = ctx.needs_input_grad
        dx = order.unsort(input_grad(d_input, w_ih), 1) if need[0] else None
        d_ih_gain, d_bias, d_hh_gain, d_cell_weight, d_cell_bias = d_norm
        h_prev = (h0, output, rmask) if need[4] else None
        if layer_norm:  # W_ih and W_hh see different errors; the kernel summed the bias's
            dw_ih = weight_grads(d_input, x, None, bias=False)[0] if need[3] else None
            dw_hh = weight_grads(d_pre, None, h_prev, bias=False)[1] if need[4] else None
        else:
            bias = ctx.has_bias and (need[5] or need[6])
            dw_ih, dw_hh, d_bias = weight_grads(d_pre, x if need[3] else None, h_prev, bias=bias)
        dw_hr = None
        if w_hr is not None and need[7]:
            dw_hr = weight_grad(d_h_new, gates[..., 3 * hidden :] * tanh_cells)  # W_hr multiplies o * tanh(c)
        dh0, dc0 = order.unsort(dh, 0), order.unsort(dc, 0)
        return (dx, dh0, dc0, dw_ih, dw_hh, d_bias if need[5] else None, d_bias if need[6] else None, dw_hr,
                d_ih_gain, d_hh_gain, d_cell_weight, d_cell_bias, None, None, None, None, None)  # fmt: skip


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
    zoneout: Tensor | float | None = None,
    layer_norm: LF.LayerNormWeights | None = None,
    trace: bool = False,
) -> tuple[Tensor, tuple[Tensor, Tensor], dict[str, Tensor]]:
    """One LSTM layer in one direction on the compiled kernel (see :func:`lstmkit.bptt.lstm_layer`).

    Also takes what :func:`lstmkit.functional.lstm_sequence` takes and the Python BPTT does not:
    ``layer_norm`` (the gains and biases of a layer-normalised LSTM).
    """
    zoneout = LF.zoneout_per_step(zoneout, x.shape[0], x.shape[1], hx[0].shape[-1] + hx[1].shape[-1])
    norm = (None,) * 4 if layer_norm is None else layer_norm
    output, h, c, gates, cells = _LSTMKernel.apply(
        x, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, w_hr, *norm, step_mask, recurrent_mask, zoneout, trace,
        torch.is_grad_enabled(),
    )  # fmt: skip
    records = {}
    if trace:
        records = dict(zip(LF.LSTM_GATES, gates.chunk(4, dim=-1)))
        records["cell_state"] = cells
        records = LF.zero_ended(records, step_mask)
    return output, (h, c), records
