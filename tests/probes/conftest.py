"""Fixtures of the probe suite: small valid data files of each kind, and one tiny finished run per
task (trained once per session, in seconds) for the commands that use a run."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # cli_helpers, beside the other tests

POSITIVE = ["很好", "喜欢", "满意", "不错", "推荐"]
NEGATIVE = ["太差", "失望", "难用", "退货", "垃圾"]
FILLER = list("这个东西我们买了一天用手机书质量服务快递价格")
WORDS = {"cat": "猫", "dog": "狗", "big": "大", "red": "红", "eats": "吃", "sees": "看", "fish": "鱼", "the": ""}


def review_rows(n: int = 120, seed: int = 0, labels=("positive", "negative")) -> list[tuple[str, str]]:
    """(text, label) rows whose label a keyword gives away, so a tiny model learns them."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = POSITIVE if i % 2 == 0 else NEGATIVE
        text = "".join(rng.choices(FILLER, k=rng.randint(3, 8))) + rng.choice(words) + str(i)
        rows.append((text, label))
    return rows


def write_reviews(path: Path, n: int = 120, labels=("positive", "negative"), sep: str = ",") -> Path:
    lines = [f"text{sep}label"] + [f"{text}{sep}{label}" for text, label in review_rows(n, labels=labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pair_lines(n: int = 160, seed: int = 0) -> list[str]:
    """English<TAB>Chinese word-for-word pairs."""
    rng = random.Random(seed)
    english = [w for w in WORDS if w != "the"]
    lines = []
    for _ in range(n):
        words = ["the", *rng.choices(english, k=rng.randint(2, 4))]
        lines.append(" ".join(words) + "\t" + "".join(WORDS[w] for w in words))
    return lines


def write_pairs(path: Path, n: int = 160) -> Path:
    path.write_text("\n".join(pair_lines(n)) + "\n", encoding="utf-8")
    return path


def series_lines(n: int = 24 * 12) -> list[str]:
    """An hourly ``date,load,temp`` CSV with a daily cycle."""
    import math

    lines = ["date,load,temp"]
    for t in range(n):
        day, hour = divmod(t, 24)
        load = 50 + 8 * math.sin(2 * math.pi * t / 24) + (t * 7919 % 13) / 13
        lines.append(f"2021-03-{1 + day:02d} {hour:02d}:00,{load:.3f},{15 + (t % 5):.1f}")
    return lines


def write_series(path: Path, n: int = 24 * 12) -> Path:
    path.write_text("\n".join(series_lines(n)) + "\n", encoding="utf-8")
    return path


def lm_text(lines: int = 60, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["the ", "lord ", "said ", "unto ", "moses ", "and ", "god ", "saw "]
    return "".join("".join(rng.choice(words) for _ in range(6)).strip() + ".\n" for _ in range(lines))


def write_text(path: Path) -> Path:
    path.write_text(lm_text(), encoding="utf-8")
    return path


def _train(**config):
    from lstmkit.train import TrainConfig

    return TrainConfig(epochs=1, batch_size=16, lr=0.01, patience=None, progress=False, **config)


_LOSS = {"monitor": "loss", "monitor_mode": "min"}


@pytest.fixture(scope="session")
def lm_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import lm

    root = tmp_path_factory.mktemp("probe-lm")
    config = lm.LMConfig(
        data=str(write_text(root / "text.txt")), sequence_length=16, embedding_dim=8, hidden_size=8,
        max_chars=None, train=_train(**_LOSS),
    )  # fmt: skip
    return lm.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def sentiment_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import sentiment

    root = tmp_path_factory.mktemp("probe-sentiment")
    config = sentiment.SentimentConfig(
        data=str(write_reviews(root / "reviews.csv")), embedding_dim=8, hidden_size=8, min_freq=1,
        baselines=False, train=_train(),
    )  # fmt: skip
    return sentiment.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def translate_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import translate

    root = tmp_path_factory.mktemp("probe-translate")
    config = translate.TranslateConfig(
        data=str(write_pairs(root / "pairs.tsv")), src="en", tgt="zh", embedding_dim=8, hidden_size=8,
        min_freq=1, beam_size=2, max_pair_tokens=8, train=_train(**_LOSS),
    )  # fmt: skip
    return translate.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def forecast_run(tmp_path_factory) -> Path:
    from lstmkit.tasks import forecast

    root = tmp_path_factory.mktemp("probe-forecast")
    config = forecast.ForecastConfig(
        data=str(write_series(root / "load.csv")), targets=("load",), horizon=6, lookback=24,
        folds=2, fold_stride=6, hidden_size=8, max_windows=64, baselines=False, train=_train(**_LOSS),
    )  # fmt: skip
    return forecast.train(config, root / "run").run_dir


@pytest.fixture(scope="session")
def valid_data(tmp_path_factory) -> dict[str, list[str]]:
    """task -> the options that give `train TASK` a small valid data file (a probe then changes one thing)."""
    root = tmp_path_factory.mktemp("probe-data")
    return {
        "sentiment": ["--data", str(write_reviews(root / "reviews.csv"))],
        "lm": ["--data", str(write_text(root / "text.txt"))],
        "translate": ["--data", str(write_pairs(root / "pairs.tsv")), "--src", "en", "--tgt", "zh"],
        "forecast": ["--data", str(write_series(root / "load.csv")), "--target", "load"],
    }


@pytest.fixture
def run_of(request):
    """``run_of("lm")``: the session's tiny run of that task."""
    return lambda task: request.getfixturevalue(f"{task}_run")


@pytest.fixture
def no_training(monkeypatch):
    """Starting to train fails the test at once: each probe must be refused before any training (which
    also keeps a probe that slipped through from training a default model for minutes)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the probe reached training: its input was not refused")

    for name in ("train.engine.fit", "diagnostics.memory.diagnose_memory", "diagnostics.gradients.diagnose_gradients",
                 "bench.report", "selftest.run_selftest"):  # fmt: skip
        monkeypatch.setattr(f"lstmkit.{name}", refuse)
