"""Character language model end to end: text -> characters -> LSTM (``heads.LanguageModel``) ->
bits per character on held-out text beside unigram and interpolated trigram baselines -> sampling.

    from lstmkit.tasks import lm
    lm.train(lm.LMConfig(data="kjv"), "runs/lm")
    lm.load("runs/lm").generate("And God said", temperature=0.8, chars=200)
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.tasks.lm.config import LMConfig
from lstmkit.tasks.lm.model import CharLM, bits_per_character
from lstmkit.tasks.lm.task import TASK, load_text
from lstmkit.tasks.runner import TaskResult, train_task

__all__ = ["LMConfig", "CharLM", "TASK", "train", "load", "load_text", "bits_per_character"]


def train(config: LMConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> TaskResult:
    """Train a character LSTM on ``config.data``; report its test bits per character and the baselines'."""
    return train_task(TASK, config, run_dir, resume=resume, force=force)


def load(run_dir: str | Path, device: str | torch.device = "cpu") -> CharLM:
    """A finished character-LM run on ``device``: ``generate`` and ``evaluate``."""
    return CharLM(run_dir, device=device)
