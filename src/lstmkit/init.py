"""Initialisation schemes for recurrent layers, in place (torch's trailing-underscore convention).

Each works on any module whose parameters follow ``torch.nn``'s names (``weight_ih_l0``,
``weight_hh_l0_reverse``, ``bias_ih_l0`` …): lstmkit's layers and ``torch.nn.LSTM``/``GRU``/``RNN``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from lstmkit.cell_kinds import CELL_KINDS, parse_parameter_name

__all__ = ["torch_default_", "xavier_", "orthogonal_recurrent_", "forget_bias_", "chrono_"]

_LSTM = CELL_KINDS["LSTM"]


def _by_role(module: nn.Module) -> Iterator[tuple[str, nn.Parameter]]:
    """``(role, parameter)`` for each of the module's own parameters (``weight_hh_l1_reverse``: ``weight_hh``)."""
    for name, param in module.named_parameters(recurse=False):
        yield parse_parameter_name(name).role, param


def _check_lstm(module: nn.Module, scheme: str) -> None:
    if getattr(module, "mode", None) != _LSTM.mode:
        raise ValueError(f"{scheme} applies to LSTM layers, got mode {getattr(module, 'mode', None)!r}")


@torch.no_grad()
def torch_default_(module: nn.Module) -> None:
    """``torch.nn``'s scheme: every weight and bias uniform in ±1/√hidden_size; layer-norm gains 1, biases 0."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for role, param in _by_role(module):
        if role == "layer_norm_cell_bias":
            param.zero_()
        elif role.startswith("layer_norm"):
            param.fill_(1.0)
        else:
            param.uniform_(-bound, bound)


@torch.no_grad()
def xavier_(module: nn.Module) -> None:
    """Glorot-uniform input and projection weights, orthogonal recurrent weights, zero biases.

    This is Keras's default for recurrent layers; with :func:`forget_bias_` it is the usual
    recipe for training LSTMs from scratch.
    """
    for role, param in _by_role(module):
        if role in ("weight_ih", "weight_hr"):
            nn.init.xavier_uniform_(param)
        elif role in ("bias_ih", "bias_hh"):
            param.zero_()
    orthogonal_recurrent_(module)


@torch.no_grad()
def orthogonal_recurrent_(module: nn.Module, gain: float = 1.0) -> None:
    """Each gate's block of every ``weight_hh`` orthogonal (Saxe et al. 2014).

    An orthogonal matrix keeps the norm of the vector it multiplies, so at initialisation the
    recurrent path neither shrinks nor blows up the signal (or the gradient) step after step.
    """
    for role, param in _by_role(module):
        if role == "weight_hh":
            for block in param.split(module.hidden_size, dim=0):
                nn.init.orthogonal_(block, gain=gain)


@torch.no_grad()
def forget_bias_(module: nn.Module, value: float = 1.0) -> None:
    """Set the forget gate's total bias to ``value`` (LSTM only): ``bias_ih`` gets it, ``bias_hh`` 0.

    A positive forget bias starts the cell state close to "remember everything", so gradients flow
    over long spans from the first update (Gers et al. 2000; Jozefowicz et al. 2015).
    """
    _check_lstm(module, "forget_bias_")
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise ValueError(f"forget_bias must be a finite number, got {value!r}")
    forget = _LSTM.gate_rows("forget", module.hidden_size)
    for role, param in _by_role(module):
        if role == "bias_ih":
            param[forget] = value
        elif role == "bias_hh":
            param[forget] = 0.0


@torch.no_grad()
def chrono_(module: nn.Module, max_steps: int, generator: torch.Generator | None = None) -> None:
    """Chrono initialisation (Tallec & Ollivier 2018), LSTM only: ``b_f = log(u)``, ``b_i = -b_f``.

    ``u ~ U[1, max_steps - 1]`` per unit. A unit with forget-gate bias ``log(u)`` keeps its cell state
    over roughly ``u`` steps, so the units start with memory spans spread over ``1 .. max_steps`` (the
    longest dependency expected) instead of all forgetting at the same rate; the input gate starts
    closed in proportion. ``bias_ih`` gets the values, ``bias_hh`` zero, for those two gates.
    """
    _check_lstm(module, "chrono_")
    if not isinstance(max_steps, int) or max_steps < 3:
        raise ValueError(f"max_steps must be an int of at least 3, got {max_steps!r}")
    hidden = module.hidden_size
    input_rows, forget_rows = _LSTM.gate_rows("input", hidden), _LSTM.gate_rows("forget", hidden)
    for role, param in _by_role(module):
        if role == "bias_ih":
            forget = torch.empty(hidden).uniform_(1, max_steps - 1, generator=generator).log()
            param[forget_rows] = forget
            param[input_rows] = -forget
        elif role == "bias_hh":
            param[input_rows] = 0.0
            param[forget_rows] = 0.0
