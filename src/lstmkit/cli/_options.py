"""The command line's option vocabulary: one name, one meaning, one help text in every command.

Each concept is declared once here as an annotated type; a command gives it its default, taken from
the task's config dataclass (``DEFAULT.hidden_size``), so the command line and Python train the same
model (``tests/test_cli_options.py`` checks every train command against its config). Used as
``from lstmkit.cli import _options as opt``.

Conventions: ``--out`` is always a run directory; a file to write is ``--csv``/``--heatmap``; counts
of things say what they count (``--chars``, ``--updates``); 0 turns an optional limit off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# -- every train command ----------------------------------------------------------------------------
Out = Annotated[Path, typer.Option(help="Run directory to write.")]
Epochs = Annotated[int, typer.Option(help="Maximum epochs (early stopping may end sooner).")]
BatchSize = Annotated[int, typer.Option(help="Examples per batch.")]
Optimizer = Annotated[str, typer.Option(help="adam, adamw, rmsprop or sgd.")]
LR = Annotated[float, typer.Option("--lr", help="Peak learning rate.")]
WeightDecay = Annotated[float, typer.Option(help="Weight decay.")]
Schedule = Annotated[str, typer.Option(help="Learning-rate schedule: none, cosine (with warm-up) or onecycle.")]
ClipNorm = Annotated[float, typer.Option(help="Clip the gradient norm to this (0: no clipping).")]
Patience = Annotated[int, typer.Option(help="Stop after this many epochs without validation gain (0: never).")]
Seed = Annotated[int, typer.Option(help="Random seed (a seeded CPU run is reproducible).")]
Devices = Annotated[int, typer.Option(help="Processes (or accelerators) for data-parallel training (DDP).")]
Accelerator = Annotated[str, typer.Option(help="cpu, gpu or auto (Lightning's accelerator names).")]
Progress = Annotated[bool, typer.Option(help="Show a progress bar.")]
Resume = Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")]
Force = Annotated[bool, typer.Option(help="Replace a finished run in --out.")]

# -- models -----------------------------------------------------------------------------------------
Cell = Annotated[str, typer.Option(help="Recurrent cell: lstm, gru or rnn (tanh).")]
HiddenSize = Annotated[int, typer.Option(help="Hidden units (per direction).")]
NumLayers = Annotated[int, typer.Option(help="Stacked recurrent layers.")]
EmbeddingDim = Annotated[int, typer.Option(help="Embedding size.")]
Dropout = Annotated[float, typer.Option(help="Dropout on the layer's output (and between stacked layers).")]

# -- reading results --------------------------------------------------------------------------------
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def train_config(*, clip_norm: float, patience: int, defaults=None, **options):
    """The :class:`~lstmkit.train.TrainConfig` of a `train` command: the task's ``defaults`` (its config's
    ``train``) with the options given; 0 turns clipping or early stopping off."""
    from dataclasses import replace

    from lstmkit.train import TrainConfig

    return replace(defaults or TrainConfig(), clip_norm=clip_norm or None, patience=patience or None, **options)
