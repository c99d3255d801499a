"""Machine translation end to end: sentence pairs -> tokenizers and vocabularies -> encoder–decoder
(context vector or attention) -> greedy and beam decoding -> BLEU/chrF -> a run directory -> translations.

    from lstmkit.tasks import translate
    config = translate.TranslateConfig(data="pairs.tsv", src="en", tgt="zh", attention="general")
    translate.train(config, "runs/en-zh")
    translator = translate.load("runs/en-zh")
    translator.translate("I love you.").translation
    translator.translate(["I love you.", "Where is the station?"], beam_size=5)
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmkit.tasks.runner import TaskResult, train_task
from lstmkit.tasks.translate.bleu import corpus_scores
from lstmkit.tasks.translate.config import TranslateConfig
from lstmkit.tasks.translate.data import TranslateData, collate_pairs, load_pairs, prepare_data
from lstmkit.tasks.translate.model import Translation, Translator
from lstmkit.tasks.translate.objective import TranslationObjective
from lstmkit.tasks.translate.sides import SideEncoder
from lstmkit.tasks.translate.task import NAME, TASK

__all__ = [
    "TranslateConfig",
    "Translator",
    "Translation",
    "TASK",
    "NAME",
    "train",
    "load",
    "load_pairs",
    "prepare_data",
    "TranslateData",
    "SideEncoder",
    "collate_pairs",
    "TranslationObjective",
    "corpus_scores",
]


def train(config: TranslateConfig, run_dir: str | Path, *, resume: bool = False, force: bool = False) -> TaskResult:
    """Train an encoder–decoder on ``config.data`` into ``run_dir``; score greedy and beam on the test part."""
    return train_task(TASK, config, run_dir, resume=resume, force=force)


def load(run_dir: str | Path, device: str | torch.device = "cpu") -> Translator:
    """A finished translation run with its model on ``device``: ``translate``, ``attention_heatmap``, ``evaluate``."""
    return Translator.from_run(run_dir, device)
