"""Streaming inference: microseconds per step at batch 1, lstmkit.Streaming against torch's per-step calls.

    python benchmarks/bench_kernels.py --sections streaming --rounds 7

For H = 64, 128, 256 (input size = H, float32, one layer, batch 1) each round runs a block of
``STEPS`` steps, state carried, of each contender in turn: ``lstmkit.Streaming(LSTM)``,
``torch.nn.LSTMCell`` called per step, and ``torch.nn.LSTM`` called per step on a length-1 sequence,
all under ``torch.no_grad()`` with the same weights. The speed-ups are the median over rounds of the
per-round ratios (torch time / Streaming time, > 1: Streaming is faster); the µs columns are medians,
for scale only.
"""

from __future__ import annotations

import statistics
import time

import torch

import lstmkit

SIZES = (64, 128, 256)
STEPS = 200


def _contenders(hidden: int) -> dict:
    """Step loops over the same ``STEPS`` inputs with the same weights, each carrying its own state."""
    reference = torch.nn.LSTM(hidden, hidden)
    ours = lstmkit.LSTM(hidden, hidden)
    ours.load_state_dict(reference.state_dict())
    cell = torch.nn.LSTMCell(hidden, hidden)
    cell.load_state_dict({name[: -len("_l0")]: value for name, value in reference.state_dict().items()})
    inputs = [torch.randn(1, hidden) for _ in range(STEPS)]
    sequences = [x.unsqueeze(0) for x in inputs]
    stream = lstmkit.Streaming(ours)

    def streaming():
        stream.reset()
        for x in inputs:
            h = stream.step(x)
        return h

    def lstm_cell():
        state = None
        for x in inputs:
            state = cell(x, state)
        return state[0]

    def lstm_length_one():
        state = None
        for x in sequences:
            h, state = reference(x, state)
        return h[0]

    with torch.no_grad():  # the three compute the same thing before they are timed
        torch.testing.assert_close(streaming(), lstm_cell(), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(streaming(), lstm_length_one(), rtol=1e-4, atol=1e-5)
    return {"streaming": streaming, "cell": lstm_cell, "lstm": lstm_length_one}, stream.backend


def _time_rounds(runs: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds per step of each run, once per round in turn (round 0 warms up)."""
    timings = {name: [] for name in runs}
    with torch.no_grad():
        for round_ in range(rounds + 1):
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                if round_:
                    timings[name].append((time.perf_counter() - start) / STEPS)
    return timings


def _speed_up(timings: dict, theirs: str) -> float:
    return statistics.median(a / b for a, b in zip(timings[theirs], timings["streaming"]))


def streaming_rows(rounds: int, sizes: tuple[int, ...] = SIZES, echo=print) -> list[str]:
    """Markdown table lines: µs per step and the speed-ups of Streaming at batch 1, one row per H."""
    lines = [
        f"| LSTM step, batch 1, I = H, float32 ({torch.get_num_threads()} threads) | Streaming backend | "
        "Streaming µs | LSTMCell µs | nn.LSTM (T=1) µs | speed-up vs LSTMCell | speed-up vs nn.LSTM |",
        "|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        echo(line)
    torch.manual_seed(0)
    for hidden in sizes:
        runs, backend = _contenders(hidden)
        t = _time_rounds(runs, rounds)
        micro = {name: 1e6 * statistics.median(values) for name, values in t.items()}
        lines.append(
            f"| H = {hidden} | {backend} | {micro['streaming']:.1f} | {micro['cell']:.1f} | {micro['lstm']:.1f} | "
            f"{_speed_up(t, 'cell'):.2f} | {_speed_up(t, 'lstm'):.2f} |"
        )
        echo(lines[-1])
    return lines
