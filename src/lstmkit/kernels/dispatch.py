"""When ``backend="auto"`` hands a plain layer to torch's own kernel instead of lstmkit's compiled one.

From ``python benchmarks/bench_kernels.py`` on the 2-core development machine (AMD EPYC, float32,
torch 2.13 with oneDNN, median of 5 per-round ratios; the full table is in ``docs/kernels.md``).
Speed-up is torch time / lstmkit time:

=====  ===================  =======  ================
cell   (B, T, I, H)         forward  forward+backward
=====  ===================  =======  ================
LSTM   (1, 100, 32, 64)     0.92     1.04
LSTM   (32, 100, 128, 128)  0.79     0.86
LSTM   (64, 200, 256, 256)  0.76     1.05
LSTM   (256, 50, 512, 512)  0.88     0.93
LSTM   (16, 300, 64, 256)   0.74     1.08
GRU    all five shapes      1.18-3.45  1.11-6.69
RNN    all five shapes      1.27-2.40  1.13-4.79
=====  ===================  =======  ================

torch's oneDNN LSTM forward is where torch wins: a plain LSTM that runs without a gradient
(inference) goes to torch from batch x hidden = 2048 up. For training the two are within about 15 %
of each other with no clear pattern across sizes (earlier runs of the same table gave 0.98 and 1.12
at the second and first rows), so a training LSTM stays on lstmkit's kernel except at the largest
size measured (from 2**16). GRU and RNN have no oneDNN path and always run on lstmkit's kernels, as
do the extras torch lacks (traces, recurrent dropout, zoneout, layer norm, the GRU's reset-before
form).
"""

from __future__ import annotations

__all__ = ["torch_is_faster"]

# (mode, training) -> the batch * hidden size from which torch's kernel was measured faster.
TORCH_FASTER_FROM = {("LSTM", False): 2048, ("LSTM", True): 1 << 16}


def torch_is_faster(mode: str, batch: int, hidden_size: int, training: bool) -> bool:
    """True where the measured table says torch's kernel beats lstmkit's for a plain ``mode`` layer."""
    threshold = TORCH_FASTER_FROM.get((mode, training))
    return threshold is not None and batch * hidden_size >= threshold
