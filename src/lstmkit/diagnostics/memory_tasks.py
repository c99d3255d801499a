"""The long-memory tasks: the adding problem, the copy task and a first-token recall task.

Each task is a pure data generator (a seeded ``torch.Generator`` in, tensors out) plus a loss and an
error that can be set against a trivial baseline (:mod:`lstmkit.diagnostics.memory` trains on them).

The tasks (``T`` is the length in time steps, ``B`` the batch):

* **adding** (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015): input ``(T, B, 2)``; the
  first feature is uniform in [0, 1], the second marks two steps, one in each half of the sequence. The
  target is the sum of the two marked values. Predicting 1 always has MSE ``Var(U+U) = 1/6 ≈ 0.167``.
* **copy** (Arjovsky et al. 2016): ``COPY_SYMBOLS`` random symbols out of ``COPY_ALPHABET``, then
  ``T`` blanks, a go marker and ``COPY_SYMBOLS`` blanks during which the symbols must be repeated.
  The error is the share of wrongly recalled symbols; guessing gives ``1 - 1/COPY_ALPHABET``.
* **recall** ("I grew up in France … I speak fluent French"): the first token is one of
  ``RECALL_CLASSES`` class tokens, the following ``T - 1`` tokens are distractors; the answer at the
  last step is the class of the first token. Guessing gives error ``1 - 1/RECALL_CLASSES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "TASKS",
    "MemoryTask",
    "Batch",
    "LSTM_INITS",
    "adding_batch",
    "copy_batch",
    "recall_batch",
]

COPY_ALPHABET = 8
COPY_SYMBOLS = 10
RECALL_CLASSES = 4
RECALL_DISTRACTORS = 16
LSTM_INITS = ("chrono", "forget-bias", "torch")


class Batch(NamedTuple):
    """``inputs (T, B, input_size)`` float and ``targets``: ``(B,)`` float (adding), ``(B,)`` long
    (recall) or ``(T, B)`` long (copy)."""

    inputs: Tensor
    targets: Tensor


def _check_length(length: int, minimum: int) -> None:
    if not isinstance(length, int) or isinstance(length, bool) or length < minimum:
        raise ValueError(f"length must be an int of at least {minimum}, got {length!r}")


def adding_batch(length: int, batch_size: int, generator: torch.Generator) -> Batch:
    """The adding problem: ``inputs (T, B, 2)`` = (value, marker), ``targets (B,)`` = sum of the two marked values.

    One marker falls uniformly in the first half ``[0, T/2)``, the other in the second half ``[T/2, T)``.
    """
    _check_length(length, 2)
    values = torch.rand(length, batch_size, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (batch_size,), generator=generator)
    second = torch.randint(half, length, (batch_size,), generator=generator)
    markers = torch.zeros(length, batch_size)
    columns = torch.arange(batch_size)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    return Batch(torch.stack([values, markers], dim=-1), (values * markers).sum(0))


def copy_batch(length: int, batch_size: int, generator: torch.Generator) -> Batch:
    """The copy task over ``T + 2 * COPY_SYMBOLS`` steps, one-hot inputs of ``COPY_ALPHABET + 2`` symbols.

    Symbol 0 is the blank, ``1..COPY_ALPHABET`` the data, ``COPY_ALPHABET + 1`` the go marker, placed at
    step ``COPY_SYMBOLS + T - 1``. ``targets (steps, B)`` are blank except the last ``COPY_SYMBOLS``
    steps, which hold the data symbols in order. ``length`` is the delay ``T`` between the last data
    symbol and the go marker plus one.
    """
    _check_length(length, 1)
    steps = length + 2 * COPY_SYMBOLS
    data = torch.randint(1, COPY_ALPHABET + 1, (COPY_SYMBOLS, batch_size), generator=generator)
    tokens = torch.zeros(steps, batch_size, dtype=torch.long)
    tokens[:COPY_SYMBOLS] = data
    tokens[COPY_SYMBOLS + length - 1] = COPY_ALPHABET + 1
    targets = torch.zeros(steps, batch_size, dtype=torch.long)
    targets[-COPY_SYMBOLS:] = data
    return Batch(F.one_hot(tokens, COPY_ALPHABET + 2).float(), targets)


def recall_batch(length: int, batch_size: int, generator: torch.Generator) -> Batch:
    """First-token recall: token ``c`` in ``0..RECALL_CLASSES-1`` at step 0, then ``T - 1`` distractors.

    Distractors are drawn from the other ``RECALL_DISTRACTORS`` symbols (never a class token), so the
    class is stated once, at the start. Inputs are one-hot ``(T, B, RECALL_CLASSES + RECALL_DISTRACTORS)``,
    ``targets (B,)`` the class.
    """
    _check_length(length, 2)
    classes = torch.randint(0, RECALL_CLASSES, (batch_size,), generator=generator)
    tokens = torch.randint(
        RECALL_CLASSES, RECALL_CLASSES + RECALL_DISTRACTORS, (length, batch_size), generator=generator
    )
    tokens[0] = classes
    return Batch(F.one_hot(tokens, RECALL_CLASSES + RECALL_DISTRACTORS).float(), classes)


def _mse(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.mse_loss(outputs[-1].squeeze(-1), targets)


def _last_step_cross_entropy(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(outputs[-1], targets)


def _last_step_error(outputs: Tensor, targets: Tensor) -> float:
    return float((outputs[-1].argmax(-1) != targets).float().mean())


def _copy_cross_entropy(outputs: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(outputs.flatten(0, 1), targets.flatten())


def _copy_error(outputs: Tensor, targets: Tensor) -> float:
    recalled = outputs[-COPY_SYMBOLS:].argmax(-1)
    return float((recalled != targets[-COPY_SYMBOLS:]).float().mean())


@dataclass(frozen=True)
class MemoryTask:
    """One benchmark: its generator, model sizes, training loss, test error and the trivial baseline.

    ``error(outputs, targets)`` is the number reported (MSE for adding, error rate otherwise);
    ``baseline`` is the error of the trivial answer and ``threshold`` the error below which a run counts
    as a success; ``criterion`` says both in words.
    """

    name: str
    make_batch: Callable[[int, int, torch.Generator], Batch]
    input_size: int
    output_size: int
    per_step: bool
    loss: Callable[[Tensor, Tensor], Tensor]
    error: Callable[[Tensor, Tensor], float]
    error_name: str
    baseline: float
    baseline_name: str
    threshold: float
    criterion: str


TASKS: dict[str, MemoryTask] = {
    "adding": MemoryTask(
        "adding",
        adding_batch,
        input_size=2,
        output_size=1,
        per_step=False,
        loss=_mse,
        error=lambda outputs, targets: float(_mse(outputs, targets)),
        error_name="mse",
        baseline=1 / 6,
        baseline_name="always predict 1",
        threshold=0.01,
        criterion="test MSE < 0.01 (the baseline of always predicting 1 has MSE 1/6 = 0.167)",
    ),
    "copy": MemoryTask(
        "copy",
        copy_batch,
        input_size=COPY_ALPHABET + 2,
        output_size=COPY_ALPHABET + 2,
        per_step=True,
        loss=_copy_cross_entropy,
        error=_copy_error,
        error_name="symbol error",
        baseline=1 - 1 / COPY_ALPHABET,
        baseline_name="guess a symbol",
        threshold=0.05,
        criterion=f"test symbol error < 0.05 (guessing: {1 - 1 / COPY_ALPHABET:.3f})",
    ),
    "recall": MemoryTask(
        "recall",
        recall_batch,
        input_size=RECALL_CLASSES + RECALL_DISTRACTORS,
        output_size=RECALL_CLASSES,
        per_step=False,
        loss=_last_step_cross_entropy,
        error=_last_step_error,
        error_name="error rate",
        baseline=1 - 1 / RECALL_CLASSES,
        baseline_name="guess a class",
        threshold=0.05,
        criterion=f"test error rate < 0.05 (guessing: {1 - 1 / RECALL_CLASSES:.2f})",
    ),
}
