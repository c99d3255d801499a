"""Parity of lstmkit against torch.nn on random inputs, for ``lstmkit selftest``."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstmkit import functional as LF

TOLERANCE = 1e-10


@dataclass(frozen=True)
class ParityResult:
    name: str
    output_error: float
    gradient_error: float

    @property
    def passed(self) -> bool:
        return self.output_error <= TOLERANCE and self.gradient_error <= TOLERANCE


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest elementwise error, relative to the largest magnitude in ``expected``."""
    scale = expected.abs().max().clamp_min(1e-30)
    return float((actual - expected).abs().max().detach() / scale.detach())


def _compare(name, ours, theirs, leaves):
    """Run both closures, backprop a fixed random projection of their outputs, compare."""
    out_ours, out_theirs = ours(), theirs()
    weights = [torch.randn_like(o) for o in out_theirs]
    output_error = max(relative_error(a, b) for a, b in zip(out_ours, out_theirs))
    grads_ours = torch.autograd.grad(sum((w * o).sum() for w, o in zip(weights, out_ours)), leaves)
    grads_theirs = torch.autograd.grad(sum((w * o).sum() for w, o in zip(weights, out_theirs)), leaves)
    gradient_error = max(relative_error(a, b) for a, b in zip(grads_ours, grads_theirs))
    return ParityResult(name, output_error, gradient_error)


def run_selftest(seed: int = 0) -> list[ParityResult]:
    """Compare each cell with torch.nn's, in float64, on random inputs and weights."""
    torch.manual_seed(seed)
    dt = torch.float64
    B, I, H = 4, 6, 8
    results = []
    x = torch.randn(B, I, dtype=dt, requires_grad=True)
    h = torch.randn(B, H, dtype=dt, requires_grad=True)
    c = torch.randn(B, H, dtype=dt, requires_grad=True)

    cell = torch.nn.LSTMCell(I, H).to(dt)
    params = list(cell.parameters())
    results.append(_compare("lstm_cell", lambda: LF.lstm_cell(x, (h, c), *params), lambda: cell(x, (h, c)),
                            [x, h, c, *params]))
    cell = torch.nn.GRUCell(I, H).to(dt)
    params = list(cell.parameters())
    results.append(_compare("gru_cell", lambda: (LF.gru_cell(x, h, *params),), lambda: (cell(x, h),),
                            [x, h, *params]))
    for nonlinearity in ("tanh", "relu"):
        cell = torch.nn.RNNCell(I, H, nonlinearity=nonlinearity).to(dt)
        params = list(cell.parameters())
        results.append(_compare(f"rnn_cell ({nonlinearity})",
                                lambda p=params, n=nonlinearity: (LF.rnn_cell(x, h, *p, nonlinearity=n),),
                                lambda m=cell: (m(x, h),), [x, h, *params]))
    return results
