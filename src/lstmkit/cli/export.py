"""``lstmkit export``: a trained run's model as an ONNX file or a ``torch.export`` program, with a JSON beside it."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli._app import app, user_errors


@app.command("export")
def export(
    run: Path = typer.Argument(..., help="A run directory written by `lstmkit train` (any task)."),
    fmt: str = typer.Option(
        "onnx", "--format", help="File format: onnx (onnxruntime) or torch-export (a torch.export program, .pt2)."
    ),
    out: Path | None = typer.Option(
        None, help="The file to write (default: RUN.onnx, or RUN.pt2 for torch-export, beside the run folder)."
    ),
    force: bool = typer.Option(False, help="Replace --out (and its .json) if they exist."),
) -> None:
    """Export a run's model to ONNX or torch.export (dynamic batch and length); FILE.json says its inputs, outputs
    and vocabulary."""
    from lstmkit.export.tasks import export_run

    with user_errors():
        exported = export_run(run, out, fmt=fmt, force=force)
    typer.echo(f"wrote {exported.path} and {exported.metadata}")
    for note in exported.notes:
        typer.echo(f"note: {note}")
