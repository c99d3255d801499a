"""Parity of lstmkit's layers against ``torch.nn``: the machinery behind ``lstmkit selftest`` and the tests.

A :class:`LayerCase` describes one configuration. :func:`layer_parity` builds the torch.nn layer and
the lstmkit layer with the same weights (through ``load_state_dict``), runs both on the same random
input, backpropagates the same random projection of every output, and reports the largest relative
error of the outputs and final states, and of the gradients of every parameter, the input and h0/c0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit import kernels, layers

TOLERANCE = 1e-10
CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")
INPUTS = ("padded", "lengths", "packed", "unbatched")
STEPS, BATCH, INPUT, HIDDEN, PROJ = 5, 3, 4, 6, 3


@dataclass(frozen=True)
class LayerCase:
    """One layer configuration to compare. ``inputs``: how the batch is given (see ``INPUTS``);
    ``steps`` and ``batch`` size the random input (``T``, ``B``)."""

    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    proj_size: int = 0
    inputs: str = "padded"
    initial_state: bool = False
    steps: int = STEPS
    batch: int = BATCH
    input_size: int = INPUT
    hidden_size: int = HIDDEN
    bias: bool = True

    @property
    def name(self) -> str:
        parts = [self.cell, f"L{self.num_layers}", "bi" if self.bidirectional else "uni", self.inputs]
        if self.batch_first:
            parts.append("batch_first")
        if self.proj_size:
            parts.append(f"proj{self.proj_size}")
        if self.initial_state:
            parts.append("h0")
        if not self.bias:
            parts.append("nobias")
        sizes = (self.steps, self.batch, self.input_size, self.hidden_size)
        if sizes != (STEPS, BATCH, INPUT, HIDDEN):
            parts.append("T{}B{}I{}H{}".format(*sizes))
        return " ".join(parts)


@dataclass(frozen=True)
class ParityResult:
    name: str
    backend: str
    output_error: float
    gradient_error: float

    @property
    def passed(self) -> bool:
        return self.output_error <= TOLERANCE and self.gradient_error <= TOLERANCE


def relative_error(actual: Tensor, expected: Tensor) -> float:
    """Largest elementwise error, relative to the largest magnitude in ``expected``."""
    scale = expected.detach().abs().max().clamp_min(1e-300)
    return float((actual.detach() - expected.detach()).abs().max() / scale)


def build_pair(case: LayerCase, backend: str, dtype=torch.float64) -> tuple[nn.Module, nn.Module]:
    """The torch.nn layer and the lstmkit layer of ``case``, holding identical weights."""
    options = {
        "input_size": case.input_size,
        "hidden_size": case.hidden_size,
        "num_layers": case.num_layers,
        "bias": case.bias,
        "bidirectional": case.bidirectional,
        "batch_first": case.batch_first,
    }
    if case.cell == "lstm":
        theirs, ours = (
            nn.LSTM(proj_size=case.proj_size, **options),
            layers.LSTM(proj_size=case.proj_size, backend=backend, **options),
        )
    elif case.cell == "gru":
        theirs, ours = nn.GRU(**options), layers.GRU(backend=backend, **options)
    else:
        nonlinearity = case.cell.removeprefix("rnn_")
        theirs = nn.RNN(nonlinearity=nonlinearity, **options)
        ours = layers.RNN(nonlinearity=nonlinearity, backend=backend, **options)
    theirs, ours = theirs.to(dtype), ours.to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def _random_inputs(case: LayerCase, dtype) -> dict:
    steps, batch, features = case.steps, case.batch, case.input_size
    shape = (batch, steps, features) if case.batch_first else (steps, batch, features)
    if case.inputs == "unbatched":
        shape = (steps, features)
    x = torch.randn(shape, dtype=dtype, requires_grad=True)
    lengths = torch.randint(1, steps + 1, (batch,))
    lengths[torch.randint(batch, ())] = steps  # the longest fills the padded length, as pad_packed gives
    states = []
    if case.initial_state:
        rows = case.num_layers * (2 if case.bidirectional else 1)
        batch_dims = () if case.inputs == "unbatched" else (batch,)
        hidden = case.hidden_size
        states.append(torch.randn(rows, *batch_dims, case.proj_size or hidden, dtype=dtype, requires_grad=True))
        if case.cell == "lstm":
            states.append(torch.randn(rows, *batch_dims, hidden, dtype=dtype, requires_grad=True))
    return {"x": x, "lengths": lengths, "states": states}


def _run(case: LayerCase, module: nn.Module, data: dict, use_lengths_keyword: bool) -> list[Tensor]:
    """Run ``module`` and return [output (padded), final state tensors...]."""
    x, lengths, states = data["x"], data["lengths"], data["states"]
    hx = None if not states else (tuple(states) if case.cell == "lstm" else states[0])
    if case.inputs == "lengths" and use_lengths_keyword:
        output, final = module(x, hx, lengths=lengths)
    elif case.inputs in ("lengths", "packed"):
        packed = pack_padded_sequence(x, lengths, batch_first=case.batch_first, enforce_sorted=False)
        output, final = module(packed, hx)
        output, _ = pad_packed_sequence(output, batch_first=case.batch_first, total_length=case.steps)
    else:
        output, final = module(x, hx)
    return [output, *(final if isinstance(final, tuple) else (final,))]


def layer_parity(case: LayerCase, backend: str = "bptt", seed: int = 0, dtype=torch.float64) -> ParityResult:
    """Compare outputs, final states and all gradients of lstmkit vs torch.nn for ``case``."""
    torch.manual_seed(seed)
    theirs, ours = build_pair(case, backend, dtype)
    data = _random_inputs(case, dtype)
    out_theirs = _run(case, theirs, data, use_lengths_keyword=False)
    out_ours = _run(case, ours, data, use_lengths_keyword=True)
    output_error = max(relative_error(a, b) for a, b in zip(out_ours, out_theirs))

    projections = [torch.randn_like(o) for o in out_theirs]
    inputs = [data["x"], *data["states"]]
    names = [name for name, _ in theirs.named_parameters()]
    ours_params = dict(ours.named_parameters())

    def grads(outputs, params):
        loss = sum((p * o).sum() for p, o in zip(projections, outputs))
        return torch.autograd.grad(loss, inputs + params)

    g_theirs = grads(out_theirs, [dict(theirs.named_parameters())[n] for n in names])
    g_ours = grads(out_ours, [ours_params[n] for n in names])
    gradient_error = max(relative_error(a, b) for a, b in zip(g_ours, g_theirs))
    return ParityResult(case.name, backend, output_error, gradient_error)


def selftest_cases() -> list[LayerCase]:
    """A representative sweep for the CLI (the test suite runs the full grid)."""
    cases = []
    for cell in CELLS:
        cases += [
            LayerCase(cell),
            LayerCase(cell, num_layers=2, bidirectional=True, batch_first=True, inputs="lengths", initial_state=True),
            LayerCase(cell, num_layers=3, bidirectional=True, inputs="packed"),
            LayerCase(cell, num_layers=2, inputs="unbatched", initial_state=True),
        ]
    cases.append(
        LayerCase("lstm", num_layers=2, bidirectional=True, proj_size=PROJ, inputs="lengths", initial_state=True)
    )
    return cases


def default_backends() -> tuple[str, ...]:
    """lstmkit's own backends: the compiled kernels (when they are built), the Python BPTT, the reference."""
    return ("compiled", "bptt", "reference") if kernels.available() else ("bptt", "reference")


def run_selftest(seed: int = 0, backends: tuple[str, ...] | None = None) -> list[ParityResult]:
    """Every case of :func:`selftest_cases` on each backend (default: :func:`default_backends`)."""
    backends = default_backends() if backends is None else backends
    return [layer_parity(case, backend, seed) for backend in backends for case in selftest_cases()]
