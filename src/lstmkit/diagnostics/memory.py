"""Long-memory benchmarks: :func:`train_memory` trains one small recurrent model on one task
(:mod:`lstmkit.diagnostics.memory_tasks`: adding, copy, recall) at one length with a fixed budget;
:func:`memory_study` does it for every cell and length and :func:`plot_memory` draws the result.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from lstmkit import init as lstm_init_
from lstmkit.diagnostics.memory_tasks import (
    LSTM_INITS,
    TASKS,
    Batch,
    MemoryTask,
    adding_batch,
    copy_batch,
    recall_batch,
)
from lstmkit.heads.config import CELLS
from lstmkit.heads.encoder import make_recurrent_layer

__all__ = [
    "TASKS",
    "MemoryTask",
    "MemoryConfig",
    "MemoryResult",
    "MemoryModel",
    "adding_batch",
    "copy_batch",
    "recall_batch",
    "check_cells",
    "fit_memory_model",
    "make_memory_model",
    "train_memory",
    "memory_study",
    "plot_memory",
]


@dataclass(frozen=True)
class MemoryConfig:
    """Model and budget of one memory run: one layer of ``hidden_size`` units, Adam, gradient clipping.

    ``steps`` is the budget in updates of ``batch_size`` fresh sequences; every ``eval_every`` updates the
    model is scored on a fixed validation set and training stops early once it meets the task's
    criterion. The reported error is on a separate fixed test set of ``test_size`` sequences.
    ``lstm_init`` is the LSTM's initialisation (the RNN and GRU keep torch's): ``"chrono"`` (Tallec &
    Ollivier 2018, forget-gate biases spread up to the sequence length; :func:`lstmkit.init.chrono_`),
    ``"forget-bias"`` (forget-gate bias 1, Jozefowicz et al. 2015) or ``"torch"`` (uniform ±1/√H).
    """

    hidden_size: int = 64
    steps: int = 3000
    batch_size: int = 64
    lr: float = 3e-3
    clip_norm: float = 1.0
    lstm_init: str = "chrono"
    eval_every: int = 100
    test_size: int = 1000
    seed: int = 0
    backend: str = "auto"

    def __post_init__(self) -> None:
        for name in ("hidden_size", "steps", "batch_size", "eval_every", "test_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.lstm_init not in LSTM_INITS:
            raise ValueError(f"lstm_init must be one of {LSTM_INITS}, got {self.lstm_init!r}")
        if self.clip_norm < 0:
            raise ValueError(f"clip_norm must be >= 0 (0: no clipping), got {self.clip_norm!r}")


@dataclass
class MemoryResult:
    """The outcome of one (task, cell, length) run; ``to_dict`` is JSON-ready."""

    task: str
    cell: str
    length: int
    error: float
    baseline: float
    success: bool
    criterion: str
    steps: int
    seconds: float
    curve: list[tuple[int, float]]

    def to_dict(self) -> dict:
        return asdict(self)


class MemoryModel(nn.Module):
    """One recurrent layer and a linear read-out: ``inputs (T, B, I)`` -> ``outputs (T, B, output_size)``.

    The read-out is applied at every step; single-answer tasks read the last step only. ``lstm_init``
    (see :class:`MemoryConfig`) applies to an LSTM; ``max_steps`` is chrono's longest span.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        lstm_init: str = "torch",
        max_steps: int = 100,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if lstm_init not in LSTM_INITS:
            raise ValueError(f"lstm_init must be one of {LSTM_INITS}, got {lstm_init!r}")
        self.rnn = make_recurrent_layer(cell, input_size, hidden_size, backend=backend)
        if cell == "lstm" and lstm_init == "forget-bias":
            lstm_init_.forget_bias_(self.rnn, 1.0)
        elif cell == "lstm" and lstm_init == "chrono":
            lstm_init_.chrono_(self.rnn, max(max_steps, 3))
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, inputs: Tensor) -> Tensor:
        outputs, _ = self.rnn(inputs)
        return self.readout(outputs)


def check_cells(cells: Sequence[str]) -> list[str]:
    """The cell names, checked against ``lstm``/``gru``/``rnn``; at least one."""
    cells = list(cells)
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise ValueError(f"cells must be among {sorted(CELLS)}, got {cells}")
    return cells


def make_memory_model(task: MemoryTask, cell: str, config: MemoryConfig, length: int) -> MemoryModel:
    """A fresh model for ``task`` at ``length`` (chrono's longest span is the task's number of steps)."""
    steps = task.make_batch(length, 1, torch.Generator().manual_seed(0)).inputs.shape[0]
    return MemoryModel(
        cell,
        task.input_size,
        config.hidden_size,
        task.output_size,
        lstm_init=config.lstm_init,
        max_steps=steps,
        backend=config.backend,
    )


def _score(model: nn.Module, task: MemoryTask, data: Batch, chunk: int = 500) -> float:
    """The task's error on ``data``, computed in chunks of sequences (weighted by chunk size)."""
    model.eval()
    total, count = 0.0, data.targets.shape[-1]
    with torch.no_grad():
        for start in range(0, count, chunk):
            part = slice(start, start + chunk)
            targets = data.targets[..., part]
            total += task.error(model(data.inputs[:, part]), targets) * targets.shape[-1]
    model.train()
    return total / count


def fit_memory_model(
    model: nn.Module,
    task: MemoryTask,
    length: int,
    config: MemoryConfig,
    *,
    progress: Callable[[int, float], None] | None = None,
    stop_at_threshold: bool = True,
) -> tuple[int, list[tuple[int, float]]]:
    """Train ``model`` in place on fresh batches of ``task`` at ``length``; returns (updates done, curve).

    The curve holds ``(step, validation error)`` every ``config.eval_every`` updates; with
    ``stop_at_threshold`` training ends as soon as the validation error meets the task's criterion.
    A non-finite loss ends training too (it is what exploding gradients look like).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train_gen = torch.Generator().manual_seed(config.seed)
    val = task.make_batch(length, config.test_size, torch.Generator().manual_seed(10_000 + config.seed))
    curve: list[tuple[int, float]] = []
    step = 0
    for step in range(1, config.steps + 1):
        batch = task.make_batch(length, config.batch_size, train_gen)
        loss = task.loss(model(batch.inputs), batch.targets)
        if not math.isfinite(float(loss.detach())):
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        if step % config.eval_every == 0 or step == config.steps:
            val_error = _score(model, task, val)
            curve.append((step, val_error))
            if progress is not None:
                progress(step, val_error)
            if stop_at_threshold and val_error < task.threshold:
                break
    return step, curve


def train_memory(
    task: str | MemoryTask,
    cell: str,
    length: int,
    config: MemoryConfig = MemoryConfig(),
    *,
    progress: Callable[[int, float], None] | None = None,
) -> MemoryResult:
    """Train a fresh ``cell`` model on ``task`` at ``length`` within ``config.steps`` updates; score it.

    Training data are fresh random batches every step (an unlimited supply, so no overfitting);
    validation and test sets are fixed and drawn from their own seeds. ``progress(step, val_error)`` is
    called at each evaluation.
    """
    task = TASKS[task] if isinstance(task, str) else task
    check_cells([cell])
    torch.manual_seed(config.seed)
    model = make_memory_model(task, cell, config, length)
    started = time.perf_counter()
    steps, curve = fit_memory_model(model, task, length, config, progress=progress)
    test = task.make_batch(length, config.test_size, torch.Generator().manual_seed(20_000 + config.seed))
    error = _score(model, task, test)
    return MemoryResult(
        task=task.name,
        cell=cell,
        length=length,
        error=error,
        baseline=task.baseline,
        success=error < task.threshold,
        criterion=task.criterion,
        steps=steps,
        seconds=round(time.perf_counter() - started, 1),
        curve=curve,
    )


def memory_study(
    task: str,
    cells: Sequence[str],
    lengths: Sequence[int],
    config: MemoryConfig = MemoryConfig(),
    *,
    progress: Callable[[str, int, int, float], None] | None = None,
) -> list[MemoryResult]:
    """:func:`train_memory` for every cell at every length; ``progress(cell, length, step, val_error)``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    cells = check_cells(cells)
    results = []
    for length in lengths:
        for cell in cells:
            report = None if progress is None else (lambda s, e, c=cell, n=length: progress(c, n, s, e))
            results.append(train_memory(task, cell, length, config, progress=report))
    return results


def plot_memory(results: Sequence[MemoryResult], path: str | Path) -> Path:
    """Final test error against length, one line per cell, with the baseline and the success threshold."""
    from lstmkit.plots import plot_error_by_length

    if not results:
        raise ValueError("no results to plot")
    task = TASKS[results[0].task]
    curves = {
        cell: sorted((r.length, r.error) for r in results if r.cell == cell)
        for cell in dict.fromkeys(r.cell for r in results)
    }
    return plot_error_by_length(
        curves,
        path,
        error_name=task.error_name,
        baseline=task.baseline,
        baseline_label=f"baseline ({task.baseline_name})",
        threshold=task.threshold,
        title=f"{task.name}: test {task.error_name} after at most the fixed budget",
    )


def diagnose_memory(
    task: str,
    cells: Sequence[str],
    lengths: Sequence[int],
    config: MemoryConfig,
    out_dir: str | Path,
    *,
    progress: Callable[[str, int, int, float], None] | None = None,
) -> list[MemoryResult]:
    """:func:`memory_study` into ``out_dir``: ``memory_TASK.json`` (settings and results) and ``memory_TASK.png``."""
    from lstmkit.io import write_json

    out_dir = Path(out_dir)
    results = memory_study(task, cells, lengths, config, progress=progress)
    png = plot_memory(results, out_dir / f"memory_{task}.png")
    write_json(
        out_dir / f"memory_{task}.json",
        {
            "task": task,
            "criterion": TASKS[task].criterion,
            "baseline": TASKS[task].baseline,
            "config": asdict(config),
            "results": [r.to_dict() for r in results],
            "figure": str(png),
        },
    )
    return results
