"""The gradient of a last-step loss against lag, for one model: :func:`gradient_profile`.

The loss is the adding problem's squared error at the last step (:mod:`lstmkit.diagnostics.memory`).
:func:`gradient_profile` unrolls the model's recurrent layer step by step with the cell functions of
:mod:`lstmkit.functional` (in float64, so that norms down to 1e-30 are still exact) and takes the
gradient of that loss with respect to every input ``x_t`` and every hidden state ``h_t`` (and, for the
LSTM, every cell state ``c_t``). The lag is ``T - 1 - t``: lag 0 is the last step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from lstmkit.cell_kinds import WEIGHT_ROLES, cell_kind, parameter_name
from lstmkit.diagnostics.memory import MemoryModel

__all__ = ["THRESHOLD", "GradientProfile", "decay_lag", "gradient_profile"]

THRESHOLD = 1e-6


@dataclass
class GradientProfile:
    """Mean per-sequence gradient norm at each lag ``0..T-1`` (index = lag), for one model state.

    ``inputs[k] = mean_b ||∂L_b/∂x_{T-1-k,b}||``; ``hidden`` likewise for ``h``; ``cell_state`` for the
    LSTM's ``c`` (empty for other cells).
    """

    cell: str
    stage: str
    inputs: list[float]
    hidden: list[float]
    cell_state: list[float] = field(default_factory=list)

    def relative(self, series: str = "inputs") -> list[float]:
        """The series divided by its lag-0 value."""
        values = getattr(self, series)
        return [v / values[0] if values[0] > 0 else float("nan") for v in values]

    def to_dict(self) -> dict:
        return {**asdict(self), "decay_lag": decay_lag(self.inputs), "hidden_decay_lag": decay_lag(self.hidden)}


def decay_lag(norms: Sequence[float], threshold: float = THRESHOLD) -> int | None:
    """The first lag at which ``norms[lag] < threshold * norms[0]``; ``None`` if it never falls that low."""
    if not norms or norms[0] <= 0:
        raise ValueError("norms must start with a positive lag-0 value")
    for lag, value in enumerate(norms):
        if value < threshold * norms[0]:
            return lag
    return None


def _unroll(layer: nn.Module, inputs: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """Run a one-layer, one-direction lstmkit layer step by step from the functional cells.

    Returns the last hidden state and the per-step hidden (and LSTM cell) states, each a leaf of the
    graph whose gradient is kept. Weights are cast to ``inputs``' dtype.
    """
    if layer.num_layers != 1 or layer.bidirectional or getattr(layer, "proj_size", 0) or layer.layer_norm:
        raise ValueError("gradient_profile needs a plain one-layer, one-direction layer")
    kind = cell_kind(layer.mode)
    weights = [getattr(layer, parameter_name(role, 0), None) for role in WEIGHT_ROLES[:4]]  # no projection
    weights = [None if p is None else p.to(inputs.dtype) for p in weights]
    options = kind.options(layer)
    h = zeros = inputs.new_zeros(inputs.shape[1], layer.hidden_size)
    states = (zeros, zeros) if kind.has_cell_state else (zeros,)
    hiddens, cells = [], []
    for x_t in inputs:
        states = kind.as_states(kind.cell(x_t, kind.as_hx(states), *weights, **options))
        h = states[0]
        if kind.has_cell_state:
            states[1].retain_grad()
            cells.append(states[1])
        h.retain_grad()
        hiddens.append(h)
    return h, hiddens, cells


def _per_lag_norms(grads: Sequence[Tensor]) -> list[float]:
    """Per-step gradients (time order) -> mean over the batch of each sequence's norm, lag order."""
    return [float(g.flatten(1).norm(dim=1).mean()) for g in reversed(grads)]


def gradient_profile(model: MemoryModel, inputs: Tensor, targets: Tensor, stage: str = "init") -> GradientProfile:
    """Gradient norms of the last-step squared error against lag, for a :class:`MemoryModel` on adding data.

    ``inputs (T, B, I)``, ``targets (B,)``. The loss is summed over the batch (not averaged), so each
    sequence's gradient is that of its own loss.
    """
    x = inputs.detach().double().requires_grad_(True)
    h_last, hiddens, cells = _unroll(model.rnn, x)
    readout = model.readout
    prediction = torch.nn.functional.linear(h_last, readout.weight.double(), readout.bias.double()).squeeze(-1)
    loss = ((prediction - targets.double()) ** 2).sum()
    loss.backward()
    return GradientProfile(
        cell=cell_kind(model.rnn.mode).name,
        stage=stage,
        inputs=_per_lag_norms(list(x.grad)),
        hidden=_per_lag_norms([h.grad for h in hiddens]),
        cell_state=_per_lag_norms([c.grad for c in cells]),
    )
