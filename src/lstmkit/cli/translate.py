"""``lstmkit train translate``, ``lstmkit translate`` and the translation part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors


@train_app.command("translate")
def train_translate(
    data: str = typer.Option(
        "bible-en-es",
        help="Data set name (see `lstmkit data list`) or a TSV file of source<TAB>target[<TAB>attribution] lines.",
    ),
    src: str = typer.Option("en", help="Source language (en, zh, es, ...)."),
    tgt: str = typer.Option("es", help="Target language."),
    columns: str | None = typer.Option(
        None,
        help="Languages of the TSV's two columns, e.g. 'en,zh' (default: guessed when one is Chinese, else src,tgt).",
    ),
    out: Path = typer.Option(Path("runs/translate"), help="Run directory to write."),
    attention: str = typer.Option(
        "general", help="none (context vector), dot, general (Luong) or additive (Bahdanau)."
    ),
    input_feeding: bool = typer.Option(True, help="Feed the last attentional vector to the decoder (with attention)."),
    source_tokenizer: str = typer.Option(
        "auto", help="auto, char, word, subword, jieba; auto: char for zh, else word."
    ),
    target_tokenizer: str = typer.Option("auto", help="auto, char, word, subword, jieba."),
    subword_vocab_size: int = typer.Option(8000, help="Pieces of a trained subword (WordPiece) vocabulary."),
    min_freq: int = typer.Option(2, help="Tokens seen fewer times in training become <unk>."),
    max_length: int = typer.Option(
        30, help="Pairs with more tokens on either side are left out; longer inputs are cut."
    ),
    max_pairs: int | None = typer.Option(None, help="Use only the first N pairs (quick trials)."),
    embedding_dim: int = typer.Option(256, help="Embedding size (source and target)."),
    hidden_size: int = typer.Option(256, help="Decoder and memory width (a BiLSTM encoder runs half per direction)."),
    num_layers: int = typer.Option(1, help="Stacked LSTM layers in encoder and decoder."),
    bidirectional: bool = typer.Option(True, "--bidirectional/--unidirectional", help="BiLSTM or forward encoder."),
    dropout: float = typer.Option(0.3, help="Dropout before the output layer (and between layers)."),
    embedding_dropout: float = typer.Option(0.1, help="Dropout of whole token embeddings."),
    label_smoothing: float = typer.Option(0.1, help="Label smoothing of the training cross-entropy."),
    beam: int = typer.Option(5, help="Beam size for the beam-search scores (and `lstmkit translate`)."),
    length_penalty: float = typer.Option(1.0, help="Beam scores are log-prob / length ** this."),
    epochs: int = typer.Option(8, help="Maximum epochs (early stopping on validation loss may end sooner)."),
    batch_size: int = typer.Option(96, help="Pairs per batch."),
    lr: float = typer.Option(2.5e-3, help="Peak learning rate (AdamW, cosine schedule)."),
    clip_norm: opt.ClipNorm = 1.0,
    patience: opt.Patience = 3,
    seed: opt.Seed = 0,
    progress: opt.Progress = True,
    resume: opt.Resume = False,
    force: opt.Force = False,
) -> None:
    """Train an LSTM encoder-decoder translator; reports greedy and beam BLEU/chrF on the test part."""
    from lstmkit.tasks import translate

    with user_errors():
        train_config = opt.train_config(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=0.0,
            clip_norm=clip_norm,
            patience=patience,
            monitor="loss",
            monitor_mode="min",
            seed=seed,
            progress=progress,
        )
        config = translate.TranslateConfig(
            data=data,
            src=src,
            tgt=tgt,
            columns=columns,
            source_tokenizer=source_tokenizer,
            target_tokenizer=target_tokenizer,
            subword_vocab_size=subword_vocab_size,
            min_freq=min_freq,
            max_length=max_length,
            max_pairs=max_pairs,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            attention=attention,
            input_feeding=input_feeding,
            dropout=dropout,
            embedding_dropout=embedding_dropout,
            label_smoothing=label_smoothing,
            beam_size=beam,
            length_penalty=length_penalty,
            train=train_config,
        )
        result = translate.train(config, out, resume=resume, force=force)
    print_translate_metrics(result.metrics, f"translation run {out}")


def print_translate_metrics(metrics: dict, title: str) -> None:
    data = metrics["data"]
    sizes = f"train {data['train']}, val {data['val']}, test {data['test']}"
    table = Table(title=f"{title}: {data['name']} {data['direction']} ({sizes})")
    for column in ("decoding", "BLEU", "chrF"):
        table.add_column(column)
    model = metrics["model"]
    table.add_row("greedy", f"{model['greedy']['bleu']:.2f}", f"{model['greedy']['chrf']:.2f}")
    table.add_row(f"beam {model['beam_size']}", f"{model['beam']['bleu']:.2f}", f"{model['beam']['chrf']:.2f}")
    console.print(table)


def print_translate_scores(run: Path, scores: dict) -> None:
    """Greedy and beam BLEU/chrF of a translation run on its test pairs or on a TSV file."""
    console.print(
        f"{scores['data']} ({scores['size']} pairs): greedy BLEU {scores['greedy']['bleu']:.2f} "
        f"chrF {scores['greedy']['chrf']:.2f}; beam {scores['beam_size']} BLEU {scores['beam']['bleu']:.2f} "
        f"chrF {scores['beam']['chrf']:.2f}"
    )


@app.command("translate")
def translate_command(
    run: Path = typer.Argument(..., help="A translation run directory."),
    texts: list[str] = typer.Argument(None, help="Sentences to translate; read from stdin, one per line, if none."),
    beam: int | None = typer.Option(None, help="Beam size (1: greedy; default: the run's)."),
    n_best: int = typer.Option(1, help="Also print the next best translations of the beam."),
    heatmap: Path | None = typer.Option(None, help="Write the first sentence's attention heatmap to this PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per sentence."),
) -> None:
    """Translate sentences with a trained run (a warning when an input is longer than the model's maximum)."""
    from lstmkit.tasks import translate

    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    with user_errors(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        translator = translate.load(run)
        results = translator.translate(texts, beam_size=beam, n_best=n_best)
        png = translator.attention_heatmap(texts[0], heatmap, beam_size=beam) if heatmap and texts else None
    for warning in caught:
        Console(stderr=True).print(f"[yellow]warning:[/yellow] {warning.message}", highlight=False)
    for result in results:
        if as_json:
            record = {
                "text": result.text,
                "translation": result.translation,
                "score": round(result.score, 4),
                "alternatives": [{"translation": t, "score": round(s, 4)} for t, s in result.alternatives],
                "truncated": result.truncated,
            }
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            typer.echo(f"{result.translation}\t{result.text}")
            for text, score in result.alternatives:
                typer.echo(f"  {score:.3f}\t{text}")
    if png is not None:
        console.print(f"attention heatmap: {png}")


SCORE_PRINTERS["translate"] = print_translate_scores
