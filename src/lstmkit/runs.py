"""The run directory: what ``train`` writes and ``evaluate``/``predict`` read (see DESIGN.md).

``config.json`` carries the task name and a format version; loading refuses a directory made for
another task or by a newer lstmkit, before any weights are touched.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstmkit.errors import RunDirectoryError
from lstmkit.io import (
    check_shapes,
    finite_or_null,
    load_weights,
    parsing,
    read_json,
    state_shapes,
    weight_shapes,
    write_json,
)

FORMAT_VERSION = 1
CONFIG = "config.json"
VOCAB = "vocab.json"
WEIGHTS = "model.safetensors"
METRICS = "metrics.json"


def versions() -> dict[str, str]:
    from lstmkit import __version__

    return {"lstmkit": __version__, "torch": torch.__version__.split("+")[0], "python": platform.python_version()}


def write_run_config(run_dir: str | Path, task: str, payload: dict[str, Any]) -> Path:
    return write_json(Path(run_dir) / CONFIG, {"task": task, "format_version": FORMAT_VERSION, **payload})


def _read_config(run_dir: Path) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise RunDirectoryError(f"run directory not found: {run_dir}")
    config = read_json(run_dir / CONFIG)
    if not isinstance(config, dict):
        raise RunDirectoryError(f"{run_dir / CONFIG}: expected a JSON object, got a {type(config).__name__}")
    return config


def run_task(run_dir: str | Path) -> str:
    """The task a run directory was made for, as its ``config.json`` names it."""
    task = _read_config(Path(run_dir)).get("task")
    if not isinstance(task, str):
        raise RunDirectoryError(f"{Path(run_dir) / CONFIG} names no task")
    return task


def read_run_config(run_dir: str | Path, task: str) -> dict[str, Any]:
    """``config.json`` of a run made for ``task``, or a :class:`RunDirectoryError` naming the problem."""
    run_dir = Path(run_dir)
    config = _read_config(run_dir)
    found = config.get("task")
    if not isinstance(found, str):
        raise RunDirectoryError(f"{run_dir / CONFIG}: task: expected a task name such as {task!r}, got {found!r}")
    if found != task:
        raise RunDirectoryError(f"{run_dir} holds a {found!r} run, not a {task!r} run")
    version = config.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise RunDirectoryError(f"{run_dir / CONFIG}: format_version must be an int >= 0, got {version!r}")
    for key in ("config", "model"):
        if not isinstance(config.get(key), dict):
            given = "nothing" if key not in config else repr(config[key])[:60]
            raise RunDirectoryError(f"{run_dir / CONFIG}: {key}: expected an object of settings, got {given}")
    if version > FORMAT_VERSION:
        raise RunDirectoryError(
            f"{run_dir} was written in run format {version}, newer than this lstmkit reads ({FORMAT_VERSION}); "
            "upgrade lstmkit"
        )
    return config


def write_metrics(run_dir: str | Path, metrics: dict[str, Any]) -> Path:
    """``metrics.json``: strict JSON, so a score that came out NaN or infinite is written as ``null``
    and named under ``"non_finite"`` (never as ``NaN``/``Infinity``, which other readers reject)."""
    metrics, replaced = finite_or_null(metrics)
    extra = {"non_finite": replaced} if replaced else {}
    return write_json(Path(run_dir) / METRICS, {**metrics, **extra, "versions": versions()})


def load_run_model(run_dir: str | Path, build: Callable[[], nn.Module]) -> nn.Module:
    """A finished run's network: ``build()`` (from its ``config.json``) with ``model.safetensors`` loaded.

    Checked before anything is allocated: ``build`` first runs on the meta device (no memory) and the
    weights' names and shapes come from the file's header, so a ``config.json`` that does not match
    its weights (a damaged size that would ask for terabytes) or that cannot be built at all is
    refused, naming the first difference. NaN or infinite weights are refused at load.
    """
    run_dir = Path(run_dir)
    path = run_dir / WEIGHTS
    if not path.is_file():
        raise RunDirectoryError(f"{run_dir} has no {WEIGHTS}: training did not finish (use --resume)")
    with torch.device("meta"), parsing(run_dir / CONFIG, "describes a model that cannot be built"):
        skeleton = build()
    check_shapes(path, weight_shapes(path), state_shapes(skeleton))
    model = build()
    load_weights(path, model)
    return model
