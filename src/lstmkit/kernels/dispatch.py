"""When ``backend="auto"`` hands a plain layer to torch's own kernel instead of lstmkit's compiled one.

From ``python benchmarks/bench_kernels.py --rounds 7``, run three times on the 2-core development
machine (AMD EPYC, float32, torch 2.13 with oneDNN, median of 7 per-round ratios; the full table is
in ``docs/kernels.md``). Speed-up is torch time / lstmkit time, the range over the three runs:

=====  ===================  ==========  ================
cell   (B, T, I, H)         forward     forward+backward
=====  ===================  ==========  ================
LSTM   (1, 100, 32, 64)     1.17-1.79   1.31-1.68
LSTM   (32, 100, 128, 128)  0.89-0.90   0.94-1.03
LSTM   (64, 200, 256, 256)  0.90-1.05   1.28-1.39
LSTM   (256, 50, 512, 512)  1.01-1.07   1.08-1.14
LSTM   (16, 300, 64, 256)   0.94        1.37-1.38
GRU    all five shapes      1.19-5.09   1.27-10.05
RNN    all five shapes      1.13-3.47   1.15-6.69
=====  ===================  ==========  ================

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
