"""When ``backend="auto"`` hands a plain layer to torch's own kernel instead of lstmkit's compiled one.

From ``python benchmarks/bench_kernels.py --sections layers`` on the 2-core development machine
(float32, torch 2.13 with oneDNN, median of 5 per-round ratios; the full table is in
``docs/kernels.md``). Speed-up is torch time / lstmkit time:

============  =================  ===============  =================
cell          (B, T, I, H)       forward          forward+backward
============  =================  ===============  =================
LSTM          (1, 100, 32, 64)   1.05             1.12
LSTM          (32, 100, 128, 128)  0.73           0.98
LSTM          (64, 200, 256, 256)  0.73           1.04
LSTM          (256, 50, 512, 512)  0.74           0.94
LSTM          (16, 300, 64, 256)   0.81           1.17
GRU, RNN      all five shapes    1.26 – 4.18      1.12 – 8.55
============  =================  ===============  =================

torch's oneDNN LSTM forward is the one place torch wins clearly: a plain LSTM that runs without a
gradient (inference) goes to torch from batch × hidden = 2048 up, and a training one only at the
largest size measured (from 2¹⁶). GRU and RNN have no oneDNN path and always run on lstmkit's
kernels, as do the extras torch lacks (traces, recurrent dropout, the GRU's reset-before form).
"""

from __future__ import annotations

__all__ = ["torch_is_faster"]

# (mode, training) -> the batch * hidden size from which torch's kernel was measured faster.
TORCH_FASTER_FROM = {("LSTM", False): 2048, ("LSTM", True): 1 << 16}


def torch_is_faster(mode: str, batch: int, hidden_size: int, training: bool) -> bool:
    """True where the measured table says torch's kernel beats lstmkit's for a plain ``mode`` layer."""
    threshold = TORCH_FASTER_FROM.get((mode, training))
    return threshold is not None and batch * hidden_size >= threshold
