"""Independent time loops of one kernel (a bidirectional layer's two directions) as one autograd node.

Each cell's binding describes its loop as a :class:`Loop`: how many inputs and outputs one loop has, and
two classes that prepare one loop's forward and backward pass (buffers, sorting, the whole-sequence GEMMs)
and give the C entry point its arguments. The node runs every loop's pass in one library call, where
``run_calls`` (``csrc/parallel.h``) puts the loops side by side on the threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit.kernels._library import library

__all__ = ["Loop", "run_loops", "split_call"]


@dataclass(frozen=True)
class Loop:
    """One cell's loop. ``name`` stems its entry points (``<name>_forward``, ``<name>_backward``).

    ``forward(*inputs, backward=bool)`` prepares one loop's forward pass: ``arguments`` for the C call, the
    tensors ``saved`` for the backward pass (``saved`` of them), ``meta`` (anything else it needs), and
    ``results()`` once the loop ran: ``outputs`` tensors, of which those from ``differentiable`` on are
    traces (no gradient). ``backward(saved, *grads, meta)`` prepares one loop's backward pass from the
    gradients of the differentiable outputs: ``arguments``, then ``gradients(need)`` for its ``inputs``.
    """

    name: str
    inputs: int
    outputs: int
    differentiable: int
    saved: int
    forward: type
    backward: type


class _LoopsNode(torch.autograd.Function):
    """The loops of ``loop``, each given by its ``loop.inputs`` inputs one after the other."""

    @staticmethod
    def forward(ctx, loop: Loop, grad_enabled: bool, *inputs):
        n = loop.inputs
        calls = [inputs[i : i + n] for i in range(0, len(inputs), n)]
        dtype = calls[0][0].dtype
        if any(call[0].dtype != dtype for call in calls):
            raise TypeError(f"loops run together take one dtype, got {[str(call[0].dtype) for call in calls]}")
        # (needs_input_grad says what requires grad even under torch.no_grad(), where no graph is kept.)
        ctx.needs = [ctx.needs_input_grad[2 + i : 2 + i + n] for i in range(0, len(inputs), n)]
        passes = [loop.forward(*call, backward=grad_enabled and any(need)) for call, need in zip(calls, ctx.needs)]
        library().call_all(f"{loop.name}_forward", dtype, [one.arguments for one in passes])
        ctx.loop, ctx.dtype, ctx.meta = loop, dtype, [one.meta for one in passes]
        ctx.save_for_backward(*(t for one in passes for t in one.saved))
        results = [one.results() for one in passes]
        ctx.mark_non_differentiable(*(t for result in results for t in result[loop.differentiable :]))
        return tuple(t for result in results for t in result)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        loop, saved = ctx.loop, ctx.saved_tensors
        passes = [
            loop.backward(saved[i * loop.saved : (i + 1) * loop.saved],
                          *grads[i * loop.outputs : i * loop.outputs + loop.differentiable], meta)
            if any(need) else None
            for i, (meta, need) in enumerate(zip(ctx.meta, ctx.needs))
        ]  # fmt: skip
        library().call_all(f"{loop.name}_backward", ctx.dtype, [one.arguments for one in passes if one is not None])
        gradients: list[Tensor | None] = [None, None]  # loop, grad_enabled
        for one, need in zip(passes, ctx.needs):
            gradients.extend(one.gradients(need) if one is not None else (None,) * loop.inputs)
        return tuple(gradients)


def run_loops(loop: Loop, calls: Sequence[tuple]) -> list[tuple[Tensor, ...]]:
    """Run ``loop`` once per entry of ``calls`` (each its ``loop.inputs`` inputs) as one autograd node;
    each loop's ``loop.outputs`` outputs."""
    flat = _LoopsNode.apply(loop, torch.is_grad_enabled(), *(value for call in calls for value in call))
    return [tuple(flat[i * loop.outputs : (i + 1) * loop.outputs]) for i in range(len(calls))]


def split_call(function: str, call: tuple[tuple, dict], signature: str, weights: int, keywords: tuple[str, ...]):
    """One call of a layer function (``function``, whose positional arguments are ``signature``) as
    ``(x, state, weights, options)``: the weights padded with ``None`` to ``weights`` of them. Raises
    ``TypeError`` for positional arguments short or beyond them, or a keyword not among ``keywords``."""
    args, options = call
    unknown = sorted(set(options) - set(keywords))
    if unknown or not 4 <= len(args) <= 2 + weights:
        raise TypeError(f"{function} takes {signature} and the keywords {keywords}, "
                        f"got {len(args)} positional arguments and {sorted(options)}")  # fmt: skip
    x, state, *given = args
    return x, state, [*given, *[None] * (weights - len(given))], options
