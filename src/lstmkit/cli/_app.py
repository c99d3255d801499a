"""The command-line apps every task module adds its commands to, and the task-independent commands.

The project's own errors (bad data, a wrong run directory, a failed run) print one line,
``error: ...``, and exit with code 2; Ctrl+C prints what was kept and exits with 130; anything
unexpected keeps its traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lstmkit.errors import LstmkitError, RunDirectoryError

try:  # typer >= 0.26 vendors click, whose errors derive from TyperException; older typers raise click's own
    from typer import TyperException as _Refused
except ImportError:  # pragma: no cover
    from click import ClickException as _Refused


def print_error(message: str) -> None:
    """``error: message`` on stderr, on one line (the message is the user's words: no rich markup)."""
    Console(stderr=True, soft_wrap=True).print(
        f"[red]error:[/red] {escape(' '.join(message.split()))}", highlight=False
    )


def _usage_line(exc: _Refused) -> str:
    """What click refused (an unknown option or command, a value of the wrong type, a missing value),
    with the value given and where to read the usage."""
    message = exc.format_message().rstrip(".")
    errors = getattr(exc.__cause__, "errors", None)  # typer converts values with pydantic, which keeps the input
    if callable(errors) and errors() and "input" in errors()[0]:
        message += f", got {errors()[0]['input']!r}"
    ctx = getattr(exc, "ctx", None)
    return message + (f" (see `{ctx.command_path} --help`)" if ctx is not None else "")


class _OneLineErrors(typer.core.TyperGroup):
    """The root command: a command line that click refuses is one line ``error: ...`` with exit code 2,
    as the project's own errors are (typer would draw a usage box)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _Refused as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # a group called alone: its help is the answer
                exc.show()
            else:
                print_error(_usage_line(exc))
            sys.exit(exc.exit_code)
        except typer.Abort:  # end of input at a prompt
            print_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    help="lstmkit: LSTM, GRU and RNN layers from the gate equations, and tasks built on them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train a model for a task; writes a run directory.", no_args_is_help=True)
data_app = typer.Typer(help="Data sets: the embedded defaults and the downloadable ones.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")
console = Console()

# task name (as in a run's config.json) -> print_scores(run_dir, scores) for `lstmkit evaluate`, which
# scores the run with ``lstmkit.tasks.<task>.load(run_dir).evaluate(data)``. Each task's CLI module
# registers its own printer.
SCORE_PRINTERS: dict[str, Callable[[Path, dict], None]] = {}


@contextlib.contextmanager
def user_errors():
    """Turn the project's own errors into one line on stderr and exit code 2."""
    try:
        yield
    except LstmkitError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:  # Ctrl+C: what was kept (TrainingInterrupted says), exit 130 as shells expect
        print_error(str(exc) or "interrupted")
        raise typer.Exit(130) from None


def texts_or_stdin(texts: list[str] | None) -> list[str]:
    """The texts given as arguments, else the non-blank lines of stdin; none at all is an error (a
    command that silently did nothing would look like a success)."""
    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise LstmkitError("no texts given: pass them as arguments or one per line on stdin")
    return texts


@app.callback()
def main() -> None:
    """lstmkit command line."""


@app.command()
def selftest(seed: int = typer.Option(0, help="Random seed for the inputs and weights.")) -> None:
    """Check every layer against torch.nn on random inputs (float64) and print the errors."""
    from lstmkit import kernels
    from lstmkit.selftest import run_selftest

    console.print(kernels.describe(), highlight=False)
    results = run_selftest(seed=seed)
    table = Table(title="lstmkit vs torch.nn (float64, max relative error of outputs/states and of all gradients)")
    for column in ("layer", "backend", "outputs", "gradients", "result"):
        table.add_column(column)
    for r in results:
        verdict = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        table.add_row(r.name, r.backend, f"{r.output_error:.1e}", f"{r.gradient_error:.1e}", verdict)
    console.print(table)
    failed = sum(not r.passed for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@app.command()
def evaluate(
    run: Path = typer.Argument(..., help="A run directory written by `lstmkit train`."),
    data: str | None = typer.Option(None, help="Data to score instead of the run's own test part."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    plot: Path | None = typer.Option(
        None, help="Also draw into this PNG: the confusion matrix (sentiment) or the scored forecasts (forecast)."
    ),
    columns: str | None = typer.Option(
        None, help="Languages of the --data TSV's two columns, e.g. 'en,zh' (translation runs; as at training)."
    ),
) -> None:
    """Score a trained run of any task, beside its baselines (the run's config.json names the task).

    Writes nothing unless asked (``--plot``)."""
    from lstmkit.io import check_output_file
    from lstmkit.runs import run_task
    from lstmkit.tasks.registry import task_named

    with user_errors():
        if plot is not None:
            check_output_file(plot, "--plot")
        task = run_task(run)
        if task not in SCORE_PRINTERS:
            raise RunDirectoryError(f"{run} holds a {task!r} run; lstmkit evaluates {sorted(SCORE_PRINTERS)}")
        model = task_named(task).load(run)  # (load_run would read config.json again for the task)
        options = {name: value for name, value in {"plot": plot, "columns": columns}.items() if value is not None}
        taken = inspect.signature(model.evaluate).parameters
        for name in options:  # in the order --help lists them, so the message is always the same
            if name not in taken:
                raise LstmkitError(f"--{name}: evaluating a {task!r} run does not take it; drop --{name}")
        scores = model.evaluate(data, **options)
    if as_json:
        typer.echo(json.dumps(scores, ensure_ascii=False, indent=2))
        return
    SCORE_PRINTERS[task](run, scores)


@data_app.command("list")
def data_list(
    task: str | None = typer.Option(None, help="Only the data sets of this task (lexicon: the sentiment lexicons)."),
) -> None:
    """Each data set and sentiment lexicon: task, language, where it comes from, and its licence."""
    from lstmkit.cli._options import named_options
    from lstmkit.data import list_datasets
    from lstmkit.data.lexicons import LEXICONS

    with user_errors(), named_options():
        datasets = [] if task == "lexicon" else list_datasets(task)
    table = Table(title="lstmkit data sets")
    for column in ("name", "task", "language", "description", "source", "licence"):
        table.add_column(column, overflow="fold")
    for info in datasets:
        table.add_row(info.name, info.task, info.language, info.description, info.source, info.licence)
    for lexicon in LEXICONS.values() if task in (None, "lexicon") else ():  # read by train sentiment --lexicon
        table.add_row(lexicon.name, "lexicon", lexicon.language, lexicon.description, lexicon.source, lexicon.licence)
    console.print(table)


@app.command()
def bench(
    cells: str = typer.Option("lstm,gru,rnn", help="Comma-separated cells: lstm, gru, rnn."),
    sections: str = typer.Option("layers,extras,streaming", help="Comma-separated: layers, extras, streaming."),
    rounds: int = typer.Option(3, help="Timed rounds (after one warm-up); the tables show median ratios."),
    bidirectional: bool = typer.Option(
        False, "--bidirectional/--unidirectional", help="The layer table of two-way layers or of one-way ones."
    ),
) -> None:
    """A short speed check on this machine: lstmkit against torch.nn at (B, T, I, H) = (32, 100, 128, 128).

    The full table is `python benchmarks/bench_kernels.py` (docs/kernels.md).
    """
    from lstmkit.bench import check_options, report
    from lstmkit.cli._options import named_options

    with user_errors(), named_options({"backend": "the benchmark"}):
        check_options(sections.split(","), cells.split(","), rounds)
    report(sections.split(","), cells.split(","), shapes=[(32, 100, 128, 128)], rounds=rounds, sizes=(128,),
           echo=typer.echo, bidirectional=bidirectional)  # fmt: skip
