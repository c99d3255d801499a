"""What sentiment analysis brings to the shared lifecycle (:mod:`lstmkit.tasks.runner`): labelled texts
and their vocabulary, the recurrent classifier (optionally from an LM-pretrained encoder), and its
scores beside the TF-IDF baselines and, with ``fusion=True``, the fused ensemble's."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn
from torch.utils.data import DataLoader

from lstmkit.data import Split, Vocab, WordVectors, pretrained_embedding, read_word_vectors
from lstmkit.errors import DataError, LstmkitError
from lstmkit.heads import (
    ClassifierConfig,
    EncoderConfig,
    SequenceClassifier,
    gradual_unfreezing,
    parameter_groups,
)
from lstmkit.io import load_weights, save_weights, write_json
from lstmkit.metrics import classification_metrics
from lstmkit.runs import VOCAB, read_run_config
from lstmkit.tasks.runner import Built, Task
from lstmkit.tasks.sentiment.config import DEFAULT_EMBEDDING_DIM, NAME, SentimentConfig, describe_model
from lstmkit.tasks.sentiment.data import (
    TextEncoder,
    build_text_encoder,
    load_data,
    make_loader,
    read_unlabelled,
    saved_text_encoder,
)
from lstmkit.tasks.sentiment.fusion import FusedLinear
from lstmkit.tasks.sentiment.model import build_classifier, predictor_name
from lstmkit.tasks.sentiment.pretrain import (
    ENCODER_WEIGHTS,
    classifier_encoders,
    encoder_directions,
    pretrain_encoder,
)
from lstmkit.train.objectives import ClassificationObjective

__all__ = ["TASK", "NAME"]


@dataclass
class SentimentData:
    """A run's data: the split, its labels, the tokenizer + vocabulary, the word vectors the embedding
    starts from (``vectors``; ``embeddings`` says what they cover, ``embedding_dim`` is the size) and
    the run directory (LM pretraining in :meth:`SentimentTask.build` writes its checkpoints there)."""

    name: str
    language: str
    split: Split
    labels: list[str]
    text_encoder: TextEncoder
    unlabelled: list[str]
    run_dir: Path
    resume: bool
    embedding_dim: int
    vectors: WordVectors | None = None
    embeddings: dict[str, Any] | None = None
    # Each part's inputs, made once: a lexicon's word segmentation takes seconds per pass over the texts.
    encoded: dict[str, dict[str, list[list[int]]]] = field(default_factory=dict, repr=False)

    def texts(self, part: str) -> list[str]:
        return list(getattr(self.split, part).texts)

    def inputs(self, part: str) -> dict[str, list[list[int]]]:
        """What the classifier reads of each text of ``part``: ``{"tokens": ids}`` (and ``"bigrams"``,
        ``"lexicon"``); a new dict each call (of the same lists)."""
        if part not in self.encoded:
            self.encoded[part] = self.text_encoder.inputs(self.texts(part))
        return dict(self.encoded[part])

    def loader(self, part: str, batch_size: int, shuffle: bool, seed: int = 0, members: int = 1) -> DataLoader:
        """Length-bucketed labelled batches of ``part`` (:func:`make_loader`), with its bigram ids where read
        (and for an ensemble's training, one batch per member)."""
        steps = self.inputs(part)
        tokens = steps.pop("tokens")
        pad = self.text_encoder.vocab.pad_index
        return make_loader(tokens, self.label_ids(part), pad, batch_size, shuffle, seed, steps, members)

    def label_ids(self, part: str) -> list[int]:
        index = {label: i for i, label in enumerate(self.labels)}
        return [index[label] for label in getattr(self.split, part).labels]


def _word_vectors(config: SentimentConfig, vocab: Vocab) -> tuple[WordVectors, dict[str, Any]]:
    """The vectors of ``config.embeddings`` for the vocabulary's tokens, and what they cover
    (``metrics.json``'s ``embeddings``)."""
    words = vocab.tokens[len(vocab.specials()) :]
    vectors = read_word_vectors(config.embeddings, words)
    if config.embedding_dim is not None and config.embedding_dim != vectors.dim:
        raise DataError(
            f"--embedding-dim {config.embedding_dim} does not match the {vectors.dim} dimensions of the vectors in "
            f"{config.embeddings}; leave --embedding-dim out to take the file's"
        )
    found = len(vectors.vectors)
    if not found:
        raise DataError(
            f"--embeddings {config.embeddings}: none of the {len(words)} vocabulary tokens has a vector "
            f"(tokens look like {list(words[:5])}); use the tokenizer the vectors were made with (--tokenizer)"
        )
    coverage = {
        "file": config.embeddings,
        "dim": vectors.dim,
        "found": found,
        "vocabulary": len(words),
        "coverage": round(found / len(words), 4),
        "lines": vectors.lines,
        "skipped_lines": vectors.skipped,
    }
    if coverage["coverage"] < 0.5:
        warnings.warn(
            f"--embeddings {config.embeddings}: only {found} of {len(words)} vocabulary tokens "
            f"({coverage['coverage']:.1%}) have a vector; check that --tokenizer splits text as the vectors do",
            stacklevel=2,
        )
    return vectors, coverage


def _encoder_config(config: SentimentConfig, vocab_size: int, embedding_dim: int) -> EncoderConfig:
    return EncoderConfig(
        vocab_size=vocab_size,
        embedding_dim=embedding_dim,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        cell=config.cell,
        bidirectional=config.bidirectional,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        embedding_dropout=config.embedding_dropout,
        input_dropout=config.input_dropout,
        recurrent_dropout=config.recurrent_dropout,
        weight_drop=config.weight_drop,
        dropout_kind=config.dropout_kind,
        layer_norm=config.layer_norm,
    )


def _param_groups(model: nn.Module, config: SentimentConfig) -> list[dict] | None:
    """Optimizer groups: discriminative learning rates if asked, and the wide n-gram branch apart.

    The wide branch is a linear model over a million sparse rows, each touched only by the texts that
    contain its n-grams; at the deep part's learning rate it would still be far from converged when
    the deep part starts to overfit, so it gets ``ngram_lr_scale`` times the rate and no weight decay.
    """
    members = getattr(model, "members", (model,))
    wide_params = [p for member in members if member.ngrams is not None for p in member.ngrams.parameters()]
    if not config.discriminative_lr and not wide_params:
        return None
    groups = (
        parameter_groups(model, config.train.lr)
        if config.discriminative_lr
        else [{"name": "model", "params": list(model.parameters()), "lr": config.train.lr}]
    )
    if not wide_params:
        return groups
    wide = {id(p) for p in wide_params}
    for group in groups:
        group["params"] = [p for p in group["params"] if id(p) not in wide]
    wide_group = {
        "name": "ngrams",
        "params": wide_params,
        "lr": config.train.lr * config.ngram_lr_scale,
        "weight_decay": 0.0,
    }
    return [g for g in groups if g["params"]] + [wide_group]


# The settings that shape the encoder's weights: a reused encoder must have been trained with the same.
_ENCODER_SHAPING = ("forward_backward", "bidirectional", "cell", "hidden_size", "num_layers", "layer_norm")


def _check_same_encoder(config: SentimentConfig) -> None:
    """Refuse ``--encoder RUN`` whose encoder was built otherwise, naming the first setting that differs
    (loading it would otherwise fail on tensor names or shapes, which do not say why)."""
    saved = read_run_config(config.encoder, NAME)["config"]
    defaults = SentimentConfig()
    for name in _ENCODER_SHAPING:
        theirs, ours = saved.get(name, getattr(defaults, name)), getattr(config, name)
        if theirs != ours:
            raise LstmkitError(
                f"--encoder {config.encoder!r} was trained with {name}={theirs!r}, this run has {name}={ours!r}: "
                f"give {_flag(name, theirs)} as that run did"
            )


def _flag(field: str, value: object) -> str:
    """The command-line option that sets ``field`` to ``value`` (``--unidirectional``, ``--hidden-size 64``)."""
    if field == "bidirectional":
        return "--bidirectional" if value else "--unidirectional"
    name = field.replace("_", "-")
    if isinstance(value, bool):
        return f"--{name}" if value else f"--no-{name}"
    return f"--{name} {value}"


def _scores(name: str, labels: list[str], truth: dict, probs: dict) -> tuple[dict[str, Any], list[list[int]]]:
    """``metrics.json``'s section for the model ``name`` (its test scores and validation accuracy) and
    its test confusion matrix, from the label ids and probabilities of the ``"val"`` and ``"test"`` parts."""
    test = classification_metrics(truth["test"], probs["test"].argmax(-1).tolist(), labels)
    val_accuracy = float((probs["val"].argmax(-1) == np.array(truth["val"])).mean())
    section = {"name": name, "accuracy": test["accuracy"], "macro_f1": test["macro_f1"], "val_accuracy": val_accuracy}
    return section, test["confusion_matrix"]


class SentimentTask(Task):
    name = NAME
    config_class = SentimentConfig

    def check(self, config: SentimentConfig) -> None:
        for option, file in (("--val-data", config.val_data), ("--test-data", config.test_data),
                             ("--embeddings", config.embeddings)):  # fmt: skip
            if file and not Path(file).exists():
                raise DataError(f"{option} {file!r}: no such file or folder")
        if config.embeddings and config.encoder:
            raise LstmkitError(
                f"--embeddings {config.embeddings} and --encoder {config.encoder} both set the embedding: "
                "the reused encoder brings its own; give one of them"
            )
        if config.gradual_unfreezing and config.train.devices > 1:
            raise LstmkitError(
                f"--gradual-unfreezing runs in one process, not with --devices {config.train.devices} (DDP needs "
                "the same parameters to train in every step)"
            )
        adversarial = (
            "--adversarial" if config.adversarial else "--virtual-adversarial" if config.virtual_adversarial else ""
        )
        if adversarial and config.train.devices > 1:
            raise LstmkitError(
                f"{adversarial} runs in one process, not with --devices {config.train.devices} (DDP expects one "
                "forward pass per backward pass, adversarial training makes two or three)"
            )
        if config.pretrain_lm and config.train.devices > 1:
            raise LstmkitError(
                f"--pretrain-lm runs in one process, not with --devices {config.train.devices}: "
                "pretrain with --devices 1, then train with --encoder RUN"
            )
        missing = [
            name for name in (VOCAB, ENCODER_WEIGHTS) if config.encoder and not (Path(config.encoder) / name).is_file()
        ]
        if missing:
            raise LstmkitError(
                f"--encoder {config.encoder!r} is not a run with a pretrained encoder (trained with --pretrain-lm): "
                f"it has no {' or '.join(missing)}"
            )
        if config.encoder:
            _check_same_encoder(config)

    def prepare(self, config: SentimentConfig, run_dir: Path, resume: bool) -> SentimentData:
        split, name, language = load_data(config)
        labels = sorted(set(split.train.labels))
        if len(labels) < 2:
            raise DataError(f"{name}: needs at least 2 classes in the training part, found {labels}")
        unseen = sorted(set(split.val.labels + split.test.labels) - set(labels))
        if unseen:
            raise DataError(f"{name}: labels {unseen} appear in validation/test but not in training")
        unlabelled = read_unlabelled(config.unlabelled) if config.unlabelled else []
        if resume:
            text_encoder = saved_text_encoder(config, run_dir)
        else:
            text_encoder = build_text_encoder(config, split, language, unlabelled)
        data = SentimentData(
            name, language, split, labels, text_encoder, unlabelled, run_dir, resume,
            embedding_dim=config.embedding_dim or DEFAULT_EMBEDDING_DIM,
        )  # fmt: skip
        if config.embeddings and resume:  # the weights come from the checkpoint: only the record is needed
            data.embeddings = read_run_config(run_dir, NAME)["embeddings"]
            data.embedding_dim = data.embeddings["dim"]
        elif config.embeddings:
            data.vectors, data.embeddings = _word_vectors(config, text_encoder.vocab)
            data.embedding_dim = data.vectors.dim
        return data

    def build(self, config: SentimentConfig, data: SentimentData) -> Built:
        encoder_config = _encoder_config(config, len(data.text_encoder.vocab), data.embedding_dim)
        classifier_config = ClassifierConfig(
            encoder_config,
            num_classes=len(data.labels),
            pooling=config.pooling,
            dropout=config.dropout,
            ngram_buckets=config.ngram_buckets,
            **data.text_encoder.step_embeddings(data.embedding_dim, config.lexicon_dim),
        )
        model = build_classifier(config, classifier_config)
        encoders = classifier_encoders(model)
        vocab = data.text_encoder.vocab
        if data.vectors is not None:
            vectors = pretrained_embedding(vocab.tokens, data.vectors, vocab.pad_index)
            for encoder, _ in encoder_directions(encoders):
                encoder.embedding.weight.data.copy_(vectors)
        files = {VOCAB: lambda path: write_json(path, data.text_encoder.to_dict()), **data.text_encoder.files()}
        if config.encoder:
            load_weights(Path(config.encoder) / ENCODER_WEIGHTS, encoders)
        elif config.pretrain_lm and not data.resume:
            texts = data.texts("train") + data.unlabelled
            for encoder, reverse in encoder_directions(encoders):
                start = encoder.state_dict() if data.vectors is not None else None  # from the word vectors
                encoder.load_state_dict(
                    pretrain_encoder(config, encoder_config, data.text_encoder, texts, data.texts("val"),
                                     data.run_dir, start=start, reverse=reverse)
                )  # fmt: skip
            state = {name: tensor.detach().clone() for name, tensor in encoders.state_dict().items()}
            files[ENCODER_WEIGHTS] = lambda path: save_weights(path, state)
        elif config.pretrain_lm:
            load_weights(data.run_dir / ENCODER_WEIGHTS, encoders)
        train = config.train
        return Built(
            model=model,
            objective=ClassificationObjective(
                len(data.labels),
                label_smoothing=config.label_smoothing,
                adversarial=config.adversarial,
                virtual_adversarial=config.virtual_adversarial,
            ),
            train_loader=data.loader(
                "train", train.batch_size, shuffle=True, seed=train.seed, members=config.resolve_members()
            ),
            val_loader=data.loader("val", 128, shuffle=False),
            payload={
                "labels": data.labels,
                "language": data.language,
                "data_name": data.name,
                "model": classifier_config.to_dict(),
                **({"embeddings": data.embeddings} if data.embeddings else {}),
            },
            files=files,
            param_groups=_param_groups(model, config),
            epoch_start=gradual_unfreezing if config.gradual_unfreezing else None,
        )

    def score(self, config: SentimentConfig, data: SentimentData, model: SequenceClassifier, run_dir: Path) -> dict:
        """The recurrent network's scores (the headline, ``model``; a forward + backward ensemble's with
        ``forward_backward``, an ensemble's with ``members`` > 1, named so), the TF-IDF baselines' and, with
        ``fusion``, the fused ensemble's (``fusion``); writes the fused run's linear model and weight."""
        from lstmkit.plots import plot_confusion_matrix
        from lstmkit.tasks.sentiment.model import classifier_probabilities

        pad = data.text_encoder.vocab.pad_index
        probs = {part: classifier_probabilities(model, data.inputs(part), pad) for part in ("val", "test")}
        truth = {part: data.label_ids(part) for part in ("val", "test")}
        name = predictor_name(config)
        recurrent, confusion = _scores(name, data.labels, truth, probs)
        members = config.resolve_members()
        if members > 1:
            recurrent["members"] = members
        plot_confusion_matrix(
            confusion,
            data.labels,
            run_dir / "confusion_matrix.png",
            title=f"{data.name} test, {describe_model(name, members)}: accuracy {recurrent['accuracy']:.3f}",
        )
        split = data.split
        metrics: dict[str, Any] = {
            "data": {"name": data.name, "language": data.language, "train": len(split.train), "val": len(split.val),
                     "test": len(split.test), "sources": split.sources},
            "model": recurrent,
            "confusion_matrix": confusion,
            "labels": data.labels,
            **({"embeddings": data.embeddings} if data.embeddings else {}),
            **({"lexicon": lexicon} if (lexicon := data.text_encoder.lexicon_summary(data.inputs("train"))) else {}),
        }  # fmt: skip
        if not (config.baselines or config.fusion):
            return metrics
        from lstmkit.baselines import run_split_baselines

        baselines = run_split_baselines(split, data.language)
        if config.baselines:
            metrics["baselines"] = {name: result.to_dict() for name, result in baselines.items()}
        if config.fusion:
            fused = FusedLinear.fit(baselines["tfidf_logreg"].model, probs["val"], data.texts("val"), truth["val"])
            fused.save(run_dir)
            fused_probs = {part: fused.fuse(probs[part], data.texts(part)) for part in ("val", "test")}
            scores, _ = _scores("fused", data.labels, truth, fused_probs)
            metrics["fusion"] = {**scores, "recurrent_weight": fused.recurrent_weight,
                                 "val_accuracy_by_weight": fused.val_accuracy_by_weight}  # fmt: skip
        return metrics

    def load(self, run_dir: Path):
        from lstmkit.tasks.sentiment.model import SentimentModel

        return SentimentModel(run_dir)


TASK = SentimentTask()
