"""Training settings, shared by every task."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lstmkit.config_json import from_json

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu", "hpu")  # Lightning's names
SCHEDULES = ("none", "cosine", "onecycle", "slanted", "exponential")
RESTORE = ("best", "last")


@dataclass(frozen=True)
class TrainConfig:
    """How to train, independent of what is trained.

    ``monitor`` names a validation metric (``accuracy`` is read as ``val_accuracy``); the best
    checkpoint and early stopping follow it in direction ``monitor_mode``. ``warmup`` is the
    fraction of all optimiser steps spent ramping the learning rate up linearly (``cosine`` only;
    ``slanted``, ULMFiT's slanted triangular rates, keeps Howard & Ruder's 0.1). ``lr_decay`` is the
    factor the learning rate is multiplied by after each epoch (``exponential`` only: ``lr`` in the first
    epoch, ``lr * lr_decay`` in the second, ``lr * lr_decay**2`` in the third...).
    ``restore`` is which weights the run ends with: ``"best"``, those of the epoch that validated best
    (``monitor``), or ``"last"``, those of the last epoch trained (with a schedule that anneals to the
    end, they avoid picking a validation peak that is partly noise; both checkpoints are kept either way).
    """

    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 2e-3
    weight_decay: float = 0.01
    momentum: float = 0.9
    schedule: str = "cosine"
    warmup: float = 0.05
    lr_decay: float = 0.8
    clip_norm: float | None = 1.0
    patience: int | None = 3
    monitor: str = "accuracy"
    monitor_mode: str = "max"
    seed: int = 0
    devices: int = 1
    num_nodes: int = 1
    accelerator: str = "cpu"
    precision: str = "32-true"
    progress: bool = True
    restore: str = "best"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.accelerator not in ACCELERATORS:
            raise ValueError(f"accelerator must be one of {ACCELERATORS}, got {self.accelerator!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.restore not in RESTORE:
            raise ValueError(f"restore must be one of {RESTORE}, got {self.restore!r}")
        if self.monitor_mode not in ("min", "max"):
            raise ValueError(f"monitor_mode must be 'min' or 'max', got {self.monitor_mode!r}")
        for name in ("epochs", "batch_size", "devices", "num_nodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        # (NaN fails every comparison, so each check is written as what must hold.)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a number >= 0, got {self.weight_decay}")
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.clip_norm is not None and not (math.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number (or None/0: no clipping), got {self.clip_norm}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1 (or None/0: never stop early), got {self.patience}")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup must be a fraction in [0, 1), got {self.warmup}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be a factor in (0, 1] (applied after each epoch), got {self.lr_decay}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """The config ``to_dict`` saved, each value checked against its field's type (keys this
        version does not know are ignored)."""
        return from_json(cls, data)


class TaskConfig:
    """``to_dict``/``from_dict`` for a task's config dataclass whose ``train`` field is a
    :class:`TrainConfig` (saved in ``config.json``). ``from_dict`` checks each value against its
    field's type (:func:`~lstmkit.config_json.from_json`); keys a newer or older version wrote and
    this one does not know are ignored, missing ones take the field's default."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        return from_json(cls, data)

    def effective(self, name: str) -> Any:
        """The setting ``name`` as the run uses it: a task resolves its automatic values here (a sentiment
        run's ``members=None`` is the number of networks it trains), so ``--resume`` compares what runs."""
        return getattr(self, name)
