"""The compiled GRU layer: same contract as :func:`lstmkit.bptt.gru_layer`, the time loop in C++.

:func:`gru_layers` runs several independent loops (a bidirectional layer's two directions) as one autograd
node, their loops in one library call, side by side on the threads (:mod:`lstmkit.kernels._loops`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from lstmkit import functional as LF
from lstmkit.kernels._common import (
    BatchOrder,
    check_operands,
    input_grad,
    input_projection,
    pointer,
    states_entering,
    weight_grad,
    weight_grads,
    zoneout_arguments,
)
from lstmkit.kernels._loops import Loop, run_loops, split_call

__all__ = ["gru_layer", "gru_layers"]


class _Forward:
    """One loop's forward pass (see :class:`~lstmkit.kernels._loops.Loop`); inputs: x, h0, w_ih, w_hh, b_ih,
    b_hh, step_mask, recurrent_mask, zoneout, reset_after, trace."""

    def __init__(self, x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, zoneout, reset_after, trace, *,
                 backward: bool):  # fmt: skip
        check_operands(x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh, recurrent_mask=recurrent_mask)
        order = BatchOrder.from_step_mask(step_mask)
        x, h0, rmask = order.sort(x, 1), order.sort(h0, 0), order.sort(recurrent_mask, 0)
        w_hh, b_hh = w_hh.contiguous(), None if b_hh is None else b_hh.contiguous()
        steps, batch = x.shape[:2]
        hidden = h0.shape[-1]
        gates = input_projection(x, w_ih, b_ih)  # activated in place by the kernel
        h = h0.clone()
        hh_n = order.new_buffer(x, steps, batch, hidden) if reset_after else None  # W_hn h + b_hn
        output = order.new_buffer(x, steps, batch, hidden)
        work = x.new_empty(batch * 5 * hidden)
        mask, probability = zoneout_arguments(zoneout, order)
        self.arguments = (
            steps, batch, hidden, int(reset_after), pointer(order.batch_sizes),
            *map(pointer, (gates, w_hh, b_hh, rmask, h, hh_n, output, work, h0, mask)), probability,
        )  # fmt: skip
        self.keep_alive = (work, b_hh)
        self.meta = (order, reset_after, b_ih is not None, probability)
        self.saved = (x, h0, w_ih, w_hh, gates, hh_n, output, rmask, mask)
        self.state = (order, output, h, gates, trace)

    def results(self) -> tuple[Tensor, Tensor, Tensor]:
        order, output, h, gates, trace = self.state
        traced = order.unsort(gates, 1) if trace else h.new_empty(0)
        return order.unsort(output, 1), order.unsort(h, 0), traced


class _Backward:
    """One loop's backward pass: its buffers and the kernel's arguments, then the gradients of its inputs."""

    def __init__(self, saved: Sequence[Tensor | None], d_output, d_hn, meta) -> None:
        x, h0, w_ih, w_hh, gates, hh_n, output, rmask, mask = saved
        order, reset_after, self.has_bias, probability = meta
        steps, batch = x.shape[:2]
        hidden = h0.shape[-1]
        d_output, dh = order.sort(d_output, 1), order.sort(d_hn, 0).clone()
        d_pre = order.new_buffer(x, steps, batch, 3 * hidden)  # error on W_ih x + b_ih: r, z, n
        # reset_after: the error on W_hh h + b_hh (r and z's as on the input side, n's r-scaled).
        d_recurrent = order.new_buffer(x, steps, batch, 3 * hidden) if reset_after else None
        work = x.new_empty(batch * 3 * hidden)
        self.arguments = (
            steps, batch, hidden, int(reset_after), pointer(order.batch_sizes),
            *map(pointer, (gates, hh_n, h0, output, w_hh, rmask, d_output, dh, d_pre, d_recurrent, work, mask)),
            probability,
        )  # fmt: skip
        self.keep_alive = (d_output, work)
        self.state = (order, reset_after, x, h0, w_ih, gates, output, rmask, dh, d_pre, d_recurrent)

    def gradients(self, need: Sequence[bool]) -> tuple[Tensor | None, ...]:
        order, reset_after, x, h0, w_ih, gates, output, rmask, dh, d_pre, d_recurrent = self.state
        hidden = h0.shape[-1]
        dx = order.unsort(input_grad(d_pre, w_ih), 1) if need[0] else None
        # Without reset_after both biases meet the same errors: one sum serves both.
        bias_ih = self.has_bias and (need[4] or (need[5] and not reset_after))
        dw_ih, _, db_ih = weight_grads(d_pre, x if need[2] else None, None, bias=bias_ih)
        dw_hh = db_hh = None
        if reset_after:
            h_prev = (h0, output, rmask) if need[3] else None
            _, dw_hh, db_hh = weight_grads(d_recurrent, None, h_prev, bias=self.has_bias and need[5])
        else:
            if need[3]:
                h_in = states_entering(h0, output, rmask)
                r_h = gates[..., :hidden] * h_in  # what W_hn multiplies
                dw_hh = torch.cat(
                    (weight_grad(d_pre[..., : 2 * hidden], h_in), weight_grad(d_pre[..., 2 * hidden :], r_h))
                )
            db_hh = db_ih if need[5] else None
        return dx, order.unsort(dh, 0), dw_ih, dw_hh, db_ih if need[4] else None, db_hh, None, None, None, None, None


LOOP = Loop("gru", 11, 3, 2, 9, _Forward, _Backward)
_OPTIONS = ("step_mask", "recurrent_mask", "zoneout", "reset_after", "trace")


def _inputs(call: tuple[tuple, dict]) -> tuple:
    """One loop's inputs to the autograd node from the positional and keyword arguments of a
    :func:`gru_layer` call."""
    x, h0, weights, options = split_call("gru_layer", call, "x, h0, w_ih, w_hh[, b_ih, b_hh]", 4, _OPTIONS)
    zoneout = LF.zoneout_per_step(options.get("zoneout"), x.shape[0], x.shape[1], h0.shape[-1])
    step_mask, recurrent_mask = options.get("step_mask"), options.get("recurrent_mask")
    reset_after, trace = options.get("reset_after", True), bool(options.get("trace"))
    return (x, h0, *weights, step_mask, recurrent_mask, zoneout, reset_after, trace)


def gru_layers(calls: Sequence[tuple[tuple, dict]]) -> list[tuple[Tensor, Tensor, dict[str, Tensor]]]:
    """Several independent GRU layer-directions at once: each call is the positional and keyword arguments
    of one :func:`gru_layer` call, and each result what that call returns (see
    :func:`lstmkit.kernels.lstm_layers`)."""
    inputs = [_inputs(call) for call in calls]
    results = []
    for one, (output, h, gates) in zip(inputs, run_loops(LOOP, inputs)):
        trace, step_mask = one[-1], one[6]
        records = LF.zero_ended(dict(zip(LF.GRU_GATES, gates.chunk(3, dim=-1))), step_mask) if trace else {}
        results.append((output, h, records))
    return results


def gru_layer(
    x: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: Tensor | float | None = None,
    reset_after: bool = True,
    trace: bool = False,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One GRU layer in one direction on the compiled kernel (see :func:`lstmkit.bptt.gru_layer`)."""
    options = {"step_mask": step_mask, "recurrent_mask": recurrent_mask, "zoneout": zoneout,
               "reset_after": reset_after, "trace": trace}  # fmt: skip
    return gru_layers([((x, h0, w_ih, w_hh, b_ih, b_hh), options)])[0]
