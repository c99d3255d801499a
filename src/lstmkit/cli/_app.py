"""The command-line apps every task module adds its commands to, and the task-independent commands.

The project's own errors (bad data, a wrong run directory, a failed run) print one line,
``error: ...``, and exit with code 2; Ctrl+C prints what was kept and exits with 130; anything
unexpected keeps its traceback.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.errors import LstmkitError, RunDirectoryError

app = typer.Typer(
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
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:  # Ctrl+C: what was kept (TrainingInterrupted says), exit 130 as shells expect
        message = str(exc) or "interrupted"
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False, markup=True)
        raise typer.Exit(130) from None


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
) -> None:
    """Score a trained run of any task, beside its baselines (the run's config.json names the task).

    Writes nothing unless asked (``--plot``)."""
    from lstmkit.runs import run_task
    from lstmkit.tasks.runner import load_run

    with user_errors():
        task = run_task(run)
        if task not in SCORE_PRINTERS:
            raise RunDirectoryError(f"{run} holds a {task!r} run; lstmkit evaluates {sorted(SCORE_PRINTERS)}")
        model = load_run(run)
        if plot is None:
            scores = model.evaluate(data)
        elif "plot" in inspect.signature(model.evaluate).parameters:
            scores = model.evaluate(data, plot=plot)
        else:
            raise LstmkitError(f"--plot: evaluating a {task!r} run draws no plot; drop --plot")
    if as_json:
        typer.echo(json.dumps(scores, ensure_ascii=False, indent=2))
        return
    SCORE_PRINTERS[task](run, scores)


@data_app.command("list")
def data_list(task: str | None = typer.Option(None, help="Only the data sets of this task.")) -> None:
    """Each data set: task, language, where it comes from, and its licence."""
    from lstmkit.data import list_datasets

    table = Table(title="lstmkit data sets")
    for column in ("name", "task", "language", "description", "source", "licence"):
        table.add_column(column, overflow="fold")
    for info in list_datasets(task):
        table.add_row(info.name, info.task, info.language, info.description, info.source, info.licence)
    console.print(table)


@app.command()
def bench(
    cells: str = typer.Option("lstm,gru,rnn", help="Comma-separated cells: lstm, gru, rnn."),
    sections: str = typer.Option("layers,extras,streaming", help="Comma-separated: layers, extras, streaming."),
    rounds: int = typer.Option(3, help="Timed rounds (after one warm-up); the tables show median ratios."),
) -> None:
    """A short speed check on this machine: lstmkit against torch.nn at (B, T, I, H) = (32, 100, 128, 128).

    The full table is `python benchmarks/bench_kernels.py` (docs/kernels.md).
    """
    from lstmkit.bench import report

    with user_errors():
        try:
            report(sections.split(","), cells.split(","), shapes=[(32, 100, 128, 128)], rounds=rounds, sizes=(128,),
                   echo=typer.echo)  # fmt: skip
        except ValueError as error:
            raise LstmkitError(str(error)) from None
