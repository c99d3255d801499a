"""Sequence tagging end to end: tagged sentences -> characters or words -> BiLSTM tagger -> tags, words
and spans, scored by word F1 and OOV recall (Chinese segmentation), POS accuracy and joint F1
(segmentation + POS), span F1 (BIO/BIOES) and tag accuracy.

    from lstmkit.tasks import tag
    tag.train(tag.TagConfig(data="pku-seg"), "runs/tag")
    tag.load("runs/tag").tag(["迈向充满希望的新世纪"])
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.tasks.runner import TaskResult, train_task
from lstmkit.tasks.tag.config import TagConfig
from lstmkit.tasks.tag.model import Tagger
from lstmkit.tasks.tag.task import TASK

__all__ = ["TagConfig", "Tagger", "TASK", "train", "load"]


def train(config: TagConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> TaskResult:
    """Train a tagger on ``config.data``; report its test scores."""
    return train_task(TASK, config, run_dir, resume=resume, force=force)


def load(run_dir: str | Path, device: str | torch.device = "cpu") -> Tagger:
    """A finished tagging run on ``device``: ``tag`` and ``evaluate``."""
    return Tagger(run_dir, device=device)
