"""lstmkit's layers against torch.nn, side by side in one process, and its extras against its plain LSTM.

Every timing is taken within one round, the contenders alternating, and tables show the median over
rounds of the per-round ratios (the machines are noisy and shared: only ratios taken side by side
mean anything). ``speed-up`` is torch time / lstmkit time, so > 1 means lstmkit is faster. GFLOP/s
counts the GEMM work only (2·B·(I+P)·G per step forward, three times that for forward+backward) and
is set against a matmul ceiling measured in the same run.
"""

from __future__ import annotations

import statistics
import time

import torch

import lstmkit

SHAPES = [(1, 100, 32, 64), (32, 100, 128, 128), (64, 200, 256, 256), (256, 50, 512, 512), (16, 300, 64, 256)]
CELLS = {
    "lstm": (torch.nn.LSTM, lstmkit.LSTM, 4),
    "gru": (torch.nn.GRU, lstmkit.GRU, 3),
    "rnn": (torch.nn.RNN, lstmkit.RNN, 1),
}
EXTRAS = {
    "plain": {},
    "layer_norm": {"layer_norm": True},
    "recurrent_dropout": {"recurrent_dropout": 0.25},
    "zoneout": {"zoneout": 0.1},
    "weight_drop": {"weight_drop": 0.5},
    "trace": {},
}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ratios(runs: dict, rounds: int) -> dict[str, list[float]]:
    """Run every callable once per round, in turn (round 0 warms up); return their timings."""
    timings = {name: [] for name in runs}
    for round_ in range(rounds + 1):
        for name, fn in runs.items():
            elapsed = timed(fn)
            if round_:
                timings[name].append(elapsed)
    return timings


def ratio(timings, numerator: str, denominator: str) -> float:
    return statistics.median(a / b for a, b in zip(timings[numerator], timings[denominator]))


def matmul_ceiling(rounds: int) -> float:
    """GFLOP/s of a large float32 GEMM on this machine, now: the best of ``rounds`` of torch's ``mm``
    and, where the kernels use it, of lstmkit's own GEMM (whichever is faster sets the ceiling, so
    no layer is measured against a slower library's matmul)."""
    from lstmkit.kernels._common import matmul  # lstmkit's GEMM when it runs, torch's otherwise

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    products = [lambda: a.mm(b), lambda: matmul(a, b)]
    for product in products:
        product()
    best = min(timed(product) for _ in range(rounds) for product in products)
    return 2 * 2048**3 / best / 1e9


def gemm_flops(shape, gates: int, proj: int = 0) -> float:
    batch, steps, inputs, hidden = shape
    out = proj or hidden
    per_step = 2 * batch * (inputs + out) * gates * hidden + (2 * batch * hidden * proj if proj else 0)
    return per_step * steps


def forward(module, x, **kwargs):
    with torch.no_grad():
        module(x, **kwargs)


def forward_backward(module, x, **kwargs):
    module.zero_grad(set_to_none=True)
    module(x, **kwargs)[0].sum().backward()


def compare(theirs, ours, x, rounds: int) -> dict[str, list[float]]:
    """Forward and forward+backward timings of two layers on the same input, alternating."""
    return median_ratios(
        {
            "fwd_torch": lambda: forward(theirs, x),
            "fwd_ours": lambda: forward(ours, x),
            "fb_torch": lambda: forward_backward(theirs, x),
            "fb_ours": lambda: forward_backward(ours, x),
        },
        rounds,
    )


def layer_rows(
    cells: list[str], rounds: int, backend: str, ceiling: float, shapes=SHAPES, echo=print, bidirectional=False
) -> list[str]:
    """One markdown row per (cell, shape): forward and forward+backward of torch.nn and lstmkit, one-way
    layers or, with ``bidirectional``, two-way ones (GFLOP/s then count both directions)."""
    lines = [
        "| cell | B,T,I,H | fwd torch ms | fwd lstmkit ms | fwd speed-up | f+b torch ms | f+b lstmkit ms | "
        "f+b speed-up | lstmkit f+b GFLOP/s | % of ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        echo(line)
    for cell in cells:
        torch_cls, ours_cls, gates = CELLS[cell]
        for shape in shapes:
            batch, steps, inputs, hidden = shape
            theirs = torch_cls(inputs, hidden, bidirectional=bidirectional)
            ours = ours_cls(inputs, hidden, backend=backend, bidirectional=bidirectional)
            ours.load_state_dict(theirs.state_dict())
            t = compare(theirs, ours, torch.randn(steps, batch, inputs, requires_grad=True), rounds)
            fb_ours = statistics.median(t["fb_ours"])
            gflops = 3 * gemm_flops(shape, gates) * (2 if bidirectional else 1) / fb_ours / 1e9
            lines.append(
                f"| {cell} | {','.join(map(str, shape))} | {1e3 * statistics.median(t['fwd_torch']):.2f} | "
                f"{1e3 * statistics.median(t['fwd_ours']):.2f} | {ratio(t, 'fwd_torch', 'fwd_ours'):.2f} | "
                f"{1e3 * statistics.median(t['fb_torch']):.2f} | {1e3 * fb_ours:.2f} | "
                f"{ratio(t, 'fb_torch', 'fb_ours'):.2f} | {gflops:.0f} | {100 * gflops / ceiling:.0f} % |"
            )
            echo(lines[-1])
    return lines


def extras_rows(rounds: int, backend: str, shape=(32, 100, 128, 128), echo=print) -> list[str]:
    """Each extra of lstmkit's LSTM, forward+backward, as a multiple of its own plain LSTM's time."""
    batch, steps, inputs, hidden = shape
    x = torch.randn(steps, batch, inputs, requires_grad=True)
    plain = lstmkit.LSTM(inputs, hidden, backend=backend)
    runs = {"plain": lambda: forward_backward(plain, x)}
    modules = {}
    for name, options in EXTRAS.items():
        if name == "plain":
            continue
        # The Python BPTT has no layer-norm path: that row then shows what "auto" picks.
        extra_backend = "auto" if name == "layer_norm" and backend == "bptt" else backend
        modules[name] = lstmkit.LSTM(inputs, hidden, backend=extra_backend, **options)
        modules[name].load_state_dict(plain.state_dict(), strict=False)
        kwargs = {"return_trace": True} if name == "trace" else {}
        runs[name] = lambda m=modules[name], kw=kwargs: forward_backward(m, x, **kw)
    t = median_ratios(runs, rounds)
    lines = [
        f"| extra (LSTM {','.join(map(str, shape))}, f+b) | backend that ran | time / plain lstmkit LSTM |",
        "|---|---|---|",
    ]
    for line in lines:
        echo(line)
    for name, module in modules.items():
        ran = module._choose_backend(x, return_trace=name == "trace")
        lines.append(f"| {name} | {ran} | {ratio(t, name, 'plain'):.2f} |")
        echo(lines[-1])
    return lines
