"""The ``lstmkit`` command line: thin commands that parse, call a library function and print."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="lstmkit: LSTM, GRU and RNN layers from the gate equations.", no_args_is_help=True)
console = Console()


@app.callback()
def main() -> None:
    """lstmkit command line."""


@app.command()
def selftest(seed: int = typer.Option(0, help="Random seed for the inputs and weights.")) -> None:
    """Check every layer against torch.nn on random inputs (float64) and print the errors."""
    from lstmkit.selftest import run_selftest

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
