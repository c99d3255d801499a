"""Reference loops over time, the test oracle: autograd through them defines the gradients that the
hand-written backward (:mod:`lstmkit.bptt`) and the compiled kernels must reproduce.

Also the helpers every loop shares: step masks from lengths, reversal within each sequence's length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from lstmkit.functional.cells import GRU_GATES, LSTM_GATES, LayerNormWeights, gru_cell_gates, lstm_cell_gates, rnn_cell
from lstmkit.functional.zoneout import apply_zoneout, split_lstm_zoneout, zoneout_per_step

States = tuple[Tensor, ...]
Step = Callable[[Tensor | tuple[Tensor, ...], States], tuple[Tensor, States, tuple[Tensor, ...]]]


def zero_ended(records: dict[str, Tensor], step_mask: Tensor | None) -> dict[str, Tensor]:
    """Zero recorded values ``(T, B, N)`` at steps past a sequence's end, as :func:`run_sequence` does."""
    if step_mask is None:
        return records
    keep = step_mask.unsqueeze(-1)
    return {name: torch.where(keep, value, torch.zeros_like(value)) for name, value in records.items()}


def step_mask_from_lengths(lengths: Tensor, steps: int) -> Tensor:
    """``(T, B)`` boolean mask, true where step ``t`` is inside sequence ``b`` (``t < lengths[b]``)."""
    return torch.arange(steps, device=lengths.device).unsqueeze(1) < lengths.unsqueeze(0)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse right-padded sequences ``x (T, B, ...)`` in time, each within its own length.

    Padding stays where it was, so applying this twice gives ``x`` back. Without lengths it is a
    plain flip. This is how a backward direction starts at each sequence's last real step.
    """
    if lengths is None:
        return x.flip(0)
    steps = x.shape[0]
    t = torch.arange(steps, device=x.device).unsqueeze(1)  # (T, 1)
    last = lengths.to(x.device).unsqueeze(0) - 1  # (1, B)
    index = torch.where(t <= last, last - t, t)  # (T, B)
    index = index.view(steps, -1, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(0, index)


def _mask_step(
    keep: Tensor, out: Tensor, new_state: States, state: States, record: tuple[Tensor, ...]
) -> tuple[Tensor, States, tuple[Tensor, ...]]:
    """One step's results with the sequences that have ended (``keep (B, 1)`` false) masked: their output
    and records zero, their state carried unchanged."""
    out = torch.where(keep, out, torch.zeros_like(out))
    record = tuple(torch.where(keep, r, torch.zeros_like(r)) for r in record)
    return out, tuple(torch.where(keep, n, s) for n, s in zip(new_state, state)), record


def run_sequence(
    step: Step,
    inputs: Tensor | tuple[Tensor, ...],
    state: tuple[Tensor, ...],
    step_mask: Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, ...], tuple[Tensor, ...]]:
    """Apply ``step(x_t, state) -> (output_t, new_state, record_t)`` for ``t = 0 .. T-1``.

    ``inputs (T, B, ...)``, or a tuple of such tensors, whose step-``t`` slices ``step`` then
    receives as a tuple (an input with per-step masks). Where ``step_mask[t, b]`` is false the
    sequence has ended: its state is carried unchanged and its output (and records) are zero.
    Returns the stacked outputs ``(T, B, ...)``, the final state, and each record stacked over time.

    Under ``torch.export`` the same steps run as a ``scan`` (:func:`scan_sequence`), so ``T`` stays
    a dynamic dimension of the exported program instead of being unrolled into ``T`` copies.
    """
    if torch.compiler.is_exporting():
        return scan_sequence(step, inputs, state, step_mask)
    outputs, records = [], []
    steps = inputs.shape[0] if isinstance(inputs, Tensor) else inputs[0].shape[0]
    for t in range(steps):
        x_t = inputs[t] if isinstance(inputs, Tensor) else tuple(i[t] for i in inputs)
        out, new_state, record = step(x_t, state)
        if step_mask is not None:
            out, new_state, record = _mask_step(step_mask[t].unsqueeze(-1), out, new_state, state, record)
        state = new_state
        outputs.append(out)
        records.append(record)
    stacked = tuple(torch.stack(r) for r in zip(*records)) if records and records[0] else ()
    return torch.stack(outputs), state, stacked


def scan_sequence(
    step: Step,
    inputs: Tensor | tuple[Tensor, ...],
    state: tuple[Tensor, ...],
    step_mask: Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, ...], tuple[Tensor, ...]]:
    """:func:`run_sequence` as one ``torch._higher_order_ops.scan`` over time: the same arguments and
    results, but a single graph node whose loop length is the input's, for ``torch.export``."""
    from torch._higher_order_ops import scan  # a prototype of torch's; imported only where it is used

    def combine(carry: States, slices: tuple) -> tuple[States, tuple]:
        x_t = slices[0]
        out, new_state, record = step(x_t, carry)
        if step_mask is not None:
            out, new_state, record = _mask_step(slices[1].unsqueeze(-1), out, new_state, carry, record)
        # scan refuses outputs that alias the carry (h is both the output and the state): copies.
        return tuple(new_state), (out.clone(), tuple(r.clone() for r in record))

    xs = (inputs,) if step_mask is None else (inputs, step_mask)
    final, (outputs, records) = scan(combine, tuple(state), xs)
    return outputs, tuple(final), tuple(records)


def _with_zoneout(input: Tensor, keep: Tensor | float | None) -> tuple[Tensor | tuple[Tensor, Tensor], bool]:
    """The loop's inputs, paired with the zoneout mask when there is one to slice per step."""
    per_step = isinstance(keep, Tensor)
    return ((input, keep) if per_step else input), per_step


def lstm_sequence(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    layer_norm: LayerNormWeights | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: Tensor | float | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor], dict[str, Tensor]]:
    """One LSTM layer in one direction over ``input (T, B, I)`` by looping :func:`lstm_cell_gates`.

    ``zoneout``: a bool mask ``(T, B, P + H)`` or a probability (see the module docstring). Both
    states are zoned out, each with its own units of the mask, as in Krueger et al. (2016): the
    (projected) ``h`` and the cell state ``c``; the output at a step is the zoned-out ``h``.
    Returns ``output (T, B, P)``, the final ``(h, c)``, and the per-step gates and cell states as
    ``{"input", "forget", "cell", "output": (T, B, H), "cell_state": (T, B, H)}`` (the state carried).
    """
    out_size = hx[0].shape[-1]
    keep = zoneout_per_step(zoneout, input.shape[0], input.shape[1], out_size + hx[1].shape[-1])
    inputs, per_step = _with_zoneout(input, keep)

    def step(inputs_t, state):
        x_t, keep_t = inputs_t if per_step else (inputs_t, keep)
        s = lstm_cell_gates(
            x_t, state, w_ih, w_hh, b_ih, b_hh, w_hr, layer_norm=layer_norm, recurrent_mask=recurrent_mask
        )
        h, c = s.h, s.c
        if keep_t is not None:
            keep_h, keep_c = split_lstm_zoneout(keep_t, out_size)
            h, c = apply_zoneout(state[0], h, keep_h), apply_zoneout(state[1], c, keep_c)
        return h, (h, c), (s.i, s.f, s.g, s.o, c)

    output, (h, c), records = run_sequence(step, inputs, tuple(hx), step_mask)
    return output, (h, c), dict(zip((*LSTM_GATES, "cell_state"), records))


def gru_sequence(
    input: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    reset_after: bool = True,
    recurrent_mask: Tensor | None = None,
    zoneout: Tensor | float | None = None,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One GRU layer in one direction over ``input (T, B, I)``; returns output, final ``h``, gates.

    ``zoneout``: a bool mask ``(T, B, H)`` or a probability (see the module docstring); the output
    at a step is the zoned-out ``h``.
    """
    keep = zoneout_per_step(zoneout, input.shape[0], input.shape[1], h0.shape[-1])
    inputs, per_step = _with_zoneout(input, keep)

    def step(inputs_t, state):
        x_t, keep_t = inputs_t if per_step else (inputs_t, keep)
        s = gru_cell_gates(
            x_t, state[0], w_ih, w_hh, b_ih, b_hh, reset_after=reset_after, recurrent_mask=recurrent_mask
        )
        h = s.h if keep_t is None else apply_zoneout(state[0], s.h, keep_t)
        return h, (h,), (s.r, s.z, s.n)

    output, (h,), records = run_sequence(step, inputs, (h0,), step_mask)
    return output, h, dict(zip(GRU_GATES, records))


def rnn_sequence(
    input: Tensor,
    h0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    step_mask: Tensor | None = None,
    nonlinearity: str = "tanh",
    recurrent_mask: Tensor | None = None,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One Elman RNN layer in one direction over ``input (T, B, I)``; returns output, final ``h``, ``{}``."""

    def step(x_t, state):
        h = rnn_cell(x_t, state[0], w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity, recurrent_mask=recurrent_mask)
        return h, (h,), ()

    output, (h,), _ = run_sequence(step, input, (h0,), step_mask)
    return output, h, {}
