"""Recurrent cells written from their gate equations: one step of an LSTM, a GRU or an Elman RNN.

Weights use ``torch.nn``'s layout (see :mod:`lstmkit.functional`). Each cell comes in three forms:
``*_step`` takes the input projection ``W_ih x + b_ih`` already computed (the layers hoist it out of the
time loop as one GEMM), ``*_cell_gates`` returns every gate of one step, and ``*_cell`` has the
parameters of ``torch.nn.LSTMCell``/``GRUCell``/``RNNCell``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

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
