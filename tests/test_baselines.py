"""TF-IDF baselines on small synthetic sentiment sets (Chinese and English)."""

import random

import numpy as np
import pytest

from lstmkit.baselines import C_GRID, BaselineResult, LinearTextModel, run_text_baselines, text_features
from lstmkit.baselines.text import _CLASSIFIERS
from lstmkit.errors import RunDirectoryError
from lstmkit.metrics import accuracy

WORDS = {
    "zh": {
        "positive": ["很好", "喜欢", "满意", "不错", "好评"],
        "negative": ["太差", "失望", "糟糕", "差评", "后悔"],
        "filler": ["这本书", "物流", "包装", "价格", "快递", "内容", "老板", "东西"],
    },
    "en": {
        "positive": ["good", "great", "love", "excellent", "happy"],
        "negative": ["bad", "awful", "hate", "terrible", "broken"],
        "filler": ["the", "book", "delivery", "price", "package", "seller", "item", "really"],
    },
}


def make_split(language: str, sizes=(120, 40, 40), signal: float = 1.0, seed: int = 0):
    """(texts, labels) for train, val, test; each text carries a sentiment word with probability ``signal``."""
    rng = random.Random(seed)
    words = WORDS[language]
    joiner = "" if language == "zh" else " "
    parts = []
    for size in sizes:
        texts, labels = [], []
        for i in range(size):
            label = ("positive", "negative")[i % 2]
            # With probability 1 - signal the sentiment word comes from the other class (noise).
            source = label if rng.random() < signal else ("negative" if label == "positive" else "positive")
            tokens = rng.sample(words["filler"], 3) + [rng.choice(words[source])]
            rng.shuffle(tokens)
            texts.append(joiner.join(tokens))
            labels.append(label)
        parts += [texts, labels]
    return parts


@pytest.mark.parametrize("language", ["zh", "en"])
def test_separable_data_is_learned(language):
    results = run_text_baselines(*make_split(language), language=language)
    assert set(results) == {"tfidf_svm", "tfidf_logreg"}
    for name, result in results.items():
        assert isinstance(result, BaselineResult)
        assert result.name == name
        assert result.c in C_GRID
        assert result.val_accuracy >= 0.95
        assert result.test_accuracy >= 0.95
        assert 0.9 <= result.test_macro_f1 <= 1.0
        assert result.seconds > 0


def test_c_is_chosen_on_validation_and_the_model_is_trained_on_train_only():
    train_texts, train_labels, val_texts, val_labels, test_texts, test_labels = make_split("en", signal=0.75, seed=3)
    grid = (0.01, 0.1, 1.0, 10.0, 100.0)
    results = run_text_baselines(
        train_texts, train_labels, val_texts, val_labels, test_texts, test_labels, language="en", c_grid=grid
    )
    index = {label: i for i, label in enumerate(sorted(set(train_labels)))}
    y_train, y_val, y_test = ([index[label] for label in part] for part in (train_labels, val_labels, test_labels))
    distinct_scores = set()
    features = text_features("en")
    x_train = features.fit_transform(train_texts)
    x_val, x_test = features.transform(val_texts), features.transform(test_texts)
    for name, make in _CLASSIFIERS.items():
        models = {c: make(c, 2).fit(x_train, y_train) for c in grid}
        val_scores = {c: accuracy(y_val, model.predict(x_val)) for c, model in models.items()}
        best = max(val_scores.values())
        distinct_scores |= set(val_scores.values())
        result = results[name]
        assert result.c == min(c for c, score in val_scores.items() if score == best)
        assert result.val_accuracy == best
        assert result.test_accuracy == accuracy(y_test, models[result.c].predict(x_test))
    # The noisy data must make the choice matter, or this test would prove nothing.
    assert len(distinct_scores) > 1


def test_to_dict_is_json_ready():
    result = BaselineResult("tfidf_svm", 0.3, 0.9, 0.85, 0.84, 1.5)
    assert result.to_dict() == {
        "name": "tfidf_svm",
        "c": 0.3,
        "val_accuracy": 0.9,
        "test_accuracy": 0.85,
        "test_macro_f1": 0.84,
        "seconds": 1.5,
    }


def test_single_class_is_rejected():
    texts = ["good book", "great book"]
    with pytest.raises(ValueError, match="at least two classes"):
        run_text_baselines(texts, ["pos", "pos"], texts, ["pos", "pos"], texts, ["pos", "pos"], language="en")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"train_texts": [], "train_labels": []}, "train_texts is empty"),
        ({"test_texts": [], "test_labels": []}, "test_texts is empty"),
        ({"val_labels": ["positive"]}, "val_texts and val_labels differ in length"),
        ({"test_labels": ["neutral"] * 40}, r"test_labels has labels absent from train_labels: \['neutral'\]"),
        ({"language": "fr"}, "language must be one of"),
        ({"c_grid": ()}, "c_grid must hold at least one positive"),
        ({"c_grid": (0.0, 1.0)}, "c_grid must hold at least one positive"),
    ],
)
def test_bad_inputs_name_the_problem(changes, message):
    names = ["train_texts", "train_labels", "val_texts", "val_labels", "test_texts", "test_labels"]
    arguments = dict(zip(names, make_split("en")), language="en") | changes
    with pytest.raises(ValueError, match=message):
        run_text_baselines(**arguments)


def _three_class_split(seed: int = 0):
    """Like make_split, with a third "neutral" class carrying no sentiment word."""
    rng = random.Random(seed)
    words = WORDS["en"]
    parts = []
    for size in (150, 45, 45):
        texts, labels = [], []
        for i in range(size):
            label = ("positive", "negative", "neutral")[i % 3]
            tokens = rng.sample(words["filler"], 3) + ([rng.choice(words[label])] if label != "neutral" else [])
            texts.append(" ".join(tokens))
            labels.append(label)
        parts += [texts, labels]
    return parts


@pytest.mark.parametrize("language, split", [("zh", make_split("zh", signal=0.8)), ("en", _three_class_split())])
def test_linear_model_probabilities_match_scikit_learn_and_survive_a_round_trip(tmp_path, language, split):
    from sklearn.linear_model import LogisticRegression

    results = run_text_baselines(*split, language=language)
    assert results["tfidf_svm"].model is None
    model = results["tfidf_logreg"].model
    train_texts, train_labels, _, _, test_texts, _ = split
    assert model.classes == sorted(set(train_labels)) and model.c == results["tfidf_logreg"].c
    # The same fit done by scikit-learn directly gives the same probabilities.
    x_train = model.features.transform(train_texts)
    index = {label: i for i, label in enumerate(model.classes)}
    solver = "liblinear" if len(model.classes) == 2 else "lbfgs"
    reference = LogisticRegression(C=model.c, solver=solver, max_iter=10_000, random_state=0)
    reference.fit(x_train, [index[y] for y in train_labels])
    expected = reference.predict_proba(model.features.transform(test_texts))
    probs = model.predict_proba(test_texts)
    assert probs.shape == (len(test_texts), len(model.classes))
    assert np.allclose(probs, expected, atol=1e-12)
    assert np.allclose(probs.sum(axis=1), 1.0)

    model.save(tmp_path / "linear")
    assert not list(tmp_path.glob("*.pkl"))
    loaded = LinearTextModel.load(tmp_path / "linear")
    assert loaded.classes == model.classes and loaded.language == language
    assert np.allclose(loaded.predict_proba(test_texts), probs, atol=1e-12)


def test_a_mismatched_linear_model_file_is_refused(tmp_path):
    from lstmkit.io import read_json, write_json

    model = run_text_baselines(*make_split("en"), language="en")["tfidf_logreg"].model
    model.save(tmp_path / "linear")
    saved = read_json(tmp_path / "linear.json")
    saved["vocabularies"]["words"]["an extra n-gram"] = len(saved["vocabularies"]["words"])
    write_json(tmp_path / "linear.json", saved)
    with pytest.raises(RunDirectoryError, match="idf_words has"):
        LinearTextModel.load(tmp_path / "linear")
    (tmp_path / "linear.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(RunDirectoryError, match="safetensors"):
        LinearTextModel.load(tmp_path / "linear")
