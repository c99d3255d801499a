"""Drop-in ``LSTM``, ``GRU`` and ``RNN`` modules with the ``torch.nn`` API, plus what cuDNN lacks.

The modules own parameters (named exactly as ``torch.nn``'s, so state dicts interchange) and stack
layers and directions; the math lives in :mod:`lstmkit.functional` and :mod:`lstmkit.bptt`.

Backends (keyword ``backend``):

* ``"compiled"`` — lstmkit's C++ time loops (:mod:`lstmkit.kernels`), the hand-written backward of
  ``bptt`` with one BLAS GEMM and one fused element-wise pass per step.
* ``"bptt"`` — the hand-written backpropagation through time in Python (:mod:`lstmkit.bptt`).
* ``"reference"`` — autograd through the per-step cell functions (the test oracle).
* ``"native"`` — torch's own fused kernels (oneDNN/cuDNN), for plain configurations only, the way
  Keras dispatches to cuDNN.
* ``"auto"`` (default) — ``compiled`` wherever the kernels are built and can run the configuration
  (float32/float64 on the CPU), except the plain shapes where the measured table in
  :mod:`lstmkit.kernels.dispatch` says torch's kernel is faster; without the kernels, ``native``
  for plain configurations and ``bptt`` for the extras (with one warning saying how to build them).
  A layer-normalised LSTM runs on ``compiled``, or on ``reference`` without the kernels (the Python
  BPTT has no layer-norm path).
"""

from lstmkit.layers.backends import BACKENDS
from lstmkit.layers.base import State, detach_state
from lstmkit.layers.modules import GRU, LSTM, RNN

__all__ = ["LSTM", "GRU", "RNN", "detach_state", "BACKENDS", "State"]
