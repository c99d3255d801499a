"""When ``backend="auto"`` hands a plain layer to torch's own kernel instead of lstmkit's.

Filled from measurements (``python benchmarks/bench_kernels.py``, docs/kernels.md): a shape goes to
torch only where torch's fused kernel was measured faster than lstmkit's compiled loop for training
(forward + backward). Extras torch lacks (traces, recurrent dropout, the GRU's reset-before form)
always run on lstmkit's kernels.
"""

from __future__ import annotations

__all__ = ["torch_is_faster"]


def torch_is_faster(mode: str, batch: int, hidden_size: int, steps: int) -> bool:
    """True where the measured table says torch's kernel beats lstmkit's for a plain ``mode`` layer."""
    return False
