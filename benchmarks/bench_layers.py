"""lstmkit's hand-written BPTT layers against torch.nn, side by side in one run.

For each shape (B, T, I, H) it times forward and forward+backward of ``torch.nn.<Cell>`` and of
``lstmkit.<Cell>(backend=...)`` with the same weights, alternating them within each round, and reports
the median over rounds of the per-round ratio lstmkit / torch (the machines are noisy: only ratios
taken side by side mean anything). Absolute medians are printed for context.

    python benchmarks/bench_layers.py                     # LSTM, the four standard shapes
    python benchmarks/bench_layers.py --cells lstm,gru,rnn --rounds 7
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import lstmkit

SHAPES = [(1, 100, 32, 64), (32, 100, 128, 128), (64, 200, 256, 256), (256, 50, 512, 512)]
CELLS = {"lstm": (torch.nn.LSTM, lstmkit.LSTM), "gru": (torch.nn.GRU, lstmkit.GRU), "rnn": (torch.nn.RNN, lstmkit.RNN)}


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_shape(cell: str, shape, rounds: int, backend: str) -> dict:
    batch, steps, inputs, hidden = shape
    torch_cls, ours_cls = CELLS[cell]
    theirs = torch_cls(inputs, hidden)
    ours = ours_cls(inputs, hidden, backend=backend)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(steps, batch, inputs, requires_grad=True)

    def forward(module):
        with torch.no_grad():
            module(x)

    def forward_backward(module):
        out = module(x)[0]
        out.sum().backward()

    timings = {k: [] for k in ("fwd_torch", "fwd_ours", "fb_torch", "fb_ours")}
    for round_ in range(rounds + 1):  # round 0 warms up caches and allocators
        sample = {
            "fwd_torch": _time(lambda: forward(theirs)),
            "fwd_ours": _time(lambda: forward(ours)),
            "fb_torch": _time(lambda: forward_backward(theirs)),
            "fb_ours": _time(lambda: forward_backward(ours)),
        }
        if round_:
            for k, v in sample.items():
                timings[k].append(v)
    ratio = lambda a, b: statistics.median(x / y for x, y in zip(timings[a], timings[b]))  # noqa: E731
    return {
        "shape": shape,
        "fwd_torch_ms": 1e3 * statistics.median(timings["fwd_torch"]),
        "fwd_ours_ms": 1e3 * statistics.median(timings["fwd_ours"]),
        "fwd_ratio": ratio("fwd_ours", "fwd_torch"),
        "fb_torch_ms": 1e3 * statistics.median(timings["fb_torch"]),
        "fb_ours_ms": 1e3 * statistics.median(timings["fb_ours"]),
        "fb_ratio": ratio("fb_ours", "fb_torch"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm", help="comma-separated: lstm,gru,rnn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", default="bptt", choices=["bptt", "reference"])
    args = parser.parse_args()
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, "
        f"lstmkit backend={args.backend}, median of {args.rounds} per-round ratios (lstmkit / torch.nn)\n"
    )
    header = (
        f"{'cell':5} {'B,T,I,H':>18} | {'fwd torch ms':>12} {'fwd ours ms':>11} {'ratio':>6} | "
        f"{'f+b torch ms':>12} {'f+b ours ms':>11} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for cell in args.cells.split(","):
        for shape in SHAPES:
            r = bench_shape(cell, shape, args.rounds, args.backend)
            print(
                f"{cell:5} {','.join(map(str, shape)):>18} | {r['fwd_torch_ms']:12.1f} {r['fwd_ours_ms']:11.1f} "
                f"{r['fwd_ratio']:6.2f} | {r['fb_torch_ms']:12.1f} {r['fb_ours_ms']:11.1f} {r['fb_ratio']:6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
