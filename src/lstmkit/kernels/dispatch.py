"""When ``backend="auto"`` hands a plain layer to torch's own kernel instead of lstmkit's compiled one.

From ``python benchmarks/bench_kernels.py --rounds 7`` on the 2-core development machine (AMD EPYC,
float32, torch 2.13 with oneDNN, median of 7 per-round ratios, three runs; the full table is in
``docs/kernels.md``). Speed-up is torch time / lstmkit time, the range over the runs:

=====  ===================  =========  ================
cell   (B, T, I, H)         forward    forward+backward
=====  ===================  =========  ================
LSTM   (1, 100, 32, 64)     1.31-1.87  1.33-1.66
LSTM   (32, 100, 128, 128)  0.92-0.96  0.93-1.06
LSTM   (64, 200, 256, 256)  0.92-1.09  1.26-1.37
LSTM   (256, 50, 512, 512)  1.02-1.05  1.02-1.11
LSTM   (16, 300, 64, 256)   0.88-0.95  1.26-1.34
GRU    all five shapes      1.28-5.01  1.24-9.06
RNN    all five shapes      1.32-3.00  1.16-5.42
=====  ===================  =========  ================

torch's oneDNN LSTM forward is the one place torch keeps an edge: a plain LSTM that runs without a
gradient (inference) goes to torch from batch x hidden = 2048 up (at the largest size measured the
two are level). Training stays on lstmkit's kernel at every size. GRU and RNN have no oneDNN path
and always run on lstmkit's kernels, as do the extras torch lacks (traces, recurrent dropout,
zoneout, layer norm, the GRU's reset-before form).
"""

from __future__ import annotations

__all__ = ["torch_is_faster"]

# (mode, training) -> the batch * hidden size from which torch's kernel was measured faster.
TORCH_FASTER_FROM = {("LSTM", False): 2048}


def torch_is_faster(mode: str, batch: int, hidden_size: int, training: bool) -> bool:
    """True where the measured table says torch's kernel beats lstmkit's for a plain ``mode`` layer."""
    threshold = TORCH_FASTER_FROM.get((mode, training))
    return threshold is not None and batch * hidden_size >= threshold
