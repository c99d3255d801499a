"""The command line's option vocabulary: one name, one meaning, one help text in every command.

Each concept is declared once here as an annotated type; a command gives it its default, taken from
the task's config dataclass (``DEFAULT.hidden_size``), so the command line and Python train the same
model (``tests/test_cli_options.py`` checks every train command against its config). Used as
``from lstmkit.cli import _options as opt``.

Conventions: ``--out`` is always a run directory; a file to write is ``--csv``/``--plot``/``--heatmap``;
counts of things say what they count (``--chars``, ``--updates``); a plural name takes a
comma-separated list (``--cells rnn,lstm``, ``--lengths 50,200``) where its singular takes one value
(``--cell lstm``); 0 turns an optional limit off.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

# -- every train command ----------------------------------------------------------------------------
Out = Annotated[Path, typer.Option(help="Run directory to write.")]
Epochs = Annotated[int, typer.Option(help="Maximum epochs (early stopping may end sooner).")]
BatchSize = Annotated[int, typer.Option(help="Examples per batch.")]
Optimizer = Annotated[str, typer.Option(help="adam, adamw, rmsprop or sgd.")]
LR = Annotated[float, typer.Option("--lr", help="Peak learning rate.")]
WeightDecay = Annotated[float, typer.Option(help="Weight decay.")]
Schedule = Annotated[
    str,
    typer.Option(
        help="Learning-rate schedule: none, cosine (with warm-up), onecycle, slanted (ULMFiT) or exponential "
        "(multiplied by --lr-decay after each epoch)."
    ),
]
LRDecay = Annotated[
    float, typer.Option(help="Factor the learning rate is multiplied by after each epoch (--schedule exponential).")
]
ClipNorm = Annotated[float, typer.Option(help="Clip the gradient norm to this (0: no clipping).")]
Patience = Annotated[int, typer.Option(help="Stop after this many epochs without validation gain (0: never).")]
Restore = Annotated[
    str,
    typer.Option(
        help="Weights the run ends with: best (the epoch that validated best) or last (the last epoch trained)."
    ),
]
Seed = Annotated[int, typer.Option(help="Random seed (a seeded CPU run is reproducible).")]
Devices = Annotated[int, typer.Option(help="Processes (or accelerators) per node for data-parallel training (DDP).")]
NumNodes = Annotated[int, typer.Option(help="Machines taking part in DDP training (start each with torchrun).")]
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
WeightDrop = Annotated[
    float, typer.Option(help="DropConnect on the recurrent weights W_hh, one mask per batch (AWD-LSTM; 0: off).")
]
DropoutKind = Annotated[
    str,
    typer.Option(
        help="How dropout on sequences (between stacked layers, on per-step outputs) draws its masks: standard "
        "(fresh at every step) or locked (one mask per sequence, shared over time; AWD-LSTM)."
    ),
]


def bigrams_option(default: bool | None, meaning: str) -> Any:
    """``--bigrams/--no-bigrams`` (the same option for every task that embeds character bigrams), its
    help ending with what the command's ``default`` (None: by the data) means, in words."""
    return typer.Option(
        default,
        "--bigrams/--no-bigrams",
        help="Also embed each character's bigram (it and the next character) beside the character; Chinese "
        f"(character) tokens only. Default: {meaning}.",
        show_default=False,
    )


BigramMinFreq = Annotated[
    int,
    typer.Option(
        help="Keep bigrams seen at least this often in training; rarer ones share the unknown bigram's vector."
    ),
]

# -- reading results --------------------------------------------------------------------------------
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


# The shared training options, in the order --help lists them (each defaults to the task's TrainConfig).
_TRAIN_OPTIONS = {
    "epochs": Epochs,
    "batch_size": BatchSize,
    "optimizer": Optimizer,
    "lr": LR,
    "weight_decay": WeightDecay,
    "schedule": Schedule,
    "lr_decay": LRDecay,
    "clip_norm": ClipNorm,
    "patience": Patience,
    "restore": Restore,
    "seed": Seed,
    "devices": Devices,
    "num_nodes": NumNodes,
    "accelerator": Accelerator,
    "progress": Progress,
}


def train_config(defaults=None, **options):
    """The :class:`~lstmkit.train.TrainConfig` of a `train` command: ``defaults`` (the task config's
    ``train``) with ``options`` replaced; 0 turns clipping or early stopping off."""
    from lstmkit.train import TrainConfig

    for name in ("clip_norm", "patience"):
        if name in options:
            options[name] = options[name] or None
    return replace(defaults or TrainConfig(), **options)


_DEFAULTED = ("DEFAULT", "DEFAULT_MAP")  # click's ParameterSource names for a value nobody gave


def given_options(context: typer.Context, names) -> set[str]:
    """Which of ``names`` (parameters of the command ``context`` runs) the command line gave, as opposed
    to left at their defaults."""
    sources = {name: context.get_parameter_source(name) for name in names}
    return {name for name, source in sources.items() if source is not None and source.name not in _DEFAULTED}


def train_command(
    task: str,
    defaults,
    report: Callable[[dict, str], None],
    announce: Callable[[object], None] | None = None,
) -> Callable:
    """Decorator for ``train <task>``: the command declares the task's own options and returns the
    fields of its config; the decorator adds what every train command shares and does the rest.

    Added options: ``--out`` (default ``runs/<task>``), the training options of
    :class:`~lstmkit.train.TrainConfig` (each shown defaulting to ``defaults.train``, the task config's),
    ``--resume``, ``--force`` and ``--json``. It builds ``type(defaults)(**fields)``, then replaces in its
    ``train`` the training options the command line gave (so a config whose training defaults depend on
    its other fields keeps them for the options not given; a refused value is a one-line error naming the
    option), calls ``announce(config)`` on a new run unless ``--json``, trains the task through the runner
    and prints the metrics as JSON or through ``report(metrics, title)``. With ``--resume`` an option given
    with another value than the run was started with is refused by name (the run keeps its settings).
    """
    shared = {"out": (Out, Path("runs") / task)}
    shared |= {name: (kind, _cli_default(defaults.train, name)) for name, kind in _TRAIN_OPTIONS.items()}
    shared |= {"resume": (Resume, False), "force": (Force, False), "as_json": (Json, False)}

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        own = list(signature.parameters.values())
        keyword = inspect.Parameter.KEYWORD_ONLY
        added = [inspect.Parameter(n, keyword, annotation=kind, default=d) for n, (kind, d) in shared.items()]
        added.append(inspect.Parameter("context", keyword, annotation=typer.Context))  # typer passes it
        flags = _flags(own)

        @functools.wraps(command)
        def run(**values):
            from lstmkit.cli._app import user_errors
            from lstmkit.errors import LstmkitError, ResumedSettingError
            from lstmkit.tasks.registry import task_named
            from lstmkit.tasks.runner import train_task

            out, resume, force, as_json = (values.pop(name) for name in ("out", "resume", "force", "as_json"))
            context = values.pop("context")
            given = given_options(context, _TRAIN_OPTIONS)
            options = {name: values.pop(name) for name in _TRAIN_OPTIONS}
            options = {name: value for name, value in options.items() if name in given}
            given |= given_options(context, values)  # with --resume each must match the run's own value
            with user_errors():
                with named_options(flags):
                    config = type(defaults)(**command(**values))
                    config = replace(config, train=train_config(config.train, **options))
                if announce is not None and not (resume or as_json):
                    announce(config)
                try:
                    result = train_task(task_named(task), config, out, resume=resume, force=force, given=given)
                except ResumedSettingError as exc:  # the field, as this command spells its option
                    raise LstmkitError(option_name(exc.field, flags) + str(exc)[len(exc.field) :]) from None
            if result.metrics and as_json:
                typer.echo(json.dumps(result.metrics, ensure_ascii=False, indent=2))
            elif result.metrics:  # none in an extra DDP process: the first one reports
                report(result.metrics, f"{task} run {out}")

        run.__signature__ = signature.replace(parameters=own + added, return_annotation=None)
        run.__annotations__ = {p.name: p.annotation for p in own + added}
        return run

    return decorate


def _flags(parameters: list[inspect.Parameter]) -> dict[str, str]:
    """field -> option, for the options a command spells otherwise than ``--field-name`` (``--beam``)."""
    flags = {}
    for parameter in parameters:
        declared = getattr(parameter.default, "param_decls", None) or ()
        names = [name for name in declared if name.startswith("--") and "/" not in name]
        if names and names[0] != "--" + parameter.name.replace("_", "-"):
            flags[parameter.name] = names[0]
    return flags


def _cli_default(defaults, name: str):
    value = getattr(defaults, name)
    return 0 if value is None and name in ("clip_norm", "patience") else value  # 0: off, on the command line


@contextlib.contextmanager
def named_options(renamed: dict[str, str] | None = None) -> Iterator[None]:
    """A value a config refuses (``ValueError: <field> must ...``) becomes a one-line error naming the
    option as the command line spells it (``--field-name``, or ``renamed[field]``)."""
    from lstmkit.errors import LstmkitError

    try:
        yield
    except LstmkitError:
        raise
    except ValueError as exc:
        message = str(exc)
        field = message.split(" ", 1)[0]
        raise LstmkitError(option_name(field, renamed) + message[len(field) :]) from None


def option_name(field: str, renamed: dict[str, str] | None = None) -> str:
    """The option a command line spells for a config ``field``: ``--field-name``, or ``renamed[field]``."""
    return (renamed or {}).get(field, "--" + field.replace("_", "-"))
