"""The task-agnostic training engine (PyTorch Lightning underneath)."""

from lstmkit.train.config import TrainConfig
from lstmkit.train.distributed import ShardedBatchSampler
from lstmkit.train.engine import FitResult, evaluate_model, fit, last_checkpoint
from lstmkit.train.module import Objective, TrainingModule

__all__ = [
    "TrainConfig",
    "Objective",
    "TrainingModule",
    "FitResult",
    "fit",
    "evaluate_model",
    "last_checkpoint",
    "ShardedBatchSampler",
]
