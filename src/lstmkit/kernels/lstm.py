"""The compiled LSTM layer: same contract as :func:`lstmkit.bptt.lstm_layer`, the time loop in C++.

Python does the work that spans the whole sequence — the input projection before the loop, and
``dx``, ``dW_ih``, ``dW_hh``, ``db`` and ``dW_hr`` as single GEMMs after it — and the kernel does the
sequential part (``csrc/lstm.cpp``). A layer-normalised LSTM keeps that split: ``W_ih x`` is still
one GEMM before the loop, and the kernel normalises it together with the recurrent projection and the
cell state, row by row while each row is in cache (``csrc/lstm_layer_norm.h``); it also sums the
gradients of the gains and biases.

:func:`lstm_layers` runs several independent loops (a bidirectional layer's two directions) as one
autograd node whose loops run in one library call, side by side on the threads (``run_calls`` in
``csrc/parallel.h``); :func:`lstm_layer` is one loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

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
from lstmkit.kernels._loops import Loop, run_loops, split_call

__all__ = ["lstm_layer", "lstm_layers"]

# The inputs of one loop to the autograd node (_loops.run_loops), in this order: x, h0, c0, w_ih, w_hh,
# b_ih, b_hh, w_hr, the four layer-norm weights, step_mask, recurrent_mask, zoneout, trace. Its outputs:
# output, h, c and the traced gates and cells; and the tensors it saves for the backward pass.
_INPUTS, _OUTPUTS, _SAVED = 16, 5, 21


def _contiguous(*tensors: Tensor | None) -> list[Tensor | None]:
    return [None if t is None else t.contiguous() for t in tensors]


class _Forward:
    """One loop's forward pass: its buffers and the kernel's arguments (``arguments``), then what it keeps
    for the backward pass (``saved``, ``meta``) and returns (:meth:`results`)."""

    def __init__(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, ih_gain, hh_gain, cell_weight, cell_bias, step_mask,
                 recurrent_mask, zoneout, trace, *, backward: bool):  # fmt: skip
        operands = {"h0": h0, "c0": c0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh, "w_hr": w_hr}
        norm = {"ih_gain": ih_gain, "hh_gain": hh_gain, "cell_weight": cell_weight, "cell_bias": cell_bias}
        check_operands(x, **operands, **norm, recurrent_mask=recurrent_mask)
        order = BatchOrder.from_step_mask(step_mask)
        x, rmask = order.sort(x, 1), order.sort(recurrent_mask, 0)
        h0_sorted, c0_sorted = order.sort(h0, 0), order.sort(c0, 0)
        h, c = h0_sorted.clone(), c0_sorted.clone()  # the kernel carries the state in these
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
        keep = trace or backward or layer_norm or mask is not None or probability > 0
        cells = order.new_buffer(x, steps, batch, hidden) if keep else None  # the cell state carried out of each step
        tanh_cells = order.new_buffer(x, steps, batch, hidden) if keep else None  # tanh of the cell the output reads
        output = order.new_buffer(x, steps, batch, out_size)
        work = x.new_empty(batch * (hidden + out_size))
        self.arguments = (
            steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, w_hh, w_hr, rmask, h, c, cells, tanh_cells, output, work, h0_sorted, c0_sorted,
                           mask)),
            probability, *map(pointer, ln_arguments),
        )  # fmt: skip
        self.keep_alive = (work, ln_arguments)  # pointed to by the arguments, held by nothing else here
        self.meta = (order, probability, b_ih is not None)
        self.saved = (x, c0_sorted, h0_sorted, w_ih, w_hh, w_hr, gates, cells, tanh_cells, output, rmask, mask,
                      *_contiguous(ih_gain, hh_gain, cell_weight), *ln_saved)  # fmt: skip
        self.trace, self.state = trace, (order, output, h, c, gates, cells)

    def results(self) -> tuple[Tensor, ...]:
        """``output``, ``h``, ``c`` in the caller's batch order, then the traced gates and cells (empty, untraced)."""
        order, output, h, c, gates, cells = self.state
        traced = (order.unsort(gates, 1), order.unsort(cells, 1)) if self.trace else (h.new_empty(0), h.new_empty(0))
        return order.unsort(output, 1), order.unsort(h, 0), order.unsort(c, 0), *traced


class _Backward:
    """One loop's backward pass: its buffers and the kernel's arguments, then the gradients of its inputs."""

    def __init__(self, saved: Sequence[Tensor | None], d_output, d_hn, d_cn, meta) -> None:
        (x, c0, h0, w_ih, w_hh, w_hr, gates, cells, tanh_cells, output, rmask, mask, ih_gain, hh_gain, cell_weight,
         *ln_saved) = saved  # fmt: skip
        order, probability, self.has_bias = meta
        layer_norm = ih_gain is not None
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
        self.arguments = (
            steps, batch, hidden, out_size, pointer(order.batch_sizes),
            *map(pointer, (gates, cells, tanh_cells, c0, w_hh, w_hr, rmask, d_output, dh, dc, d_pre, d_h_new, work,
                           mask)),
            probability, *map(pointer, ln_arguments),
        )  # fmt: skip
        self.keep_alive = (d_output, work)
        self.state = (order, x, h0, w_ih, w_hh, w_hr, gates, tanh_cells, output, rmask, dh, dc, d_pre, d_h_new)
        self.layer_norm, self.d_input, self.d_norm = layer_norm, d_input, d_norm

    def gradients(self, need: Sequence[bool]) -> tuple[Tensor | None, ...]:
        """The gradients of the loop's :data:`_INPUTS` inputs (``None`` where ``need`` says none is wanted)."""
        order, x, h0, w_ih, w_hh, w_hr, gates, tanh_cells, output, rmask, dh, dc, d_pre, d_h_new = self.state
        hidden = w_hh.shape[0] // 4
        dx = order.unsort(input_grad(self.d_input, w_ih), 1) if need[0] else None
        d_ih_gain, d_bias, d_hh_gain, d_cell_weight, d_cell_bias = self.d_norm
        h_prev = (h0, output, rmask) if need[4] else None
        if self.layer_norm:  # W_ih and W_hh see different errors; the kernel summed the bias's
            dw_ih = weight_grads(self.d_input, x, None, bias=False)[0] if need[3] else None
            dw_hh = weight_grads(d_pre, None, h_prev, bias=False)[1] if need[4] else None
        else:
            bias = self.has_bias and (need[5] or need[6])
            dw_ih, dw_hh, d_bias = weight_grads(d_pre, x if need[3] else None, h_prev, bias=bias)
        dw_hr = None
        if w_hr is not None and need[7]:
            dw_hr = weight_grad(d_h_new, gates[..., 3 * hidden :] * tanh_cells)  # W_hr multiplies o * tanh(c)
        dh0, dc0 = order.unsort(dh, 0), order.unsort(dc, 0)
        return (dx, dh0, dc0, dw_ih, dw_hh, d_bias if need[5] else None, d_bias if need[6] else None, dw_hr,
                d_ih_gain, d_hh_gain, d_cell_weight, d_cell_bias, None, None, None, None)  # fmt: skip


LOOP = Loop("lstm", _INPUTS, _OUTPUTS, 3, _SAVED, _Forward, _Backward)


_OPTIONS = ("step_mask", "recurrent_mask", "zoneout", "layer_norm", "trace")


def _inputs(call: tuple[tuple, dict]) -> tuple:
    """One loop's :data:`_INPUTS` inputs to the autograd node from the positional and keyword arguments
    of an :func:`lstm_layer` call."""
    signature = "x, hx, w_ih, w_hh[, b_ih, b_hh, w_hr]"
    x, hx, weights, options = split_call("lstm_layer", call, signature, 5, _OPTIONS)
    zoneout = LF.zoneout_per_step(options.get("zoneout"), x.shape[0], x.shape[1], hx[0].shape[-1] + hx[1].shape[-1])
    norm = options.get("layer_norm") or (None,) * 4
    step_mask, recurrent_mask = options.get("step_mask"), options.get("recurrent_mask")
    return (x, hx[0], hx[1], *weights, *norm, step_mask, recurrent_mask, zoneout, bool(options.get("trace")))


def lstm_layers(
    calls: Sequence[tuple[tuple, dict]],
) -> list[tuple[Tensor, tuple[Tensor, Tensor], dict[str, Tensor]]]:
    """Several independent LSTM layer-directions at once: each call is the positional and keyword arguments
    of one :func:`lstm_layer` call, and each result what that call returns. The loops run in one library
    call, side by side where there are no more threads than loops (a bidirectional layer's two directions
    on two cores); the whole-sequence GEMMs around them keep all the threads."""
    inputs = [_inputs(call) for call in calls]
    results = []
    for one, (output, h, c, gates, cells) in zip(inputs, run_loops(LOOP, inputs)):
        records = {}
        if one[-1]:  # trace
            records = dict(zip(LF.LSTM_GATES, gates.chunk(4, dim=-1)))
            records["cell_state"] = cells
            records = LF.zero_ended(records, one[12])  # the step mask
        results.append((output, (h, c), records))
    return results


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
    options = {"step_mask": step_mask, "recurrent_mask": recurrent_mask, "zoneout": zoneout,
               "layer_norm": layer_norm, "trace": trace}  # fmt: skip
    return lstm_layers([((x, hx, w_ih, w_hh, b_ih, b_hh, w_hr), options)])[0]
