"""Fixtures shared by the whole suite: one tiny finished run per task, trained once per session (in
seconds) for the tests that use a run. Tests that damage a run copy it first."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_data import (
    SUFFIX_STEMS,
    write_lexicon,
    write_pairs,
    write_reviews,
    write_series,
    write_suffix_tagged,
    write_tagged_chars,
    write_text,
)


def _train(**config):
    from lstmkit.train import TrainConfig

    return TrainConfig(**{"epochs": 1, "batch_size": 16, "lr": 0.01, "patience": None, "progress": False, **config})


_LOSS = {"monitor": "loss", "monitor_mode": "min"}


@pytest.fixture(scope="session")
def lm_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import lm

    root = tmp_path_factory.mktemp("tiny-lm")
    config = lm.LMConfig(
        data=str(write_text(root / "text.txt")), sequence_length=16, embedding_dim=8, hidden_size=8,
        max_chars=None, train=_train(**_LOSS),
    )  # fmt: skip
    return lm.train(config, root / "run").run_dir


def _tiny_sentiment(tmp_path_factory, name: str, **options) -> Path:
    from lstmkit.tasks import sentiment

    root = tmp_path_factory.mktemp(name)
    # One network unless a fixture asks for more: tests/test_sentiment_ensemble.py trains the ensembles.
    options = {"members": 1, **options}
    config = sentiment.SentimentConfig(
        data=str(write_reviews(root / "reviews.csv")), embedding_dim=8, hidden_size=8, min_freq=1,
        baselines=False, train=_train(), **options,
    )  # fmt: skip
    return sentiment.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def sentiment_run(tmp_path_factory) -> Path:
    return _tiny_sentiment(tmp_path_factory, "tiny-sentiment")


@pytest.fixture(scope="session")
def bigram_sentiment_run(tmp_path_factory) -> Path:
    """A tiny sentiment run whose recurrent network reads each character's bigram beside it (``bigrams``)."""
    return _tiny_sentiment(tmp_path_factory, "tiny-bigram-sentiment", bigrams=True, lexicon=None)


@pytest.fixture(scope="session")
def lexicon_sentiment_run(tmp_path_factory) -> Path:
    """A tiny sentiment run whose recurrent network reads each character's lexicon class beside it; the
    lexicon file is removed after training (the run keeps its own copy)."""
    lexicon = write_lexicon(tmp_path_factory.mktemp("lexicon") / "lexicon.tsv")
    run_dir = _tiny_sentiment(tmp_path_factory, "tiny-lexicon-sentiment", lexicon=str(lexicon))
    lexicon.unlink()
    return run_dir


@pytest.fixture(scope="session")
def fused_sentiment_run(tmp_path_factory) -> Path:
    """A tiny sentiment run trained with ``fusion``: it predicts with the probabilities of its recurrent
    network and of a TF-IDF logistic regression, fused."""
    return _tiny_sentiment(tmp_path_factory, "tiny-fused-sentiment", fusion=True)


@pytest.fixture(scope="session")
def translate_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import translate

    root = tmp_path_factory.mktemp("tiny-translate")
    config = translate.TranslateConfig(
        data=str(write_pairs(root / "pairs.tsv")), src="en", tgt="zh", embedding_dim=8, hidden_size=8,
        min_freq=1, beam_size=2, max_pair_tokens=8, train=_train(**_LOSS),
    )  # fmt: skip
    return translate.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def forecast_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import forecast

    root = tmp_path_factory.mktemp("tiny-forecast")
    config = forecast.ForecastConfig(
        data=str(write_series(root / "load.csv")), targets=("load",), horizon=6, lookback=24,
        folds=2, fold_stride=6, hidden_size=8, max_windows=64, baselines=False, train=_train(**_LOSS),
    )  # fmt: skip
    return forecast.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def ltsf_run(tmp_path_factory) -> Path:
    """A tiny forecast run on the LTSF protocol: the segment GRU on both columns (M) of the hourly series."""
    return _ltsf_run(tmp_path_factory, "tiny-ltsf")


@pytest.fixture(scope="session")
def ltsf_direct_run(tmp_path_factory) -> Path:
    """The direct LSTM forecaster on the LTSF protocol, with quantiles (an ablation network)."""
    return _ltsf_run(tmp_path_factory, "tiny-ltsf-direct", kind="direct", loss="quantile")


def _ltsf_run(tmp_path_factory, name: str, **options) -> Path:
    from lstmkit.tasks import forecast

    root = tmp_path_factory.mktemp(name)
    config = forecast.ForecastConfig(
        data=str(write_series(root / "load.csv")), targets=("load",), protocol="ltsf", lookback=24, horizon=6,
        segment_length=12, hidden_size=8, max_windows=64, baselines=False, train=_train(**_LOSS), **options,
    )  # fmt: skip
    return forecast.train(config, root / "run").run_dir


def _tag_run(tmp_path_factory, name: str, **options) -> Path:
    from lstmkit.tasks import tag

    root = tmp_path_factory.mktemp(name)
    config = tag.TagConfig(
        data=str(write_tagged_chars(root / "tagged.txt")), embedding_dim=8, hidden_size=8, train=_train(), **options
    )
    return tag.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def tag_run(tmp_path_factory) -> Path:
    """The tiny tag run with the defaults (a CRF; character data, so a bigram embedding too)."""
    return _tag_run(tmp_path_factory, "tiny-tag")


@pytest.fixture(scope="session")
def tag_bigrams_run(tmp_path_factory) -> Path:
    """The tiny tag run with a character-bigram embedding: its network reads bigram ids too."""
    return _tag_run(tmp_path_factory, "tiny-tag-bigrams", bigrams=True, baselines=False)


@pytest.fixture(scope="session")
def tag_dictionary_run(tmp_path_factory) -> Path:
    """The tiny tag run with dictionary features (``--dictionary``): its network reads pattern ids too."""
    return _tag_run(tmp_path_factory, "tiny-tag-dictionary", dictionary=True, baselines=False)


@pytest.fixture(scope="session")
def tag_softmax_run(tmp_path_factory) -> Path:
    """The tiny tag run with the softmax decoder (each step's argmax) instead of the CRF, and no bigrams."""
    return _tag_run(tmp_path_factory, "tiny-tag-softmax", decoder="softmax", bigrams=False, baselines=False)


@pytest.fixture(scope="session")
def tag_chars_run(tmp_path_factory) -> Path:
    """A tiny tag run on word data (``word/TAG`` lines, a word's tag given by its suffix) with the default
    character encoder (a BiLSTM over each word's characters): 3 epochs, enough to tag unseen words."""
    from lstmkit.tasks import tag

    root = tmp_path_factory.mktemp("tiny-tag-chars")
    config = tag.TagConfig(
        data=str(write_suffix_tagged(root / "suffix.txt", SUFFIX_STEMS[:40], n=120)), embedding_dim=8,
        hidden_size=8, char_dim=8, char_hidden=8, baselines=False, train=_train(epochs=3, lr=0.05),
    )  # fmt: skip
    return tag.train(config, root / "run").run_dir


@pytest.fixture
def run_of(request):
    """``run_of("lm")``: the session's tiny run of that task."""
    return lambda task: request.getfixturevalue(f"{task}_run")
