"""``lstmkit train translate``, ``lstmkit translate`` and the translation part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, texts_or_stdin, train_app, user_errors
from lstmkit.tasks.translate.config import TranslateConfig, model_name

DEFAULT = TranslateConfig()


def print_translate_metrics(metrics: dict, title: str) -> None:
    data = metrics["data"]
    sizes = f"train {data['train']}, val {data['val']}, test {data['test']}"
    table = Table(title=f"{title}: {data['name']} {data['direction']} ({sizes})")
    for column in ("model", "decoding", "BLEU", "chrF"):
        table.add_column(column)
    model = metrics["model"]
    name = model_name(model["attention"])
    table.add_row(name, "greedy", f"{model['greedy']['bleu']:.2f}", f"{model['greedy']['chrf']:.2f}")
    table.add_row(name, f"beam {model['beam_size']}", f"{model['beam']['bleu']:.2f}", f"{model['beam']['chrf']:.2f}")
    console.print(table)


@train_app.command("translate")
@opt.train_command("translate", DEFAULT, report=print_translate_metrics)
def train_translate(
    data: str = typer.Option(
        DEFAULT.data,
        help="Data set name (see `lstmkit data list`) or a TSV file of source<TAB>target[<TAB>attribution] lines.",
    ),
    src: str = typer.Option(DEFAULT.src, help="Source language (en, zh, es, ...)."),
    tgt: str = typer.Option(DEFAULT.tgt, help="Target language."),
    columns: str | None = typer.Option(
        DEFAULT.columns,
        help="Languages of the TSV's two columns, e.g. 'en,zh' (default: guessed when one is Chinese, else src,tgt).",
    ),
    attention: str = typer.Option(
        DEFAULT.attention, help="none (context vector), dot, general (Luong) or additive (Bahdanau)."
    ),
    input_feeding: bool = typer.Option(
        DEFAULT.input_feeding, help="Feed the last attentional vector to the decoder (with attention)."
    ),
    source_tokenizer: str = typer.Option(
        DEFAULT.source_tokenizer, help="auto, char, word, subword, jieba; auto: char for zh, else word."
    ),
    target_tokenizer: str = typer.Option(DEFAULT.target_tokenizer, help="auto, char, word, subword, jieba."),
    subword_vocab_size: int = typer.Option(
        DEFAULT.subword_vocab_size, help="Pieces of a trained subword (WordPiece) vocabulary."
    ),
    min_freq: int = typer.Option(DEFAULT.min_freq, help="Tokens seen fewer times in training become <unk>."),
    max_pair_tokens: int = typer.Option(
        DEFAULT.max_pair_tokens,
        help="Pairs with more tokens than this on either side are dropped; longer inputs to translate are cut.",
    ),
    max_pairs: int = typer.Option(DEFAULT.max_pairs or 0, help="Use only the first N pairs (0: all)."),
    embedding_dim: int = typer.Option(DEFAULT.embedding_dim, help="Embedding size (source and target)."),
    hidden_size: int = typer.Option(
        DEFAULT.hidden_size, help="Decoder and memory width (a BiLSTM encoder runs half per direction)."
    ),
    num_layers: int = typer.Option(DEFAULT.num_layers, help="Stacked LSTM layers in encoder and decoder."),
    bidirectional: bool = typer.Option(
        DEFAULT.bidirectional, "--bidirectional/--unidirectional", help="BiLSTM or forward encoder."
    ),
    dropout: float = typer.Option(DEFAULT.dropout, help="Dropout before the output layer (and between layers)."),
    embedding_dropout: float = typer.Option(DEFAULT.embedding_dropout, help="Dropout of whole token embeddings."),
    label_smoothing: float = typer.Option(
        DEFAULT.label_smoothing, help="Label smoothing of the training cross-entropy."
    ),
    beam_size: int = typer.Option(
        DEFAULT.beam_size, "--beam", help="Beam size for the beam-search scores (and `lstmkit translate`)."
    ),
    length_penalty: float = typer.Option(DEFAULT.length_penalty, help="Beam scores are log-prob / length ** this."),
) -> dict:
    """Train an LSTM encoder-decoder translator; reports greedy and beam BLEU/chrF on the test part."""
    return dict(
        data=data,
        src=src,
        tgt=tgt,
        columns=columns,
        source_tokenizer=source_tokenizer,
        target_tokenizer=target_tokenizer,
        subword_vocab_size=subword_vocab_size,
        min_freq=min_freq,
        max_pair_tokens=max_pair_tokens,
        max_pairs=max_pairs or None,
        embedding_dim=embedding_dim,
        hidden_size=hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        attention=attention,
        input_feeding=input_feeding,
        dropout=dropout,
        embedding_dropout=embedding_dropout,
        label_smoothing=label_smoothing,
        beam_size=beam_size,
        length_penalty=length_penalty,
    )


def print_translate_scores(run: Path, scores: dict) -> None:
    """Greedy and beam BLEU/chrF of a translation run on its test pairs or on a TSV file."""
    console.print(
        f"{scores['data']} ({scores['size']} pairs), LSTM encoder-decoder: greedy BLEU {scores['greedy']['bleu']:.2f} "
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
    as_json: opt.Json = False,
) -> None:
    """Translate sentences with a trained run (a warning when an input is longer than the model's maximum);
    --json prints one JSON object per sentence."""
    from lstmkit.io import check_output_file
    from lstmkit.tasks import translate

    with user_errors(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        texts = texts_or_stdin(texts)
        if heatmap is not None:
            check_output_file(heatmap, "--heatmap")
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
    if png is not None:  # beside JSON lines, on stderr
        Console(stderr=as_json).print(f"attention heatmap: {png}", highlight=False)


SCORE_PRINTERS["translate"] = print_translate_scores
