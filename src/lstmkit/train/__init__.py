"""The task-agnostic training engine (PyTorch Lightning underneath).

Names are imported on first use: loading a trained model to predict never pays Lightning's import.
"""

import importlib

_EXPORTS = {
    "TrainConfig": "lstmkit.train.config",
    "ShardedBatchSampler": "lstmkit.train.distributed",
    "FitResult": "lstmkit.train.engine",
    "fit": "lstmkit.train.engine",
    "evaluate_model": "lstmkit.train.engine",
    "last_checkpoint": "lstmkit.train.engine",
    "Objective": "lstmkit.train.module",
    "TrainingModule": "lstmkit.train.module",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lstmkit.train' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
