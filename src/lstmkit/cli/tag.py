"""``lstmkit train tag``, ``lstmkit tag`` and the tagging part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, texts_or_stdin, train_app, user_errors
from lstmkit.tasks.tag.config import TagConfig

DEFAULT = TagConfig()

# Scores as tables show them, in this order (those a run has).
_SCORE_NAMES = {
    "word_f1": "word F1",
    "oov_recall": "OOV recall",
    "joint_f1": "joint F1",
    "pos_accuracy": "POS accuracy",
    "span_f1": "span F1",
    "tag_accuracy": "tag accuracy",
}


def _score_table(title: str, rows: dict[str, dict]) -> Table:
    """One row per model (``rows``: model name -> its scores), one column per score any of them has."""
    names = [name for name in _SCORE_NAMES if any(name in scores for scores in rows.values())]
    table = Table(title=title)
    table.add_column("model")
    for name in names:
        table.add_column(_SCORE_NAMES[name])
    for model, scores in rows.items():
        # (a score with nothing to count, such as OOV recall with no unseen word, is None: "n/a")
        table.add_row(model, *(_cell(scores, name) for name in names))
    return table


def _cell(scores: dict, name: str) -> str:
    if name not in scores:
        return ""
    return "n/a" if scores[name] is None else f"{scores[name]:.4f}"


def print_tag_run(metrics: dict, title: str) -> None:
    """A finished run's test scores: the tagger's, then each baseline's."""
    data, test = metrics["data"], metrics["data"]["test"]
    size = ", ".join(f"{count} {unit}" for unit, count in test.items())
    rows = {metrics["model"]["name"]: metrics["model"], **metrics["baselines"]}
    console.print(_score_table(f"{title}: {data['name']} test ({size}), scheme {data['scheme']}", rows))
    parts = "; ".join(
        f"{part} " + ", ".join(f"{count} {unit}" for unit, count in data[part].items())
        for part in ("train", "val", "test")
    )
    console.print(f"parts (by sentence hash): {parts}")


@train_app.command("tag")
@opt.train_command("tag", DEFAULT, report=print_tag_run)
def train_tag(
    data: str = typer.Option(
        DEFAULT.data,
        help="pku-seg (Chinese word segmentation), pku-pos (segmentation + part of speech), or a tagged file: "
        ".conllu, .conll/.tsv/.bio/.iob (columns), or one sentence a line of token/TAG.",
    ),
    scheme: str = typer.Option(
        DEFAULT.scheme,
        help="Tag scheme, checked on every sentence: bmes, bio, bioes, plain (labels without positions), or "
        "auto (the narrowest that fits).",
    ),
    token_column: str = typer.Option(
        DEFAULT.token_column,
        help="The token column of a CoNLL file: a number (0 the first, -1 the last) or a CoNLL-U name "
        "(default FORM in .conllu, 0 in .conll).",
    ),
    tag_column: str = typer.Option(
        DEFAULT.tag_column,
        help="The tag column of a CoNLL file: a number or a CoNLL-U name (default UPOS in .conllu, -1 in .conll).",
    ),
    max_sentences: int = typer.Option(
        DEFAULT.max_sentences or 0, help="Use the first N sentences (0: all), e.g. for a quick run."
    ),
    max_length: int = typer.Option(
        DEFAULT.max_length,
        help="Cut training sentences longer than this many tokens (at punctuation where a word ends); "
        "tagging reads any length.",
    ),
    min_freq: int = typer.Option(DEFAULT.min_freq, help="Keep tokens seen at least this often in training."),
    bigram_min_freq: opt.BigramMinFreq = DEFAULT.bigram_min_freq,
    cell: opt.Cell = DEFAULT.cell,
    embedding_dim: opt.EmbeddingDim = DEFAULT.embedding_dim,
    hidden_size: opt.HiddenSize = DEFAULT.hidden_size,
    num_layers: opt.NumLayers = DEFAULT.num_layers,
    bidirectional: bool = typer.Option(DEFAULT.bidirectional, help="Read each sentence in both directions."),
    dropout: opt.Dropout = DEFAULT.dropout,
    embedding_dropout: float = typer.Option(
        DEFAULT.embedding_dropout,
        help="Drop whole characters and bigrams in training: a dropped one reads a zero vector throughout the batch.",
    ),
    input_dropout: float = typer.Option(
        DEFAULT.input_dropout,
        help="Drop single features of each step's input (character, bigram and dictionary embeddings) in training.",
    ),
    decoder: str = typer.Option(
        DEFAULT.decoder,
        help="crf (scores whole tag sequences, constrained to those the scheme allows; Viterbi) or softmax "
        "(each step's likeliest tag on its own).",
    ),
    bigrams: bool | None = opt.bigrams_option(DEFAULT.bigrams, "on for Chinese (character) data, off for word data"),
    char_encoder: str = typer.Option(
        DEFAULT.char_encoder,
        help="Read each word through its characters too (word data), so unseen words get a vector: lstm (a BiLSTM "
        "over the characters, its final states), cnn (filters over 3 characters, max-pooled), none, or auto "
        "(lstm on word data, none on Chinese character data).",
    ),
    char_dim: int = typer.Option(DEFAULT.char_dim, help="Character embedding size of the character encoder."),
    char_hidden: int = typer.Option(
        DEFAULT.char_hidden, help="The character encoder's hidden units per direction (lstm) or filters (cnn)."
    ),
    dictionary: bool = typer.Option(
        DEFAULT.dictionary,
        help="Also embed each character's dictionary features: which training words of 2-4 characters start, "
        "end or pass through it (Zhang et al. 2018); Chinese data only.",
    ),
    dictionary_min_freq: int = typer.Option(
        DEFAULT.dictionary_min_freq,
        help="With --dictionary: keep the training words seen at least this often (2: words seen once are "
        "left out, as unseen words are at test time).",
    ),
    baselines: bool = typer.Option(
        DEFAULT.baselines,
        help="Also score the baselines on the test part: maximum matching and a character CRF (segmentation), "
        "the most frequent tag (POS, user data).",
    ),
) -> dict:
    """Train a sequence tagger (embedding -> recurrent encoder -> per-step linear -> CRF); reports word F1,
    OOV recall, joint F1, span F1 and tag accuracy, as the data has them, beside the baselines."""
    return dict(
        data=data, scheme=scheme, token_column=token_column, tag_column=tag_column,
        max_sentences=max_sentences or None, max_length=max_length, min_freq=min_freq,
        bigram_min_freq=bigram_min_freq, cell=cell,
        embedding_dim=embedding_dim, hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional,
        dropout=dropout, embedding_dropout=embedding_dropout, input_dropout=input_dropout, decoder=decoder,
        bigrams=bigrams,
        char_encoder=char_encoder, char_dim=char_dim, char_hidden=char_hidden, dictionary=dictionary,
        dictionary_min_freq=dictionary_min_freq, baselines=baselines,
    )  # fmt: skip


@app.command("tag")
def tag_texts(
    run: Path = typer.Argument(..., help="A tagging run directory."),
    texts: list[str] = typer.Argument(None, help="Texts to tag; read from stdin, one per line, if none."),
    as_json: opt.Json = False,
) -> None:
    """Tag texts with a trained tagging run: Chinese text comes back as words (with their part of speech
    for a pku-pos run), other text as token/TAG; --json gives tokens, tags, words or spans and the model."""
    from lstmkit.tasks import tag

    with user_errors():
        results = tag.load(run).tag(texts_or_stdin(texts))
    for result in results:
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        elif "words" in result:
            typer.echo(" ".join(w if isinstance(w, str) else f"{w[0]}/{w[1]}" for w in result["words"]))
        else:
            typer.echo(" ".join(f"{token}/{tag}" for token, tag in zip(result["tokens"], result["tags"])))


def print_tag_scores(run: Path, scores: dict) -> None:
    """A tagging run's scores on its test part or ``--data``, beside the baselines scored on the same part."""
    size = f"{scores['sentences']} sentences"
    rows = {scores["model"]: scores, **scores["baselines"]}
    console.print(_score_table(f"{scores['data']} ({size})", rows))
    if "confusion_matrix_png" in scores:
        console.print(f"confusion matrix: {scores['confusion_matrix_png']}")


SCORE_PRINTERS["tag"] = print_tag_scores
