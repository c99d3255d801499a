"""Compiled kernels: the LSTM, GRU and RNN time loops in C++, behind the interface of :mod:`lstmkit.bptt`.

Each layer function here takes and returns exactly what its twin in :mod:`lstmkit.bptt` does, and
is checked against it, against the autograd reference and against ``torch.nn`` in the tests. The
sources are in ``csrc/`` (plain C++ on raw pointers, kept apart from this binding); ``make install``
compiles them (``python -m lstmkit.kernels.build``). :func:`available` says whether they loaded and
:func:`unavailable_reason` why not; the layers then fall back to the Python loops.
"""

from __future__ import annotations

from torch import Tensor

from lstmkit.kernels._common import DTYPES, input_mismatch
from lstmkit.kernels._library import blas_name, library, unavailable_reason, use_blas, warn_unavailable
from lstmkit.kernels.gru import gru_layer, gru_layers
from lstmkit.kernels.lstm import lstm_layer, lstm_layers
from lstmkit.kernels.rnn import rnn_layer, rnn_layers

__all__ = [
    "DTYPES",
    "available",
    "describe",
    "can_run",
    "cannot_run_reason",
    "input_mismatch",
    "unavailable_reason",
    "warn_unavailable",
    "blas_name",
    "use_blas",
    "lstm_layer",
    "lstm_layers",
    "gru_layer",
    "gru_layers",
    "rnn_layer",
    "rnn_layers",
]


def available() -> bool:
    """True when the compiled kernels are built, current and loaded."""
    return library() is not None


def describe() -> str:
    """One line for people: whether the compiled kernels run, on which GEMM, or why not and what runs instead."""
    if library() is None:
        return (
            f"compiled kernels: unavailable ({unavailable_reason()}); layers run torch's kernel where it can "
            "and lstmkit's Python loops for the rest (build the kernels with `python -m lstmkit.kernels.build`)"
        )
    return f"compiled kernels: loaded from {library().path.name}; GEMM: {blas_name()}"


def cannot_run_reason(x: Tensor) -> str:
    """Why the kernels can't run a layer on input ``x`` (empty when they can)."""
    if library() is None:
        return f"the compiled kernels are unavailable: {unavailable_reason()}"
    return input_mismatch(x)


def can_run(x: Tensor) -> bool:
    """True when the kernels are loaded and take ``x``'s device and dtype."""
    return not cannot_run_reason(x)
