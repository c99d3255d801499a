"""The table of recurrent cell kinds, and torch.nn's parameter names, written once.

A :class:`CellKind` holds what tells one cell from another: its gate blocks, whether it carries a cell
state, its reference loop, its Python BPTT and compiled layer functions. :data:`CELL_KINDS` maps torch's
mode strings (``layer.mode``: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"``) to them, so code
asks the kind instead of branching on the string.

Parameter names follow ``torch.nn``: ``{role}_l{layer}`` plus ``_reverse`` for the backward direction
of a bidirectional layer (``weight_hh_l1_reverse``). :func:`parameter_name` builds them and
:func:`parse_parameter_name` takes them apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from torch import Tensor

from lstmkit import bptt, kernels
from lstmkit import functional as LF

__all__ = [
    "CellKind",
    "StepKernel",
    "CELL_KINDS",
    "cell_kind",
    "WEIGHT_ROLES",
    "LAYER_NORM_ROLES",
    "PARAMETER_ROLES",
    "ARGUMENT_NAMES",
    "ParameterName",
    "direction_suffix",
    "parameter_name",
    "parse_parameter_name",
]

# torch.nn's order of one layer-direction's weights (``_flat_weights``); ``weight_hr`` only with proj_size.
WEIGHT_ROLES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
# lstmkit's layer-norm parameters, in the field order of :class:`~lstmkit.functional.LayerNormWeights`.
LAYER_NORM_ROLES = ("layer_norm_ih", "layer_norm_hh", "layer_norm_cell_weight", "layer_norm_cell_bias")
PARAMETER_ROLES = WEIGHT_ROLES + LAYER_NORM_ROLES
# The argument names of :mod:`lstmkit.functional`, :mod:`lstmkit.bptt` and the kernels for each weight.
ARGUMENT_NAMES = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh", "weight_hr": "w_hr"}

_NAME = re.compile(rf"^({'|'.join(PARAMETER_ROLES)})_l(\d+)(_reverse)?$")

State = Tensor | tuple[Tensor, Tensor]


class ParameterName(NamedTuple):
    """A parsed parameter name: ``role`` (one of :data:`PARAMETER_ROLES`), ``layer`` and direction."""

    role: str
    layer: int
    reverse: bool = False


def direction_suffix(layer: int, reverse: bool = False) -> str:
    """What torch appends to a role for one layer and direction: ``_l{layer}``, plus ``_reverse``."""
    return f"_l{layer}_reverse" if reverse else f"_l{layer}"


def parameter_name(role: str, layer: int, reverse: bool = False) -> str:
    """torch.nn's name of a recurrent parameter: ``parameter_name("weight_hh", 1, True)`` is
    ``"weight_hh_l1_reverse"``."""
    if role not in PARAMETER_ROLES:
        raise ValueError(f"role must be one of {PARAMETER_ROLES}, got {role!r}")
    return role + direction_suffix(layer, reverse)


def parse_parameter_name(name: str) -> ParameterName:
    """The inverse of :func:`parameter_name`: ``"bias_ih_l0_reverse"`` -> ``("bias_ih", 0, True)``."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(
            f"not a recurrent parameter name ({{role}}_l{{layer}}[_reverse], role in {PARAMETER_ROLES}): {name!r}"
        )
    role, layer, reverse = match.groups()
    return ParameterName(role, int(layer), reverse is not None)


@dataclass(frozen=True)
class StepKernel:
    """How streaming calls a cell's compiled one-step function (``csrc/step.cpp``).

    ``name`` is the C function's stem (``lstm_step``); ``work`` the scratch floats per sequence, in
    units of ``hidden_size``; ``flag(layer)`` the function's last size argument; ``split_biases``: the
    step takes ``b_ih`` and ``b_hh`` apart (a GRU's candidate multiplies ``b_hn`` by the reset gate),
    else their sum, which adds to every pre-activation.
    """

    name: str
    work: int
    flag: Callable[[object], int]
    split_biases: bool = False


# The flags: an LSTM step's output width (h is projected to proj_size when there is one), a GRU's
# reset_after (where the reset gate applies), an Elman RNN's nonlinearity (1: relu).
_LSTM_STEP = StepKernel("lstm_step", 5, lambda layer: layer.proj_size or layer.hidden_size)
_GRU_STEP = StepKernel("gru_step", 7, lambda layer: int(layer.reset_after), split_biases=True)
_RNN_STEP = StepKernel("rnn_step", 1, lambda layer: int(layer.nonlinearity == "relu"))


@dataclass(frozen=True)
class CellKind:
    """One recurrent cell, as the layers, initialisers and diagnostics need to know it.

    ``mode`` is torch.nn's (its lower case names torch's fused kernel, ``torch._VF.lstm``); ``name`` is
    the cell's name in lstmkit's diagnostics. ``gates`` are the gate blocks stacked in ``w_ih`` and
    ``w_hh`` in torch's order, as traces name them (none for an Elman RNN, whose single block is the new
    state). ``has_cell_state``: the state is ``(h, c)`` (an LSTM), else ``h`` alone; only such a cell
    can project ``h`` (``proj_size``). ``cell`` is the one-step function of :mod:`lstmkit.functional`,
    ``reference`` its loop over time; ``bptt`` and ``compiled`` the layer functions of :mod:`lstmkit.bptt`
    and :mod:`lstmkit.kernels`, which share one signature. ``layer_options`` are the layer attributes
    these functions take as keywords (a GRU's ``reset_after``, an RNN's ``nonlinearity``); ``step`` the
    compiled one-step function that streaming calls. ``compiled_together`` runs several compiled
    layer-directions at once, side by side (a list of ``(args, options)`` of ``compiled`` -> a list of its
    results).
    """

    mode: str
    name: str
    gates: tuple[str, ...]
    has_cell_state: bool
    cell: Callable
    reference: Callable
    bptt: Callable
    compiled: Callable
    compiled_together: Callable
    step: StepKernel
    layer_options: tuple[str, ...] = ()

    @property
    def blocks(self) -> int:
        """How many ``H``-row blocks ``w_ih`` and ``w_hh`` stack (torch's gate multiplier)."""
        return max(len(self.gates), 1)

    def gate_rows(self, gate: str, hidden_size: int) -> slice:
        """The rows of ``w_ih``, ``w_hh`` and the biases that feed ``gate`` (``"forget"`` of an LSTM: H..2H)."""
        if gate not in self.gates:
            raise ValueError(f"{self.mode} has no gate {gate!r}; its gates are {self.gates}")
        start = self.gates.index(gate) * hidden_size
        return slice(start, start + hidden_size)

    @property
    def weight_roles(self) -> tuple[str, ...]:
        """The weight roles of one layer-direction, in torch's order (``weight_hr`` where a projection can be)."""
        return WEIGHT_ROLES if self.has_cell_state else WEIGHT_ROLES[:4]

    def options(self, layer) -> dict[str, object]:
        """The keywords of ``layer`` (an lstmkit or torch.nn layer) that this cell's functions take."""
        return {name: getattr(layer, name) for name in self.layer_options}

    def layer_function(self, backend: str) -> Callable:
        """The loop of one layer-direction on ``backend`` (``"reference"``, ``"bptt"`` or ``"compiled"``)."""
        return {"reference": self.reference, "bptt": self.bptt, "compiled": self.compiled}[backend]

    def run_layer_directions(self, backend: str, calls: list[tuple[tuple, dict]]) -> list[tuple]:
        """One layer's directions, each ``(args, options)`` of :meth:`layer_function`'s, on ``backend``; the
        compiled kernels run them in one call, side by side (``compiled_together``). Returns ``(output,
        final states as a tuple, records)`` per direction."""
        if backend == "compiled":
            results = self.compiled_together(calls)
        else:
            run = self.layer_function(backend)
            results = [run(*args, **options) for args, options in calls]
        return [(output, self.as_states(final), records) for output, final, records in results]

    def as_hx(self, states: tuple[Tensor, ...]) -> State:
        """States as a tuple (``(h,)`` or ``(h, c)``) -> the ``hx`` layout of torch's API (``h`` or ``(h, c)``)."""
        return states if self.has_cell_state else states[0]

    def as_states(self, hx: State) -> tuple[Tensor, ...]:
        """The inverse of :meth:`as_hx`."""
        return tuple(hx) if self.has_cell_state else (hx,)


CELL_KINDS: dict[str, CellKind] = {
    kind.mode: kind
    for kind in (
        CellKind(
            "LSTM", "lstm", LF.LSTM_GATES, True, LF.lstm_cell, LF.lstm_sequence, bptt.lstm_layer, kernels.lstm_layer,
            kernels.lstm_layers, _LSTM_STEP,
        ),
        CellKind(
            "GRU", "gru", LF.GRU_GATES, False, LF.gru_cell, LF.gru_sequence, bptt.gru_layer, kernels.gru_layer,
            kernels.gru_layers, _GRU_STEP, layer_options=("reset_after",),
        ),
        CellKind(
            "RNN_TANH", "rnn", (), False, LF.rnn_cell, LF.rnn_sequence, bptt.rnn_layer, kernels.rnn_layer,
            kernels.rnn_layers, _RNN_STEP, layer_options=("nonlinearity",),
        ),
        CellKind(
            "RNN_RELU", "rnn_relu", (), False, LF.rnn_cell, LF.rnn_sequence, bptt.rnn_layer, kernels.rnn_layer,
            kernels.rnn_layers, _RNN_STEP, layer_options=("nonlinearity",),
        ),
    )
}  # fmt: skip


def cell_kind(mode: str) -> CellKind:
    """The kind of a layer's ``mode`` (lstmkit's or torch.nn's layers)."""
    if mode not in CELL_KINDS:
        raise ValueError(f"mode must be one of {tuple(CELL_KINDS)}, got {mode!r}")
    return CELL_KINDS[mode]
