"""lstmkit's layers against torch.nn, side by side in one process: speed, GFLOP/s, extras, streaming.

    python benchmarks/bench_kernels.py                          # everything, 5 rounds (docs/kernels.md)
    python benchmarks/bench_kernels.py --sections layers --cells lstm --rounds 7
    python benchmarks/bench_kernels.py --backend bptt           # the Python BPTT loops instead
    python benchmarks/bench_kernels.py --sections layers --bidirectional   # two-way layers

The five shapes (B, T, I, H) of the layer table are those of docs/kernels.md; ``lstmkit bench`` is
the short version (one shape). How each figure is taken: :mod:`lstmkit.bench`.
"""

from __future__ import annotations

import argparse

from lstmkit.bench import SECTIONS, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of the default")
    parser.add_argument("--cells", default="lstm,gru,rnn", help="comma-separated: lstm,gru,rnn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", default="compiled", choices=["compiled", "bptt", "reference", "auto"])
    parser.add_argument("--bidirectional", action="store_true", help="the layer table of two-way layers")
    args = parser.parse_args()
    try:
        report(args.sections.split(","), args.cells.split(","), rounds=args.rounds, backend=args.backend,
               bidirectional=args.bidirectional)  # fmt: skip
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
