"""Options every ``lstmkit train <task>`` command shares (each command gives its own default), and the
:class:`~lstmkit.train.TrainConfig` they make. Used as ``from lstmkit.cli import _options as opt``."""

from __future__ import annotations

from typing import Annotated

import typer

ClipNorm = Annotated[float, typer.Option(help="Clip the gradient norm to this (0: no clipping).")]
Patience = Annotated[int, typer.Option(help="Stop after this many epochs without validation gain (0: never).")]
Seed = Annotated[int, typer.Option(help="Random seed (a seeded CPU run is reproducible).")]
Progress = Annotated[bool, typer.Option(help="Show a progress bar.")]
Resume = Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")]
Force = Annotated[bool, typer.Option(help="Replace a finished run in --out.")]


def train_config(*, clip_norm: float, patience: int, **options):
    """The :class:`~lstmkit.train.TrainConfig` of a `train` command; 0 turns clipping or early stopping off."""
    from lstmkit.train import TrainConfig

    return TrainConfig(clip_norm=clip_norm or None, patience=patience or None, **options)
