"""Callbacks and plugins of the training engine: atomic checkpoints, the epoch history and log."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch import nn

from lstmkit.io import atomic_write


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file and renames it: a kill never leaves half a file."""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))


class EpochStart(L.Callback):
    """Calls ``hook(model, epoch)`` before each training epoch (``epoch`` from 0, the same after a
    resume), e.g. :func:`lstmkit.heads.gradual_unfreezing`."""

    def __init__(self, hook: Callable[[nn.Module, int], None]) -> None:
        self.hook = hook

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.hook(pl_module.model, trainer.current_epoch)


class EpochHistory(L.Callback):
    """One row per epoch (train loss, every validation metric, learning rate) in ``history.csv``,
    and ``learning_curves.png`` redrawn after each epoch. Saved in checkpoints so ``--resume`` continues it."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.rows: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch + 1}
        if "train_loss_epoch" in metrics:
            row["train_loss"] = float(metrics["train_loss_epoch"])
        row.update({k: float(v) for k, v in metrics.items() if k.startswith("val_")})
        row["lr"] = float(trainer.optimizers[0].param_groups[0]["lr"])
        self.rows.append(row)
        if trainer.is_global_zero:
            self.write()

    def write(self) -> None:
        columns = list(dict.fromkeys(k for row in self.rows for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write(self.run_dir / "history.csv", lambda tmp: tmp.write_text(buffer.getvalue(), encoding="utf-8"))
        from lstmkit.plots import plot_learning_curves

        history = {c: [row.get(c, float("nan")) for row in self.rows] for c in columns if c not in ("epoch", "lr")}
        plot_learning_curves(history, self.run_dir / "learning_curves.png", title=self.run_dir.name)

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = list(state_dict.get("rows", []))


class EpochLog(L.Callback):
    """One line per epoch (epoch, train loss, validation metrics, seconds) appended to ``train.log``
    in the run directory, and printed to stderr when no progress bar shows it (``progress=False``,
    or output redirected to a file), so a long run is never silent in a log. The line shows the row
    ``history`` has just recorded (place this callback after it)."""

    def __init__(self, run_dir: str | Path, history: EpochHistory, echo: bool) -> None:
        self.path = Path(run_dir) / "train.log"
        self.history = history
        self.echo = echo
        self.started = time.perf_counter()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        row = self.history.rows[-1]
        parts = [f"epoch {row['epoch']}/{trainer.max_epochs}"]
        parts += [f"{name} {value:.4f}" for name, value in row.items() if name not in ("epoch", "lr")]
        parts.append(f"{time.perf_counter() - self.started:.1f} s")
        line = "  ".join(parts)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as log:  # appended line by line: a kill keeps what was written
            log.write(line + "\n")
        if self.echo:
            print(line, file=sys.stderr, flush=True)
