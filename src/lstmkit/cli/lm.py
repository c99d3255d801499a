"""``lstmkit train lm``, ``lstmkit generate`` and the language-model part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors
from lstmkit.tasks.lm.config import TEMPERATURE, LMConfig

DEFAULT = LMConfig()


def print_lm_run(metrics: dict, title: str) -> None:
    """A finished run's test bits per character: the LSTM's, then each baseline's."""
    table = Table(title=f"{title}: {metrics['data']['name']} ({metrics['data']['test']} test characters)")
    table.add_column("model")
    table.add_column("test bits per character")
    table.add_row("LSTM", f"{metrics['model']['bpc']:.3f}")
    for name, baseline in metrics["baselines"].items():
        table.add_row(name, f"{baseline['bpc']:.3f}")
    console.print(table)


@train_app.command("lm")
@opt.train_command("lm", DEFAULT, report=print_lm_run)
def train_lm(
    data: str = typer.Option(DEFAULT.data, help="Data set name (see `lstmkit data list`) or a UTF-8 text file."),
    max_chars: int = typer.Option(DEFAULT.max_chars or 0, help="Use the first N characters of the text (0: all)."),
    sequence_length: int = typer.Option(
        DEFAULT.sequence_length, help="Characters per training sequence (backpropagation length)."
    ),
    embedding_dim: opt.EmbeddingDim = DEFAULT.embedding_dim,
    hidden_size: opt.HiddenSize = DEFAULT.hidden_size,
    num_layers: opt.NumLayers = DEFAULT.num_layers,
    dropout: opt.Dropout = DEFAULT.dropout,
    dropout_kind: opt.DropoutKind = DEFAULT.dropout_kind,
    weight_drop: opt.WeightDrop = DEFAULT.weight_drop,
    tie_weights: bool | None = typer.Option(
        DEFAULT.tie_weights,
        "--tie-weights/--no-tie-weights",
        help="Reuse the embedding as the output layer (needs --embedding-dim == --hidden-size; "
        "default: tied when they are equal).",
    ),
) -> dict:
    """Train a character-level LSTM language model; reports bits per character beside n-gram baselines."""
    return dict(
        data=data,
        max_chars=max_chars or None,
        sequence_length=sequence_length,
        embedding_dim=embedding_dim,
        hidden_size=hidden_size,
        num_layers=num_layers,
        dropout=dropout,
        dropout_kind=dropout_kind,
        weight_drop=weight_drop,
        tie_weights=tie_weights,
    )


@app.command()
def generate(
    run: Path = typer.Argument(..., help="A character LM run directory."),
    prime: str = typer.Option(..., help="Text to start from (at least one character)."),
    temperature: float = typer.Option(TEMPERATURE, help="Sampling temperature (0: always the likeliest character)."),
    chars: int = typer.Option(200, help="Characters to generate after the prime."),
    seed: int | None = typer.Option(None, help="Random seed for repeatable samples."),
    as_json: opt.Json = False,
) -> None:
    """Sample text from a trained character language model."""
    from lstmkit.tasks import lm

    with user_errors():
        text = lm.load(run).generate(prime, temperature=temperature, chars=chars, seed=seed)
    if as_json:
        typer.echo(json.dumps({"run": str(run), "prime": prime, "temperature": temperature, "text": text},
                              ensure_ascii=False))  # fmt: skip
        return
    typer.echo(text)


def print_lm_scores(run: Path, scores: dict) -> None:
    """Bits per character of a character LM on its test text (beside the baselines) or on a text file."""
    baselines = ", ".join(f"{name} {b['bpc']:.3f}" for name, b in scores["baselines"].items())
    console.print(
        f"{scores['data']} ({scores['characters']} characters): {scores['bpc']:.3f} bits per character"
        + (f"; baselines: {baselines}" if baselines else "")
    )


SCORE_PRINTERS["lm"] = print_lm_scores
