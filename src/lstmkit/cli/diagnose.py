"""``lstmkit diagnose gradients|memory`` and ``lstmkit inspect``: see inside the recurrent layers."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import app, console, user_errors
from lstmkit.errors import LstmkitError

diagnose_app = typer.Typer(
    help="Why LSTMs: gradient flow over time and long-memory benchmarks, RNN vs LSTM vs GRU.", no_args_is_help=True
)
app.add_typer(diagnose_app, name="diagnose")


def _parse_cells(value: str) -> list[str]:
    from lstmkit.heads.config import CELLS

    cells = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise LstmkitError(f"--cells must be a comma-separated list of {sorted(CELLS)}, got {value!r}")
    return cells


def _parse_lengths(value: str) -> list[int]:
    try:
        lengths = [int(item) for item in value.split(",") if item.strip()]
    except ValueError:
        lengths = []
    if not lengths or min(lengths) < 2:
        raise LstmkitError(f"--lengths must be comma-separated integers of at least 2, got {value!r}")
    return lengths


# The configs' field names where the command line calls the option otherwise.
_OPTION_NAMES = {"length": "--sequence-length", "train_steps": "--updates", "steps": "--updates"}


def _options():
    """Option values the library rejects become one-line errors naming the command line's option."""
    return opt.named_options(_OPTION_NAMES)


def _lag(value: int | None, length: int) -> str:
    return str(value) if value is not None else f"> {length - 1}"


@diagnose_app.command("gradients")
def gradients(
    cells: str = typer.Option("rnn,lstm,gru", help="Comma-separated cells: rnn (tanh), lstm, gru."),
    sequence_length: int = typer.Option(200, help="Sequence length T of the probe (lags 0..T-1)."),
    hidden_size: opt.HiddenSize = 64,
    batch_size: int = typer.Option(32, help="Probe sequences (norms are averaged over them)."),
    updates: int = typer.Option(300, help="Adam updates on the adding problem before the 'trained' profile (0: none)."),
    lstm_init: str = typer.Option(
        "forget-bias", help="LSTM initialisation: forget-bias (forget-gate bias 1), chrono or torch (uniform)."
    ),
    recurrent_scale: float = typer.Option(3.0, help="Factor on the RNN's W_hh for the exploding-gradient demo."),
    sgd_updates: int = typer.Option(200, help="SGD updates of the clipping comparison (with and without clipping)."),
    seed: opt.Seed = 0,
    out: Path = typer.Option(Path("runs/diagnose"), help="Folder for gradients.png, exploding.png, gradients.json."),
) -> None:
    """Norm of the gradient of a last-step loss w.r.t. each earlier input and hidden state, against lag."""
    from lstmkit.diagnostics.gradients import GradientConfig, diagnose_gradients
    from lstmkit.io import check_output_folder

    with user_errors(), _options():
        config = GradientConfig(
            length=sequence_length,
            hidden_size=hidden_size,
            batch_size=batch_size,
            train_steps=updates,
            lstm_init=lstm_init,
            seed=seed,
        )
        cell_names = _parse_cells(cells)
        check_output_folder(out, "--out")
        if not recurrent_scale > 0:
            raise LstmkitError(f"--recurrent-scale must be positive, got {recurrent_scale}")
        if sgd_updates < 1:
            raise LstmkitError(f"--sgd-updates must be at least 1, got {sgd_updates}")
    with user_errors():
        summary = diagnose_gradients(
            cell_names, config, out, recurrent_scale=recurrent_scale, sgd_steps=sgd_updates, progress=console.print
        )
    table = Table(
        title=f"lag at which the gradient norm falls below 1e-6 of its last-step value (T = {sequence_length})"
    )
    for column in ("cell", "stage", "inputs x_t", "hidden h_t", "cell state c_t", "norm ratio at lag 50"):
        table.add_column(column)
    for row in summary["rows"]:
        ratio = row["relative_norm_at_lag_50"]
        table.add_row(
            row["cell"],
            row["stage"],
            _lag(row["input_decay_lag"], sequence_length),
            _lag(row["hidden_decay_lag"], sequence_length),
            "" if row["cell"] != "lstm" else _lag(row["cell_state_decay_lag"], sequence_length),
            "" if ratio is None else f"{ratio:.1e}",
        )
    console.print(table)
    exploding = summary["exploding"]
    console.print(
        f"exploding: {exploding['cell']} with W_hh x {exploding['recurrent_scale']:g}: gradient norm grows to "
        f"{exploding['max_relative_norm']:.1e} x its lag-0 value"
    )
    for run in exploding["runs"]:
        name = "no clipping" if run["clip_norm"] == 0 else f"clip norm {run['clip_norm']:g}"
        state = "diverged" if run["diverged"] else f"final loss {run['loss'][-1]:.3g}"
        console.print(f"  SGD {name}: max gradient norm {max(run['grad_norm']):.3g}, {state}")
    console.print(f"figures: {summary['figures']['gradients']}, {summary['figures']['exploding']}")


@diagnose_app.command("memory")
def memory(
    task: str = typer.Option("adding", help="adding, copy or recall."),
    lengths: str = typer.Option("50,100,200", help="Comma-separated sequence lengths."),
    cells: str = typer.Option("rnn,lstm", help="Comma-separated cells: rnn (tanh), lstm, gru."),
    hidden_size: opt.HiddenSize = 64,
    updates: int = typer.Option(3000, help="Budget: Adam updates per (cell, length); stops early on success."),
    batch_size: int = typer.Option(64, help="Sequences per update."),
    lr: float = typer.Option(3e-3, help="Adam learning rate."),
    lstm_init: str = typer.Option(
        "chrono", help="LSTM initialisation: chrono (forget biases spread up to T), forget-bias (1) or torch."
    ),
    seed: opt.Seed = 0,
    out: Path = typer.Option(Path("runs/diagnose"), help="Folder for memory_TASK.png and memory_TASK.json."),
) -> None:
    """Train each cell at each length on a long-memory task; test error against the trivial baseline."""
    from lstmkit.diagnostics.memory import TASKS, MemoryConfig, diagnose_memory
    from lstmkit.io import check_output_folder

    with user_errors(), _options():
        if task not in TASKS:
            raise LstmkitError(f"--task must be one of {sorted(TASKS)}, got {task!r}")
        config = MemoryConfig(
            hidden_size=hidden_size,
            steps=updates,
            batch_size=batch_size,
            lr=lr,
            lstm_init=lstm_init,
            seed=seed,
        )
        cell_names, length_values = _parse_cells(cells), _parse_lengths(lengths)
        check_output_folder(out, "--out")
    with user_errors():
        results = diagnose_memory(
            task,
            cell_names,
            length_values,
            config,
            out,
            progress=lambda cell, length, step, error: console.print(
                f"{cell} T={length} step {step}: validation {error:.4f}"
            ),
        )
    spec = TASKS[task]
    table = Table(title=f"{task}: {spec.criterion}")
    for column in ("cell", "length", f"test {spec.error_name}", "baseline", "success", "updates", "seconds"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.cell,
            str(r.length),
            f"{r.error:.4f}",
            f"{r.baseline:.3f}",
            "yes" if r.success else "no",
            str(r.steps),
            f"{r.seconds:.0f}",
        )
    console.print(table)
    console.print(f"figure: {Path(out) / f'memory_{task}.png'}")


@app.command()
def inspect(
    run: Path = typer.Argument(..., help="A sentiment run directory."),
    text: str = typer.Argument(..., help="The text to feed through the model."),
    out: Path | None = typer.Option(None, help="Folder for inspect.html and gates_*.png (default: RUN/inspect)."),
    units: int = typer.Option(16, help="How many of the most active units to show."),
) -> None:
    """Gates and cell state of a trained text model, token by token: heat maps and an offline HTML page."""
    from lstmkit.diagnostics.report import inspect_run
    from lstmkit.io import check_output_folder

    with user_errors():
        if units < 1:
            raise LstmkitError(f"--units must be at least 1, got {units}")
        if out is not None:
            check_output_folder(out, "--out")
        result = inspect_run(run, text, out, units)
    recording = result["recording"]
    probability = recording.probabilities[recording.label]
    console.print(f"{recording.label} ({probability:.3f}, {recording.predicted_by}): {' '.join(recording.tokens)}")
    console.print(f"html: {result['html']}")
    for figure in result["figures"]:
        console.print(f"figure: {figure}")
