"""The math: recurrent cells written from their gate equations, and reference loops over time.

Everything here is a pure function of tensors: no parameters are owned, nothing is cached.
Weights use ``torch.nn``'s layout so they interchange with ``torch.nn.LSTM``/``GRU``/``RNN``:

* LSTM: ``w_ih (4H, I)``, ``w_hh (4H, P)`` with the gate blocks in the order input, forget,
  cell candidate, output (``LSTM_GATES``); ``w_hr (P, H)`` when the output is projected
  (``P = proj_size``), else ``P = H``.
* GRU: ``w_ih (3H, I)``, ``w_hh (3H, H)`` in the order reset, update, new (``GRU_GATES``).
* RNN: ``w_ih (H, I)``, ``w_hh (H, H)``.

Zoneout (Krueger et al. 2016) is given to the sequence loops as ``zoneout``: either a boolean mask
``(T, B, N)``, true where a unit keeps its previous value at that step (training), or a probability
``p`` for the expectation ``p * previous + (1 - p) * new`` (evaluation). ``N`` is the state width:
``H`` for a GRU, ``P + H`` for an LSTM (the units of ``h`` first, then those of ``c``).

Shapes in docstrings: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` hidden units.
The equations behind each function are explained in ``docs/equations.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LSTM_GATES",
    "GRU_GATES",
    "LayerNormWeights",
    "LSTMGates",
    "GRUGates",
    "lstm_gates",
    "lstm_input_projection",
    "lstm_step",
    "lstm_cell_gates",
    "lstm_cell",
    "gru_step",
    "gru_cell_gates",
    "gru_cell",
    "rnn_step",
    "rnn_cell",
    "run_sequence",
    "lstm_sequence",
    "gru_sequence",
    "rnn_sequence",
    "reverse_padded",
    "step_mask_from_lengths",
    "apply_zoneout",
    "split_lstm_zoneout",
    "zoneout_per_step",
    "zero_ended",
]

LSTM_GATES = ("input", "forget", "cell", "output")
GRU_GATES = ("reset", "update", "new")
RNN_NONLINEARITIES = ("tanh", "relu")


class LayerNormWeights(NamedTuple):
    """Gains and bias of a layer-normalised LSTM (Ba, Kiros & Hinton, 2016).

    ``ih`` and ``hh`` (4H,) scale the normalised input and recurrent projections; they carry no
    bias of their own because ``b_ih``/``b_hh`` already add one. ``cell_weight``/``cell_bias``
    (H,) normalise the cell state before its tanh.
    """

    ih: Tensor
    hh: Tensor
    cell_weight: Tensor
    cell_bias: Tensor


class LSTMGates(NamedTuple):
    """One LSTM step, every intermediate kept: activated gates ``i, f, g, o`` (B, H), the new
    cell state ``c`` (B, H) and the new hidden state ``h`` (B, P)."""

    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor
    c: Tensor
    h: Tensor


class GRUGates(NamedTuple):
    """One GRU step: reset ``r``, update ``z``, candidate ``n`` and new hidden state ``h``, all (B, H)."""

    r: Tensor
    z: Tensor
    n: Tensor
    h: Tensor


def _layer_norm(x: Tensor, weight: Tensor, bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def apply_zoneout(previous: Tensor, new: Tensor, keep: Tensor | float) -> Tensor:
    """Zoneout of one state ``(B, N)``: ``keep ⊙ previous + (1 − keep) ⊙ new``.

    ``keep`` is a boolean mask ``(B, N)`` (true: the unit keeps its previous value; an exact
    selection) or a probability ``p``, which gives the expectation used at evaluation.
    """
    if isinstance(keep, Tensor) and keep.dtype == torch.bool:
        return torch.where(keep, previous, new)
    return keep * previous + (1 - keep) * new


def split_lstm_zoneout(keep: Tensor | float, out_size: int) -> tuple[Tensor | float, Tensor | float]:
    """An LSTM step's zoneout as ``(keep_h, keep_c)``: a mask's first ``out_size`` units are ``h``'s,
    the rest ``c``'s; a probability applies to both."""
    if isinstance(keep, Tensor):
        return tuple(keep.split([out_size, keep.shape[-1] - out_size], -1))
    return keep, keep


def zoneout_per_step(zoneout: Tensor | float | None, steps: int, batch: int, width: int) -> Tensor | float | None:
    """Check a ``zoneout`` argument against ``(T, B, N) = (steps, batch, width)``; ``None`` when it is off.

    A mask must be boolean ``(T, B, N)``; a probability must lie in ``[0, 1)`` (``0`` is no zoneout).
    """
    if zoneout is None:
        return None
    if isinstance(zoneout, Tensor):
        if zoneout.dtype != torch.bool or tuple(zoneout.shape) != (steps, batch, width):
            raise ValueError(
                f"zoneout mask must be a bool tensor of shape (T, B, N) = {(steps, batch, width)}, "
                f"got {zoneout.dtype} {tuple(zoneout.shape)}"
            )
        return zoneout
    if isinstance(zoneout, bool) or not isinstance(zoneout, (int, float)) or not 0 <= zoneout < 1:
        raise ValueError(f"zoneout must be a bool mask or a probability in [0, 1), got {zoneout!r}")
    return float(zoneout) or None


def lstm_gates(preactivations: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Split ``(..., 4H)`` pre-activations in torch's gate order and apply each gate's squashing.

    Returns ``(i, f, g, o)``: sigmoid for the input, forget and output gates, tanh for the
    candidate ``g`` (a new value may push the cell state up or down, a gate only scales).
    """
    i, f, g, o = preactivations.chunk(4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def lstm_input_projection(
    input: Tensor, w_ih: Tensor, b_ih: Tensor | None = None, layer_norm: LayerNormWeights | None = None
) -> Tensor:
    """The part of the LSTM pre-activations that depends on the input only: ``W_ih x + b_ih``.

    It does not depend on ``h``, so for a whole sequence ``input (T, B, I)`` it is one GEMM
    (``(T, B, 4H)``) instead of ``T`` small ones; only the recurrent part stays in the time loop.
    With layer norm, ``LN(W_ih x) + b_ih``.
    """
    if layer_norm is None:
        return F.linear(input, w_ih, b_ih)
    projected = _layer_norm(F.linear(input, w_ih), layer_norm.ih)
    return projected if b_ih is None else projected + b_ih


def lstm_step(
    x_proj: Tensor,
    hx: tuple[Tensor, Tensor],
    w_hh: Tensor,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    *,
    layer_norm: LayerNormWeights | None = None,
    recurrent_mask: Tensor | None = None,
) -> LSTMGates:
    """The recurrent part of one LSTM step, given ``x_proj = lstm_input_projection(x) (B, 4H)``.

    ``hx = (h (B, P), c (B, H))``. ``recurrent_mask (B, P)`` multiplies ``h`` where it enters the
    recurrent matmul (variational recurrent dropout, Gal & Ghahramani 2016).
    """
    h, c = hx
    h_in = h if recurrent_mask is None else h * recurrent_mask
    if layer_norm is None:
        recurrent = F.linear(h_in, w_hh, b_hh)
    else:
        recurrent = _layer_norm(F.linear(h_in, w_hh), layer_norm.hh)
        recurrent = recurrent if b_hh is None else recurrent + b_hh
    i, f, g, o = lstm_gates(x_proj + recurrent)
    c_new = f * c + i * g
    c_out = c_new if layer_norm is None else _layer_norm(c_new, layer_norm.cell_weight, layer_norm.cell_bias)
    h_new = o * torch.tanh(c_out)
    if w_hr is not None:
        h_new = F.linear(h_new, w_hr)
    return LSTMGates(i, f, g, o, c_new, h_new)


def lstm_cell_gates(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    *,
    layer_norm: LayerNormWeights | None = None,
    recurrent_mask: Tensor | None = None,
) -> LSTMGates:
    """One LSTM step from ``input (B, I)``, returning every gate as well as the new state."""
    x_proj = lstm_input_projection(input, w_ih, b_ih, layer_norm)
    return lstm_step(x_proj, hx, w_hh, b_hh, w_hr, layer_norm=layer_norm, recurrent_mask=recurrent_mask)


def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, ``(h, c) -> (h', c')``, with the parameters of ``torch.nn.LSTMCell``.

    ``i, f, g, o = σ, σ, tanh, σ (W_ih x + b_ih + W_hh h + b_hh)``; ``c' = f ⊙ c + i ⊙ g``;
    ``h' = o ⊙ tanh(c')``, then ``h' = W_hr h'`` when a projection ``w_hr (P, H)`` is given.
    """
    step = lstm_cell_gates(input, hx, w_ih, w_hh, b_ih, b_hh, w_hr)
    return step.h, step.c


def gru_step(
    x_proj: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None = None,
    *,
    reset_after: bool = True,
    recurrent_mask: Tensor | None = None,
) -> GRUGates:
    """The recurrent part of one GRU step, given ``x_proj = W_ih x + b_ih (B, 3H)`` and ``h (B, H)``.

    ``reset_after=True`` is torch's (and cuDNN's) form: the reset gate scales the recurrent
    projection, ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``. ``reset_after=False`` is the
    original form of Cho et al. 2014: the reset gate scales ``h`` before the matmul,
    ``n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)``. Then ``h' = (1 - z) ⊙ n + z ⊙ h``.
    """
    hidden = w_hh.shape[1]
    h_in = h if recurrent_mask is None else h * recurrent_mask
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    w_hrz, w_hn = w_hh.split([2 * hidden, hidden])
    b_hrz, b_hn = (None, None) if b_hh is None else b_hh.split([2 * hidden, hidden])
    h_r, h_z = F.linear(h_in, w_hrz, b_hrz).chunk(2, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    if reset_after:
        n = torch.tanh(x_n + r * F.linear(h_in, w_hn, b_hn))
    else:
        n = torch.tanh(x_n + F.linear(r * h_in, w_hn, b_hn))
    h_new = (1 - z) * n + z * h
    return GRUGates(r, z, n, h_new)


def gru_cell_gates(
    input: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    reset_after: bool = True,
    recurrent_mask: Tensor | None = None,
) -> GRUGates:
    """One GRU step from ``input (B, I)`` and ``h (B, H)``, returning its gates (see :func:`gru_step`)."""
    return gru_step(F.linear(input, w_ih, b_ih), h, w_hh, b_hh, reset_after=reset_after, recurrent_mask=recurrent_mask)


def gru_cell(
    input: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    reset_after: bool = True,
) -> Tensor:
    """One GRU step, ``h -> h' = (1 - z) ⊙ n + z ⊙ h``, with the parameters of ``torch.nn.GRUCell``."""
    return gru_cell_gates(input, h, w_ih, w_hh, b_ih, b_hh, reset_after=reset_after).h


def rnn_step(
    x_proj: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None = None,
    *,
    nonlinearity: str = "tanh",
    recurrent_mask: Tensor | None = None,
) -> Tensor:
    """The recurrent part of one Elman RNN step, ``h' = act(x_proj + W_hh h + b_hh)``."""
    if nonlinearity not in RNN_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {RNN_NONLINEARITIES}, got {nonlinearity!r}")
    h_in = h if recurrent_mask is None else h * recurrent_mask
    pre = x_proj + F.linear(h_in, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def rnn_cell(
    input: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    *,
    nonlinearity: str = "tanh",
    recurrent_mask: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step, ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with ``act`` tanh or relu."""
    x_proj = F.linear(input, w_ih, b_ih)
    return rnn_step(x_proj, h, w_hh, b_hh, nonlinearity=nonlinearity, recurrent_mask=recurrent_mask)


# --------------------------------------------------------------------------------------------
# Reference loops over time. These are the test oracle: autograd through them defines the
# gradients the hand-written backward (``lstmkit.bptt``) must reproduce.
# --------------------------------------------------------------------------------------------

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
    """
    outputs, records = [], []
    steps = inputs.shape[0] if isinstance(inputs, Tensor) else inputs[0].shape[0]
    for t in range(steps):
        x_t = inputs[t] if isinstance(inputs, Tensor) else tuple(i[t] for i in inputs)
        out, new_state, record = step(x_t, state)
        if step_mask is not None:
            keep = step_mask[t].unsqueeze(-1)
            out = torch.where(keep, out, torch.zeros_like(out))
            record = tuple(torch.where(keep, r, torch.zeros_like(r)) for r in record)
            new_state = tuple(torch.where(keep, n, s) for n, s in zip(new_state, state))
        state = new_state
        outputs.append(out)
        records.append(record)
    stacked = tuple(torch.stack(r) for r in zip(*records)) if records and records[0] else ()
    return torch.stack(outputs), state, stacked


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
