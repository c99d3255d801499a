"""Fixtures of the probe suite: small valid data files for each task (a probe then changes one thing),
and a guard that fails a probe that reaches training. The tiny runs are the suite's (tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tiny_data, cli_helpers, beside the other tests

from tiny_data import write_pairs, write_reviews, write_series, write_tagged_chars, write_text  # noqa: E402


@pytest.fixture(scope="session")
def valid_data(tmp_path_factory) -> dict[str, list[str]]:
    """task -> the options that give `train TASK` a small valid data file (a probe then changes one thing)."""
    root = tmp_path_factory.mktemp("probe-data")
    return {
        "sentiment": ["--data", str(write_reviews(root / "reviews.csv"))],
        "lm": ["--data", str(write_text(root / "text.txt"))],
        "translate": ["--data", str(write_pairs(root / "pairs.tsv")), "--src", "en", "--tgt", "zh"],
        "forecast": ["--data", str(write_series(root / "load.csv")), "--target", "load"],
        "tag": ["--data", str(write_tagged_chars(root / "tagged.txt"))],
    }


@pytest.fixture
def no_training(monkeypatch):
    """Starting to train fails the test at once: each probe must be refused before any training (which
    also keeps a probe that slipped through from training a default model for minutes)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the probe reached training: its input was not refused")

    for name in ("train.engine.fit", "diagnostics.memory.diagnose_memory", "diagnostics.gradients.diagnose_gradients",
                 "bench.report", "selftest.run_selftest"):  # fmt: skip
        monkeypatch.setattr(f"lstmkit.{name}", refuse)
