"""A finished sentiment run, loaded for prediction, evaluation and inspection."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

import numpy as np
import torch

from lstmkit.data import DATASETS, LabelledTexts, load_labelled
from lstmkit.errors import DataError
from lstmkit.heads import (
    ClassifierConfig,
    ClassifierEnsemble,
    ForwardBackwardClassifier,
    RecurrentEncoder,
    SequenceClassifier,
)
from lstmkit.io import parsing
from lstmkit.metrics import classification_metrics
from lstmkit.runs import CONFIG, VOCAB, load_run_model, read_run_config
from lstmkit.tasks.sentiment.config import NAME, SentimentConfig, describe_model
from lstmkit.tasks.sentiment.data import TextEncoder, load_data, make_loader
from lstmkit.tasks.sentiment.fusion import FusedLinear

__all__ = ["SentimentModel", "Prediction", "classifier_probabilities", "build_classifier", "predictor_name"]


def build_classifier(config: SentimentConfig, classifier_config: ClassifierConfig) -> torch.nn.Module:
    """The run's network: one :class:`SequenceClassifier`, a forward + backward ensemble
    (``forward_backward``) or an ensemble of ``members`` networks."""
    if config.forward_backward:
        return ForwardBackwardClassifier(classifier_config)
    members = config.resolve_members()
    if members > 1:
        return ClassifierEnsemble(classifier_config, members)
    return SequenceClassifier(classifier_config)


def predictor_name(config: SentimentConfig) -> str:
    """Which model a run trained with ``config`` and no fusion predicts with (a key of ``MODELS``)."""
    if config.forward_backward:
        return "forward_backward"
    return "ensemble" if config.resolve_members() > 1 else "recurrent"


def classifier_probabilities(
    model: SequenceClassifier, inputs: dict[str, list[list[int]]], pad_index: int
) -> np.ndarray:
    """The classifier's ``(N, num_classes)`` probabilities (float64) of each text, in order, from ``inputs``
    (:meth:`TextEncoder.inputs`: ``{"tokens": ids}``, and ``"bigrams"``, ``"lexicon"`` for a model that reads them)."""
    steps = dict(inputs)
    token_ids = steps.pop("tokens")
    loader = make_loader(token_ids, [0] * len(token_ids), pad_index, 256, shuffle=False, step_ids=steps)
    order = [i for batch in loader.batch_sampler for i in batch]
    device = next(model.parameters()).device
    model.eval()

    def probabilities(batch: dict) -> torch.Tensor:
        logits = model(batch["tokens"].to(device), batch["lengths"], **{k: batch[k].to(device) for k in steps})
        return torch.softmax(logits, -1).cpu()

    with torch.no_grad():
        probs = torch.cat([probabilities(batch) for batch in loader])
    result = torch.empty_like(probs)
    result[torch.tensor(order)] = probs
    return result.double().numpy()


@dataclass
class Prediction:
    """One text's label and probabilities; ``model`` says which model gave them (``"recurrent"``: the
    recurrent network, ``"fused"``: the network fused with the TF-IDF logreg, ``"forward_backward"``:
    the forward and backward networks averaged, ``"ensemble"``: an ensemble's networks averaged; :data:`MODELS`)."""

    text: str
    label: str
    probability: float
    probabilities: dict[str, float]
    model: str


def _texts(texts: str | list[str]) -> list[str]:
    """``texts`` as a list, each checked: one string is one text (not a sequence of characters)."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"text {i + 1} is a {type(text).__name__}, not a string")
        if not text.strip():
            raise DataError(f"text {i + 1} is empty: nothing to classify")
    return texts


class SentimentModel:
    """A trained run (``load(run_dir, device=...)``): predictions, evaluation, the tokens it reads.

    ``predictor`` names the model whose answers ``predict``, ``predict_proba`` and ``evaluate`` give:
    ``"recurrent"`` (the recurrent network), ``"fused"`` (a run trained with ``fusion=True``),
    ``"forward_backward"`` (a run trained with ``forward_backward=True``) or ``"ensemble"`` (a run trained
    with ``members`` > 1); :attr:`model_name` says it in words.
    """

    def __init__(self, run_dir: str | Path, device: str | torch.device = "cpu") -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, NAME)
        with parsing(self.run_dir / CONFIG):
            self.config = SentimentConfig.from_dict(saved["config"])
            self.labels: list[str] = saved["labels"]
        self.text_encoder = TextEncoder.from_json(self.run_dir / VOCAB)
        self.model = load_run_model(
            self.run_dir, lambda: build_classifier(self.config, ClassifierConfig.from_dict(saved["model"]))
        )
        read = self.model.config  # a run trained with character bigrams, with a lexicon
        self.text_encoder = self.text_encoder.with_saved_inputs(self.run_dir, read.bigram_dim > 0, read.lexicon_dim > 0)
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        self.fusion = FusedLinear.load(self.run_dir, self.labels) if self.config.fusion else None
        self.predictor = "fused" if self.fusion is not None else predictor_name(self.config)

    @property
    def model_name(self) -> str:
        """The predictor in words (``"an ensemble of 3 recurrent networks averaged"``)."""
        return describe_model(self.predictor, self.config.resolve_members())

    @property
    def first_network(self) -> SequenceClassifier:
        """The network itself, or an ensemble's first member (a forward + backward ensemble's forward one)."""
        members = getattr(self.model, "members", None)
        return members[0] if members else self.model

    @property
    def encoder(self) -> RecurrentEncoder:
        """The recurrent network's embedding + recurrent stack (``encoder.embedding``, ``encoder.rnn``); of an
        ensemble, its first member's (:attr:`first_network`)."""
        return self.first_network.encoder

    def tokenize(self, text: str) -> tuple[list[str], list[int]]:
        """The tokens of ``text`` as the run reads them (cut to ``max_length``) and their vocabulary ids."""
        tokens = self.text_encoder.tokens(text)
        return tokens, self.text_encoder.vocab.encode(tokens)

    def recurrent_input(self, text: str) -> torch.Tensor:
        """What the recurrent stack (:attr:`encoder`'s ``rnn``) reads of ``text``: ``(1, T, input_size)``, each
        token's embedding and, in a run with character bigrams or a lexicon, its bigram's and lexicon class's."""
        classifier = self.first_network
        inputs = {name: torch.tensor(ids, device=self.device) for name, ids in self.text_encoder.inputs([text]).items()}
        with torch.no_grad():
            return classifier.recurrent_input(inputs.pop("tokens"), **inputs)

    def recurrent_proba(self, texts: str | list[str]) -> np.ndarray:
        """The recurrent network's own probabilities, before any fusion: ``(num_classes,)`` for one
        text, ``(N, num_classes)`` for a list, in the order of ``labels``."""
        batch = _texts(texts)
        probs = classifier_probabilities(self.model, self.text_encoder.inputs(batch), self.text_encoder.vocab.pad_index)
        return probs[0] if isinstance(texts, str) else probs

    def predict_proba(self, texts: str | list[str]) -> np.ndarray:
        """Class probabilities of ``predictor``: ``(num_classes,)`` for one text, ``(N, num_classes)`` for a list."""
        batch = _texts(texts)
        probs = self.recurrent_proba(batch) if batch else np.zeros((0, len(self.labels)))
        if self.fusion is not None and batch:
            probs = self.fusion.fuse(probs, batch)
        return probs[0] if isinstance(texts, str) else probs

    @overload
    def predict(self, texts: str) -> Prediction: ...
    @overload
    def predict(self, texts: list[str]) -> list[Prediction]: ...
    def predict(self, texts):
        """The label of one text (a :class:`Prediction`) or of each text of a list (a list of them)."""
        batch = _texts(texts)
        probs = self.predict_proba(batch)
        predictions = [
            Prediction(
                text,
                self.labels[int(p.argmax())],
                float(p.max()),
                {label: float(v) for label, v in zip(self.labels, p)},
                self.predictor,
            )
            for text, p in zip(batch, probs)
        ]
        return predictions[0] if isinstance(texts, str) else predictions

    def evaluate(self, data: str | None = None, plot: str | Path | None = None) -> dict[str, Any]:
        """Accuracy, macro-F1 and the confusion matrix of ``predictor`` on the run's test part, or on a
        labelled file, folder or registered data set; ``model`` in the result names the predictor.
        Writes nothing unless ``plot`` names a PNG to draw the confusion matrix into."""
        if data is None:
            split, _, _ = load_data(self.config)
            part, name = split.test, self.config.test_data or f"{self.config.data} test"
        elif data in DATASETS:  # its own test part, whatever parts the run was trained with
            registered = replace(self.config, data=data, val_data=None, test_data=None, split_column=None)
            part, name = load_data(registered)[0].test, f"{data} test"
        else:
            path = Path(data)
            if not path.exists():
                raise DataError(f"--data {data!r}: no such file or folder")
            part, name = load_labelled(path, self.config.text_column, self.config.label_column), path.name
        return self._score(part, name, plot)

    def _score(self, part: LabelledTexts, name: str, plot: str | Path | None) -> dict[str, Any]:
        unseen = sorted(set(part.labels) - set(self.labels))
        if unseen:
            raise DataError(f"{name}: labels {unseen} were not seen at training time (known: {self.labels})")
        index = {label: i for i, label in enumerate(self.labels)}
        probs = self.predict_proba(list(part.texts))
        scores = classification_metrics([index[y] for y in part.labels], probs.argmax(-1).tolist(), self.labels)
        count = self.config.resolve_members()
        members = {"members": count} if count > 1 else {}
        result = {"data": name, "size": len(part), "model": self.predictor, **members, **scores}
        if plot is not None:
            from lstmkit.plots import plot_confusion_matrix

            title = f"{name}, {self.model_name}: accuracy {scores['accuracy']:.3f}"
            result["confusion_matrix_png"] = str(
                plot_confusion_matrix(scores["confusion_matrix"], self.labels, plot, title=title)
            )
        return result
