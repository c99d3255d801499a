"""``lstmkit train lm``, ``lstmkit generate`` and the language-model part of ``lstmkit evaluate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors


@train_app.command("lm")
def train_lm(
    data: str = typer.Option("kjv", help="Data set name (see `lstmkit data list`) or a UTF-8 text file."),
    out: Path = typer.Option(Path("runs/lm"), help="Run directory to write."),
    max_chars: int = typer.Option(1_000_000, help="Use the first N characters of the text (0: all)."),
    sequence_length: int = typer.Option(128, help="Characters per training sequence (backpropagation length)."),
    embedding_dim: int = typer.Option(256, help="Character embedding size (tied to the output when = hidden)."),
    hidden_size: int = typer.Option(256, help="LSTM hidden units."),
    num_layers: int = typer.Option(1, help="Stacked LSTM layers."),
    dropout: float = typer.Option(0.1, help="Dropout before the output layer (and between layers)."),
    epochs: int = typer.Option(3, help="Maximum epochs."),
    batch_size: int = typer.Option(64, help="Sequences per batch."),
    lr: float = typer.Option(3e-3, help="Peak learning rate (AdamW, cosine schedule)."),
    seed: opt.Seed = 0,
    progress: opt.Progress = True,
    resume: opt.Resume = False,
    force: opt.Force = False,
) -> None:
    """Train a character-level LSTM language model; reports bits per character beside n-gram baselines."""
    from lstmkit.tasks import lm
    from lstmkit.train import TrainConfig

    with user_errors():
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=0.0,
            patience=2,
            monitor="loss",
            monitor_mode="min",
            seed=seed,
            progress=progress,
        )
        config = lm.LMConfig(
            data=data,
            max_chars=max_chars or None,
            sequence_length=sequence_length,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            train=train_config,
        )
        result = lm.train(config, out, resume=resume, force=force)
    metrics = result.metrics
    table = Table(title=f"character LM {out}: {metrics['data']['name']} ({metrics['data']['test']} test characters)")
    table.add_column("model")
    table.add_column("test bits per character")
    table.add_row("LSTM", f"{metrics['model']['bpc']:.3f}")
    for name, baseline in metrics["baselines"].items():
        table.add_row(name, f"{baseline['bpc']:.3f}")
    console.print(table)


@app.command()
def generate(
    run: Path = typer.Argument(..., help="A character LM run directory."),
    prime: str = typer.Option(..., help="Text to start from (at least one character)."),
    temperature: float = typer.Option(0.8, help="Sampling temperature (0: always the likeliest character)."),
    length: int = typer.Option(200, help="Characters to generate after the prime."),
    seed: int | None = typer.Option(None, help="Random seed for repeatable samples."),
) -> None:
    """Sample text from a trained character language model."""
    from lstmkit.tasks import lm

    with user_errors():
        text = lm.load(run).generate(prime, temperature=temperature, length=length, seed=seed)
    typer.echo(text)


def print_lm_scores(run: Path, scores: dict) -> None:
    """Bits per character of a character LM on its test text (beside the baselines) or on a text file."""
    baselines = ", ".join(f"{name} {b['bpc']:.3f}" for name, b in scores["baselines"].items())
    console.print(
        f"{scores['data']} ({scores['characters']} characters): {scores['bpc']:.3f} bits per character"
        + (f"; baselines: {baselines}" if baselines else "")
    )


SCORE_PRINTERS["lm"] = print_lm_scores
