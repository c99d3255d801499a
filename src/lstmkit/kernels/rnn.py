"""The compiled Elman RNN layer: same contract as :func:`lstmkit.bptt.rnn_layer`, the time loop in C++.

:func:`rnn_layers` runs several independent loops (a bidirectional layer's two directions) as one autograd
node, their loops in one library call, side by side on the threads (:mod:`lstmkit.kernels._loops`).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

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
from lstmkit.kernels._loops import Loop, run_loops, split_call

__all__ = ["rnn_layer", "rnn_layers"]


class _Forward:
    """One loop's forward pass (see :class:`~lstmkit.kernels._loops.Loop`); inputs: x, h0, w_ih, w_hh, b_ih,
    b_hh, step_mask, recurrent_mask, nonlinearity."""

    def __init__(self, x, h0, w_ih, w_hh, b_ih, b_hh, step_mask, recurrent_mask, nonlinearity, *, backward: bool):
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
        self.arguments = (
            steps, batch, hidden, relu, pointer(order.batch_sizes), *map(pointer, (pre, w_hh, rmask, h, output, work)),
        )  # fmt: skip
        self.keep_alive = (pre, work)
        self.meta = (order, relu, b_ih is not None)
        self.saved = (x, h0, w_ih, w_hh, output, rmask)
        self.state = (order, output, h)

    def results(self) -> tuple[Tensor, Tensor]:
        order, output, h = self.state
        return order.unsort(output, 1), order.unsort(h, 0)


class _Backward:
    """One loop's backward pass: its buffers and the kernel's arguments, then the gradients of its inputs."""

    def __init__(self, saved: Sequence[Tensor | None], d_output, d_hn, meta) -> None:
        x, h0, w_ih, w_hh, output, rmask = saved
        order, relu, self.has_bias = meta
        steps, batch = x.shape[:2]
        hidden = h0.shape[-1]
        d_output, dh = order.sort(d_output, 1), order.sort(d_hn, 0).clone()
        d_pre = order.new_buffer(x, steps, batch, hidden)
        work = x.new_empty(batch * hidden)
        self.arguments = (
            steps, batch, hidden, relu, pointer(order.batch_sizes),
            *map(pointer, (output, w_hh, rmask, d_output, dh, d_pre, work)),
        )  # fmt: skip
        self.keep_alive = (d_output, work)
        self.state = (order, x, h0, w_ih, output, rmask, dh, d_pre)

    def gradients(self, need: Sequence[bool]) -> tuple[Tensor | None, ...]:
        order, x, h0, w_ih, output, rmask, dh, d_pre = self.state
        dx = order.unsort(input_grad(d_pre, w_ih), 1) if need[0] else None
        dw_ih, dw_hh, db = weight_grads(
            d_pre, x if need[2] else None, (h0, output, rmask) if need[3] else None,
            bias=self.has_bias and (need[4] or need[5]),
        )  # fmt: skip
        return (dx, order.unsort(dh, 0), dw_ih, dw_hh, db if need[4] else None, db if need[5] else None,
                None, None, None)  # fmt: skip


LOOP = Loop("rnn", 9, 2, 2, 6, _Forward, _Backward)
_OPTIONS = ("step_mask", "recurrent_mask", "nonlinearity", "trace")


def _inputs(call: tuple[tuple, dict]) -> tuple:
    """One loop's inputs to the autograd node from the positional and keyword arguments of an
    :func:`rnn_layer` call (an RNN has no gates to trace: ``trace`` is accepted and records nothing)."""
    x, h0, weights, options = split_call("rnn_layer", call, "x, h0, w_ih, w_hh[, b_ih, b_hh]", 4, _OPTIONS)
    nonlinearity = options.get("nonlinearity", "tanh")
    if nonlinearity not in LF.RNN_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {LF.RNN_NONLINEARITIES}, got {nonlinearity!r}")
    return (x, h0, *weights, options.get("step_mask"), options.get("recurrent_mask"), nonlinearity)


def rnn_layers(calls: Sequence[tuple[tuple, dict]]) -> list[tuple[Tensor, Tensor, dict[str, Tensor]]]:
    """Several independent Elman RNN layer-directions at once: each call is the positional and keyword
    arguments of one :func:`rnn_layer` call, and each result what that call returns (see
    :func:`lstmkit.kernels.lstm_layers`)."""
    inputs = [_inputs(call) for call in calls]
    return [(output, h, {}) for output, h in run_loops(LOOP, inputs)]


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
    options = {"step_mask": step_mask, "recurrent_mask": recurrent_mask, "nonlinearity": nonlinearity}
    return rnn_layers([((x, h0, w_ih, w_hh, b_ih, b_hh), options)])[0]
