"""What the character LM brings to the shared lifecycle (:mod:`lstmkit.tasks.runner`): its text and
vocabulary, the model and loaders, and its scores beside the n-gram baselines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from lstmkit.baselines.chars import TrigramModel, UnigramModel
from lstmkit.data import CharTokenizer, Vocab
from lstmkit.data.char_text import read_text_file, split_text
from lstmkit.data.registry import find_dataset
from lstmkit.heads import EncoderConfig, LanguageModel, LanguageModelConfig
from lstmkit.runs import VOCAB
from lstmkit.tasks.lm.config import LMConfig
from lstmkit.tasks.runner import Built, Task
from lstmkit.train.objectives import LanguageModelObjective

__all__ = ["TASK", "NAME", "TOKENIZER", "load_text"]

NAME = "lm"
TOKENIZER = CharTokenizer(keep_spaces=True)


def load_text(config: LMConfig) -> tuple[str, str]:
    """``(text, name)`` of ``config.data``, cut to ``max_chars``."""
    found = find_dataset(config.data, NAME, ("a text file", "a language-model data set"))
    if isinstance(found, Path):
        text, name = read_text_file(found), found.name
    else:
        text, name = found.loader(), found.name
    if config.max_chars is not None:
        text = text[: config.max_chars]
    return text, name


def _chunks(ids: list[int], length: int) -> list[list[int]]:
    """Consecutive pieces of ``length + 1`` ids overlapping by one, so every id but the first is a target once."""
    return [ids[start : start + length + 1] for start in range(0, max(len(ids) - 1, 1), length) if start + 1 < len(ids)]


def _loader(ids: list[int], length: int, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    pieces = _chunks(ids, length)

    def collate(batch: list[list[int]]) -> dict:
        from lstmkit.data import pad_sequences

        tokens, lengths = pad_sequences(batch, 0)
        return {"tokens": tokens, "lengths": lengths}

    generator = torch.Generator().manual_seed(seed)
    return DataLoader(pieces, batch_size=batch_size, shuffle=shuffle, collate_fn=collate, generator=generator)


@dataclass
class LMData:
    name: str
    vocab: Vocab
    train: list[int]
    val: list[int]
    test: list[int]


class LMTask(Task):
    name = NAME
    config_class = LMConfig

    def prepare(self, config: LMConfig, run_dir: Path, resume: bool) -> LMData:
        text, name = load_text(config)
        parts = split_text(text, name=name)
        vocab = Vocab.from_json(run_dir / VOCAB) if resume else Vocab.build([TOKENIZER.tokenize(parts[0])])
        return LMData(name, vocab, *(vocab.encode(TOKENIZER.tokenize(part)) for part in parts))

    def build(self, config: LMConfig, data: LMData) -> Built:
        model_config = LanguageModelConfig(
            EncoderConfig(
                vocab_size=len(data.vocab),
                embedding_dim=config.embedding_dim,
                hidden_size=config.hidden_size,
                num_layers=config.num_layers,
                bidirectional=False,
                dropout=config.dropout if config.num_layers > 1 else 0.0,
                weight_drop=config.weight_drop,
                dropout_kind=config.dropout_kind,
            ),
            dropout=config.dropout,
            tie_weights=config.tied,
        )
        return Built(
            model=LanguageModel(model_config),
            objective=LanguageModelObjective(),
            train_loader=_loader(data.train, config.sequence_length, config.train.batch_size, True, config.train.seed),
            val_loader=_loader(data.val, config.sequence_length, 64, False),
            payload={"data_name": data.name, "model": model_config.to_dict()},
            files={VOCAB: data.vocab.to_json},
        )

    def score(self, config: LMConfig, data: LMData, model: LanguageModel, run_dir: Path) -> dict[str, Any]:
        from lstmkit.tasks.lm.model import bits_per_character

        unigram = UnigramModel(data.train, len(data.vocab))
        trigram = TrigramModel(data.train, len(data.vocab))
        weights = trigram.tune(data.val)
        return {
            "data": {"name": data.name, "train": len(data.train), "val": len(data.val), "test": len(data.test)},
            "model": {
                "bpc": round(bits_per_character(model, data.test), 4),
                "val_bpc": round(bits_per_character(model, data.val), 4),
            },
            "baselines": {
                "unigram": {"bpc": round(unigram.bits_per_char(data.test), 4)},
                "trigram": {"bpc": round(trigram.bits_per_char(data.test), 4), "weights": list(weights)},
            },
            "vocab_size": len(data.vocab),
        }

    def load(self, run_dir: Path):
        from lstmkit.tasks.lm.model import CharLM

        return CharLM(run_dir)


TASK = LMTask()
