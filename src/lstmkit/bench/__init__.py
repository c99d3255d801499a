"""Side-by-side speed measurements of lstmkit against torch.nn (``lstmkit bench``, ``benchmarks/bench_kernels.py``).

Only ratios taken in one process, alternating, are reported as comparisons; absolute times are for
scale. Nothing here is asserted in a test: timings depend on the machine and what else runs on it.
"""

from __future__ import annotations

import torch

from lstmkit import kernels
from lstmkit.bench.layers import SHAPES, extras_rows, layer_rows, matmul_ceiling
from lstmkit.bench.streaming import SIZES, streaming_rows

__all__ = ["SECTIONS", "SHAPES", "SIZES", "check_options", "report"]

SECTIONS = ("layers", "extras", "streaming")


def check_options(sections, cells, rounds: int, backend: str = "compiled") -> None:
    """Refuse what :func:`report` cannot run, before it starts: a ValueError naming the argument."""
    for name, value, known in (("sections", sections, SECTIONS), ("cells", cells, ("lstm", "gru", "rnn"))):
        unknown = [v for v in value if v not in known]
        if unknown or not value:
            raise ValueError(f"{name} must be among {known}, got {(unknown or [''])[0]!r}")
    if rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    if backend == "compiled" and not kernels.available():
        raise ValueError(f"backend 'compiled' needs the compiled kernels, unavailable: {kernels.unavailable_reason()}")


def report(
    sections=SECTIONS,
    cells=("lstm", "gru", "rnn"),
    shapes=SHAPES,
    rounds: int = 5,
    backend: str = "compiled",
    sizes=SIZES,
    echo=print,
    bidirectional: bool = False,
) -> list[str]:
    """Run the chosen sections and return (and ``echo`` as they come) the header and markdown tables; the
    layer table of two-way layers with ``bidirectional``."""
    check_options(sections, cells, rounds, backend)
    torch.manual_seed(0)
    ceiling = matmul_ceiling(rounds)
    lines = [
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, lstmkit backend={backend} "
        f"(GEMM: {kernels.blas_name() or 'n/a'}), median of {rounds} per-round ratios; "
        f"matmul ceiling {ceiling:.0f} GFLOP/s (2048² float32 GEMM, the faster of torch.mm and lstmkit's, "
        f"best of {rounds})",
        "",
    ]
    for line in lines:
        echo(line)

    def add(rows: list[str]) -> None:
        lines.extend([*rows, ""])
        echo("")

    if "layers" in sections:
        add(layer_rows(list(cells), rounds, backend, ceiling, shapes=shapes, echo=echo, bidirectional=bidirectional))
    if "extras" in sections:
        add(extras_rows(rounds, backend, echo=echo))
    if "streaming" in sections:
        add(streaming_rows(rounds, sizes=sizes, echo=echo))
    return lines
