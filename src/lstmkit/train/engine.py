"""``fit``: train a model with Lightning — clipping, schedules, early stopping, atomic best/last
checkpoints, ``resume``, seeding, history and learning curves, DDP across processes."""

from __future__ import annotations

import importlib.util
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader

from lstmkit.errors import RunDirectoryError, TrainingError, TrainingInterrupted
from lstmkit.io import check_shapes, state_shapes
from lstmkit.quiet import quiet
from lstmkit.train.callbacks import AtomicCheckpointIO, EpochHistory, EpochLog, EpochStart
from lstmkit.train.config import TrainConfig
from lstmkit.train.module import Objective, TrainingModule

CHECKPOINTS = "checkpoints"


@dataclass
class FitResult:
    """What ``fit`` leaves behind. ``is_global_zero`` is false in the extra DDP processes, which
    must not write run files."""

    best_checkpoint: Path | None
    last_checkpoint: Path | None
    best_score: float | None
    epochs: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    is_global_zero: bool = True


def check_accelerator(config: TrainConfig) -> None:
    """Refuse an accelerator this machine does not have, before a run reads or writes anything
    (Lightning finds out only when training starts, after the run's files are written)."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    name = config.accelerator
    candidates = {"auto": ("cpu",), "gpu": ("cuda", "mps")}.get(name, (name,))
    known = AcceleratorRegistry.available_accelerators()
    if not any(c in known and AcceleratorRegistry[c]["accelerator"].is_available() for c in candidates):
        raise TrainingError(f"accelerator {name!r} is not available on this machine (--accelerator), try cpu")


def last_checkpoint(run_dir: str | Path) -> Path:
    return Path(run_dir) / CHECKPOINTS / "last.ckpt"


def check_checkpoint(path: str | Path, model_shapes: dict[str, torch.Size]) -> None:
    """Refuse a checkpoint that ``fit(resume=True)`` could not continue from, in one line naming
    ``path``: missing (no epoch finished), unreadable (truncated, random bytes), not a training
    checkpoint, or made for another model than the one of ``model_shapes`` (its state-dict shapes).

    Read with ``weights_only`` (tensors and plain values only: a checkpoint can never run code).
    """
    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(
            f"nothing to resume: no epoch had finished, so there is no checkpoint at {path}; "
            "start the run over with --force instead of --resume"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)  # shapes only: no tensor is read
    except (RuntimeError, pickle.UnpicklingError, EOFError, KeyError, ValueError, OSError):
        raise RunDirectoryError(
            f"cannot resume from {path}: not a readable checkpoint (truncated or overwritten?); "
            "start the run over with --force"
        ) from None
    weights = state.get("state_dict") if isinstance(state, dict) else None
    if not isinstance(weights, dict) or not all(isinstance(t, torch.Tensor) for t in weights.values()):
        raise RunDirectoryError(f"cannot resume from {path}: it holds no model weights; start over with --force")
    shapes = {name.removeprefix("model."): tuple(t.shape) for name, t in weights.items()}
    check_shapes(path, shapes, model_shapes)


# Lightning's start-up INFO lines (accelerators found, "Trainer.fit stopped") and warnings that do not
# apply here; silenced only while ``fit`` runs.
_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")
_LIGHTNING_WARNINGS = (
    ".*does not have many workers.*",
    ".*GPU available but not used.*",
    ".*Checkpoint directory .* exists and is not empty.*",  # resume
    ".*isinstance.treespec, LeafSpec.*",
    ".*smaller than the logging interval.*",  # short epochs: the CSV log then has the epoch rows only
    ".*The dirpath has changed from.*",  # resuming a finished run: it was trained in .<name>.partial
    ".*sync_dist=True.*",  # every process validates on the whole validation set: nothing to synchronise
)


def _loggers(run_dir: Path) -> list:
    """Lightning's CSV logger (every logged step, ``run_dir/logs``), and TensorBoard's beside it when it
    is installed; ``history.csv`` keeps the per-epoch summary the learning curves are drawn from."""
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    loggers = [CSVLogger(run_dir, name="logs")]
    if importlib.util.find_spec("tensorboard") is not None:
        loggers.append(TensorBoardLogger(run_dir, name="logs"))
    return loggers


@contextmanager
def _interrupt_as_error(trainer: L.Trainer, run_dir: Path) -> Iterator[None]:
    """Ctrl+C during ``trainer.fit``: Lightning stops gracefully, then ignores SIGINT for good and calls
    ``sys.exit(1)``. Put the SIGINT handler back and raise :class:`TrainingInterrupted` instead,
    saying whether a checkpoint to resume from was kept."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if in_main_thread else None
    try:
        yield
    except SystemExit:
        if not trainer.interrupted:
            raise
        checkpoint = last_checkpoint(run_dir)
        kept = (
            f"the checkpoint of epoch {trainer.current_epoch} is kept: continue with --resume"
            if checkpoint.is_file()
            else "no epoch had finished, so there is no checkpoint to resume from"
        )
        raise TrainingInterrupted(f"training interrupted; {kept}") from None
    finally:
        if in_main_thread and handler is not None:
            signal.signal(signal.SIGINT, handler)


def fit(
    model: nn.Module,
    objective: Objective,
    train_loader: DataLoader,
    val_loader: DataLoader,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    param_groups=None,
    epoch_start: Callable[[nn.Module, int], None] | None = None,
) -> FitResult:
    """Train ``model`` on ``train_loader``, validating each epoch on ``val_loader``.

    Writes ``run_dir/checkpoints/{best,last}.ckpt`` (atomically), ``history.csv``,
    ``learning_curves.png``, ``train.log`` (a line per epoch, also printed to stderr when no progress
    bar shows) and ``logs/`` (Lightning's CSV logger, and TensorBoard's when installed). With
    ``resume=True`` it continues from ``last.ckpt`` (optimizer, schedule, epoch and history
    included). After it returns, ``model`` holds the weights of the best epoch (``config.restore``
    ``"last"``: of the last epoch). With
    ``config.devices > 1`` it runs that many processes (DDP, gloo on CPU): wrap the training batch
    sampler in :class:`ShardedBatchSampler`; leave validation unsharded (every process scores the
    whole validation set and so takes the same decisions). ``epoch_start(model, epoch)``, if given,
    runs before each training epoch (gradual unfreezing: :func:`lstmkit.heads.gradual_unfreezing`).
    """
    run_dir = Path(run_dir)
    resume_from = last_checkpoint(run_dir)
    if resume:
        check_checkpoint(resume_from, state_shapes(model))
    L.seed_everything(config.seed, workers=True, verbose=False)
    monitor = f"val_{config.monitor}"
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINTS,
        filename="best",
        monitor=monitor,
        mode=config.monitor_mode,
        save_top_k=1,
        enable_version_counter=False,
    )
    # Every epoch's end, improving or not (Lightning's save_last writes only when a best is saved). Listed
    # after ``checkpoint``, so the file holds that epoch's best-so-far too and --resume continues it.
    latest = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINTS, filename="last", monitor=None, save_top_k=1, enable_version_counter=False
    )
    # The progress bar is drawn only on a terminal; elsewhere (a redirected log, CI) one line per epoch.
    progress_bar = config.progress and sys.stderr.isatty()
    history = EpochHistory(run_dir)
    callbacks: list[L.Callback] = [checkpoint, latest, history, EpochLog(run_dir, history, echo=not progress_bar)]
    if epoch_start is not None:
        callbacks.append(EpochStart(epoch_start))
    if config.patience:
        callbacks.append(EarlyStopping(monitor=monitor, mode=config.monitor_mode, patience=config.patience))
    with quiet(_LIGHTNING_LOGGERS, _LIGHTNING_WARNINGS):
        trainer = L.Trainer(
            accelerator=config.accelerator,
            devices=config.devices,
            num_nodes=config.num_nodes,
            strategy="ddp" if config.devices * config.num_nodes > 1 else "auto",
            max_epochs=config.epochs,
            gradient_clip_val=config.clip_norm,
            gradient_clip_algorithm="norm",
            precision=config.precision,
            logger=_loggers(run_dir),
            callbacks=callbacks,
            plugins=[AtomicCheckpointIO()],
            enable_progress_bar=progress_bar,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            use_distributed_sampler=False,  # batches are sharded by ShardedBatchSampler
            default_root_dir=run_dir,
        )
        module = TrainingModule(model, objective, config, param_groups)
        start = time.perf_counter()
        with _interrupt_as_error(trainer, run_dir):
            trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from if resume else None)
    seconds = time.perf_counter() - start
    best = Path(checkpoint.best_model_path) if checkpoint.best_model_path else None
    last = Path(latest.best_model_path) if latest.best_model_path else None
    kept = last if config.restore == "last" else best
    if kept is not None and kept.is_file():
        state = torch.load(kept, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    return FitResult(
        best_checkpoint=best,
        last_checkpoint=last,
        best_score=None if checkpoint.best_model_score is None else float(checkpoint.best_model_score),
        epochs=len(history.rows),
        seconds=seconds,
        history=history.rows,
        is_global_zero=trainer.is_global_zero,
    )


@torch.no_grad()
def evaluate_model(model: nn.Module, objective: Objective, loader: DataLoader) -> dict[str, float]:
    """The objective's metrics over a whole loader, in eval mode, in this process alone."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    for batch in loader:
        for name, value in objective.eval_sums(model, batch).items():
            sums[name] = sums.get(name, 0.0) + float(value)
    model.train(was_training)
    return objective.summarize(sums)
