"""One lifecycle for every task: ``train_task`` and ``load_run``.

``train_task`` is the whole of a training run, in order, for any task: guard the run directory
(a finished run is replaced only with ``force``; ``resume`` reads the saved config back), prepare
the data, seed, build the model and its loaders, write the run files once, train (in one process
or several), save the weights, score against the baselines and write ``metrics.json``.
``load_run`` opens a finished run of any task from what its ``config.json`` names.

A run is written into ``.<name>.partial`` beside its directory and renamed into place once complete
(a crash never leaves half a run, ``--force`` keeps the old run until the new one is whole, and
``--resume`` continues the unfinished one); a lock beside it refuses a second process writing it.

A task says only what is its own, as a :class:`Task`: how it prepares its data, what it builds,
how it scores and how a finished run is loaded. It never writes the run files itself.

Several processes (``config.train.devices > 1``): Lightning's DDP starts the others by running the
same command again, so every process goes through ``train_task``. Each prepares the same data and
builds the same model (same seed); the training batches are sharded between them
(:class:`~lstmkit.train.distributed.ShardedBatchSampler`), validation is not (every process takes
the same early-stopping decisions), and only the first process writes anything.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn
from torch.utils.data import DataLoader

from lstmkit.errors import ResumedSettingError, RunDirectoryError
from lstmkit.io import parsing, save_weights
from lstmkit.runs import CONFIG, WEIGHTS, read_run_config, run_task, write_metrics, write_run_config
from lstmkit.train.config import TaskConfig
from lstmkit.train.distributed import ShardedBatchSampler
from lstmkit.train.module import Objective

__all__ = ["Built", "Task", "TaskResult", "train_task", "load_run", "is_ddp_worker"]


@dataclass
class Built:
    """What a task builds for training: the model, its objective and loaders, and what the run keeps.

    ``payload`` joins ``config.json`` (the model's config, the data set's name); ``files`` are the
    other run files, each ``name -> write(path)`` (a vocabulary, scalers). ``param_groups`` sets
    per-group learning rates (``None``: one group); ``epoch_start(model, epoch)`` runs before each
    training epoch.
    """

    model: nn.Module
    objective: Objective
    train_loader: DataLoader
    val_loader: DataLoader
    payload: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Callable[[Path], Any]] = field(default_factory=dict)
    param_groups: list[dict] | None = None
    epoch_start: Callable[[nn.Module, int], None] | None = None


@dataclass
class TaskResult:
    """A finished training run: its directory and ``metrics.json`` (empty in the extra DDP processes)."""

    run_dir: Path
    metrics: dict[str, Any]


class Task(ABC):
    """What one task contributes to the lifecycle; see the module docstring for the order of calls."""

    name: ClassVar[str]  # as ``config.json`` records it
    config_class: ClassVar[type[TaskConfig]]

    def check(self, config: TaskConfig) -> None:  # noqa: B027 (a hook: most tasks accept every config)
        """Refuse a configuration before any data is read (raise a :class:`~lstmkit.errors.LstmkitError`)."""

    @abstractmethod
    def prepare(self, config: TaskConfig, run_dir: Path, resume: bool) -> Any:
        """The data the run trains and scores on (on ``resume``, read back what the first start wrote)."""

    @abstractmethod
    def build(self, config: TaskConfig, data: Any) -> Built:
        """The model, objective and loaders for ``data``; called after seeding."""

    @abstractmethod
    def score(self, config: TaskConfig, data: Any, model: nn.Module, run_dir: Path) -> dict[str, Any]:
        """``metrics.json``'s content for the trained ``model``: its scores, the baselines', the data's sizes."""

    @abstractmethod
    def load(self, run_dir: Path) -> Any:
        """A finished run, ready to use (predict, translate, forecast, generate, evaluate)."""


def is_ddp_worker() -> bool:
    """True in the extra processes a DDP launcher started (they run the command again with a rank set)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("RANK", "0")) > 0


def train_task(
    task: Task,
    config: TaskConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    force: bool = False,
    given: Collection[str] = (),
):
    """Train ``task`` with ``config`` into ``run_dir``: see the module docstring.

    A new run is written into ``.<name>.partial`` beside ``run_dir`` and renamed into place when it is
    complete, so a crash or a failure never leaves half a run at ``run_dir`` and ``force`` keeps the
    old run until the new one is whole; ``resume`` continues the unfinished run (or a finished one in
    place) with the settings it was started with, and refuses a field named in ``given`` (the options a
    command line gave) whose value in ``config`` differs from the run's. A lock beside ``run_dir``
    refuses a second process writing the same run.
    """
    from lstmkit.train.engine import check_accelerator

    run_dir = Path(run_dir)
    worker = is_ddp_worker()
    if not resume:
        task.check(config)  # before anything is read or written
        check_accelerator(config.train)
        config = _portable_paths(config)
    with _writer_lock(run_dir, held=not worker):
        asked = config
        work_dir, config = _working_directory(task, config, run_dir, resume, force, worker)
        if resume:  # the saved config, perhaps from a machine with an accelerator this one lacks
            _refuse_changed_settings(_portable_paths(asked), config, given)
            task.check(config)
            check_accelerator(config.train)
        metrics = _train(task, config, work_dir, resume, worker)
        if metrics and work_dir != run_dir:
            _publish(work_dir, run_dir)
    return TaskResult(run_dir, metrics)


def _portable_paths(config: TaskConfig) -> TaskConfig:
    """``config`` with each field that names an existing file or folder by a relative path made
    absolute, so that the saved run can be evaluated from any working directory (a registered data
    set's name is left alone even where a file of that name happens to exist)."""
    from lstmkit.data import DATASETS

    changes = {}
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if isinstance(value, str) and value and value not in DATASETS and not Path(value).is_absolute():
            if Path(value).exists():
                changes[item.name] = str(Path(value).resolve())
    return dataclasses.replace(config, **changes) if changes else config


# Fields that change what a run shows, not what it trains: given again with --resume they may differ.
_DISPLAY_ONLY = frozenset({"progress"})


def _refuse_changed_settings(asked: TaskConfig, saved: TaskConfig, given: Collection[str]) -> None:
    """``--resume`` continues a run with the settings it was started with: an option given again with
    another value would otherwise be dropped without a word (:class:`ResumedSettingError` naming the first)."""
    for name in sorted(set(given) - _DISPLAY_ONLY):
        for new, old in ((asked, saved), (asked.train, saved.train)):
            if name not in {item.name for item in dataclasses.fields(new)}:
                continue
            value = getattr(new, name)
            started = old.effective(name) if isinstance(old, TaskConfig) else getattr(old, name)
            if value != started:  # an automatic setting compares as what it resolved to
                auto = " (automatic)" if started != getattr(old, name) else ""
                raise ResumedSettingError(
                    name,
                    f"{value!r} differs from the {started!r}{auto} the run was started with: --resume continues "
                    "a run with its own settings; leave the option out, or train a new run with --force",
                )


def _partial(run_dir: Path) -> Path:
    return run_dir.with_name(f".{run_dir.name}.partial")


def _working_directory(task, config, run_dir: Path, resume: bool, force: bool, worker: bool):
    """Where this start writes, and the config it trains (the saved one on ``resume``)."""
    partial = _partial(run_dir)
    if resume:
        work_dir = partial if partial.is_dir() else run_dir
        if not (work_dir / CONFIG).is_file():  # killed before the run wrote its config, or never started
            raise RunDirectoryError(
                f"nothing to resume at {run_dir}: no run was started there, or it stopped before writing its "
                "config; train without --resume (with --force if an unfinished .partial is left)"
            )
        saved = read_run_config(work_dir, task.name)
        with parsing(work_dir / CONFIG):
            config = task.config_class.from_dict(saved["config"])
        for leftover in work_dir.rglob(".*.tmp"):  # a write the kill interrupted
            leftover.unlink()
        return work_dir, config
    if worker:  # the first process has prepared the directory
        return partial, config
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirectoryError(f"--out {run_dir} is a file, not a run directory")
    if (run_dir / CONFIG).exists() and not force:
        raise RunDirectoryError(f"{run_dir} already holds a run; pass --resume to continue it or --force to replace it")
    if partial.exists():
        if not force:
            raise RunDirectoryError(
                f"an unfinished run of {run_dir} is in {partial}; pass --resume to continue it or --force to start over"
            )
        shutil.rmtree(partial)
    return partial, config


def _train(task: Task, config: TaskConfig, run_dir: Path, resume: bool, worker: bool) -> dict[str, Any]:
    """Prepare, build, train, save and score into ``run_dir``; ``metrics.json``'s content ({} in a DDP worker)."""
    from lstmkit.train.engine import fit

    started = time.perf_counter()
    data = task.prepare(config, run_dir, resume)
    if resume:
        _check_resumable(task, config, data, run_dir)
    torch.manual_seed(config.train.seed)
    built = task.build(config, data)
    if not resume and not worker:
        run_dir.mkdir(parents=True, exist_ok=True)
        for name, write in built.files.items():
            write(run_dir / name)
        write_run_config(run_dir, task.name, {"config": config.to_dict(), **built.payload})
    train_loader = _sharded(built.train_loader) if config.train.devices > 1 else built.train_loader
    result = fit(
        built.model, built.objective, train_loader, built.val_loader, config.train, run_dir,
        resume=resume, param_groups=built.param_groups, epoch_start=built.epoch_start,
    )  # fmt: skip
    if not result.is_global_zero:
        return {}
    save_weights(run_dir / WEIGHTS, built.model.state_dict())
    metrics = {"task": task.name, **task.score(config, data, built.model, run_dir)}
    metrics.update(
        epochs=result.epochs,
        train_seconds=round(result.seconds, 1),
        total_seconds=round(time.perf_counter() - started, 1),
    )
    write_metrics(run_dir, metrics)
    return metrics


def _check_resumable(task: Task, config: TaskConfig, data: Any, run_dir: Path) -> None:
    """Refuse to resume from a checkpoint that does not fit the model the saved config describes,
    before that model is allocated: it is built on the meta device (no memory), so a damaged size
    in ``config.json`` (10**12) is refused instead of asking for terabytes."""
    from lstmkit.io import state_shapes
    from lstmkit.train.engine import check_checkpoint, last_checkpoint

    with torch.device("meta"), parsing(run_dir / CONFIG, "describes a model that cannot be built"):
        skeleton = task.build(config, data).model
    check_checkpoint(last_checkpoint(run_dir), state_shapes(skeleton))


def _publish(work_dir: Path, run_dir: Path) -> None:
    """Move the finished run from ``work_dir`` to ``run_dir``, replacing an older run only now."""
    if run_dir.exists():
        old = run_dir.with_name(f".{run_dir.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(run_dir, old)
        os.replace(work_dir, run_dir)
        shutil.rmtree(old)
    else:
        os.replace(work_dir, run_dir)


@contextmanager
def _writer_lock(run_dir: Path, held: bool) -> Iterator[None]:
    """An exclusive lock on ``.<name>.lock`` beside ``run_dir`` while this process writes the run.

    The lock file, and the folders above ``run_dir`` that this start created, are removed again when it
    ends, so a refused start leaves nothing behind. The file is unlinked while still locked: a process
    that opened it just before then finds it gone once it gets the lock, and locks a new one instead.
    """
    if not held:
        yield
        return
    path = run_dir.with_name(f".{run_dir.name}.lock")
    created = [folder for folder in (run_dir.parent, *run_dir.parent.parents) if not folder.exists()]
    try:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        while True:
            lock = open(path, "a")  # noqa: SIM115 (held across the yield)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                raise RunDirectoryError(
                    f"another process is writing {run_dir}; wait for it or choose another --out"
                ) from None
            if _same_file(lock, path):
                break
            lock.close()  # the holder before us removed this file: lock the new one
    except OSError as exc:
        _remove_empty(created)
        raise RunDirectoryError(f"cannot write the run {run_dir}: {exc.strerror} ({exc.filename})") from None
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        lock.close()  # releases the lock
        _remove_empty(created)


def _same_file(opened, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(opened.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _sharded(loader: DataLoader) -> DataLoader:
    """``loader`` with each process taking every world_size-th of its batches."""
    return DataLoader(
        loader.dataset,
        batch_sampler=ShardedBatchSampler(loader.batch_sampler),
        collate_fn=loader.collate_fn,
        num_workers=loader.num_workers,
    )


def load_run(run_dir: str | Path) -> Any:
    """The finished run in ``run_dir``, loaded by the task its ``config.json`` names."""
    from lstmkit.tasks.registry import task_named

    return task_named(run_task(run_dir)).load(Path(run_dir))
