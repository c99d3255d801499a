"""A tagging run's data: its sentences and parts, the vocabularies, batches, and raw text as tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lstmkit.data import Vocab
from lstmkit.data.batching import BucketBatchSampler, pad_sequences
from lstmkit.data.registry import find_dataset
from lstmkit.data.tagged_corpora import TaggedSentences, cut_sentence, read_tagged_file, split_sentences
from lstmkit.errors import DataError
from lstmkit.runs import VOCAB, read_run_config
from lstmkit.tasks.tag.config import NAME, REGISTERED_SCHEME, TagConfig

__all__ = ["TagData", "load_sentences", "prepare_data", "text_tokens", "batches"]


def load_sentences(config: TagConfig) -> TaggedSentences:
    """``config.data``'s tagged sentences (the first ``max_sentences``), checked in ``config.scheme``."""
    found = find_dataset(config.data, NAME, ("a tagged file", "a tagging data set"))
    if isinstance(found, Path):
        sentences = read_tagged_file(found, config.scheme, config.token_column, config.tag_column)
    else:
        if config.scheme not in ("auto", REGISTERED_SCHEME):
            raise DataError(
                f"--scheme {config.scheme}: {config.data} is tagged in {REGISTERED_SCHEME}, not {config.scheme}"
            )
        if config.token_column or config.tag_column:
            raise DataError(f"--token-column/--tag-column choose columns of a CoNLL file, not of {config.data}")
        sentences = found.loader()
    if config.max_sentences is not None:
        sentences = sentences.subset(range(min(config.max_sentences, len(sentences))))
    return sentences


@dataclass
class TagData:
    """The parts of a run's sentences, its token vocabulary (train only) and its tag names (all parts:
    a tag first seen in test is still a tag the scores must count)."""

    name: str
    parts: dict[str, TaggedSentences]
    vocab: Vocab
    tag_names: list[str]

    @property
    def scheme(self) -> str:
        return self.parts["train"].scheme

    def sizes(self) -> dict[str, dict[str, int]]:
        return {part: sentences.sizes() for part, sentences in self.parts.items()}


def prepare_data(config: TagConfig, run_dir: Path, resume: bool) -> TagData:
    """The run's data; on ``resume`` the vocabulary and tag names the first start wrote."""
    sentences = load_sentences(config)
    parts = split_sentences(sentences)
    for part, held in parts.items():
        if not held:
            count = f"{len(sentences)} sentence{'s' * (len(sentences) != 1)}"
            raise DataError(
                f"{config.data}: its {count} leave the {part} part empty (parts are chosen by a hash of each "
                "sentence, about 80/10/10 %); give more sentences"
            )
    if resume:
        vocab, tag_names = Vocab.from_json(run_dir / VOCAB), read_run_config(run_dir, NAME)["tag_names"]
    else:
        vocab = Vocab.build(parts["train"].tokens, min_freq=config.min_freq)
        tag_names = sentences.tag_names()
    name = config.data if not Path(config.data).is_file() else Path(config.data).name
    return TagData(name, parts, vocab, tag_names)


def text_tokens(text: str, characters: bool) -> list[str]:
    """The tokens a tagger reads from raw text: its characters less white space (Chinese), else its
    white-space separated words."""
    return [c for c in text if not c.isspace()] if characters else text.split()


def _encoded(sentences: TaggedSentences, vocab: Vocab, tag_index: dict[str, int], max_length: int | None):
    """``[(token ids, tag ids), ...]``, sentences cut into pieces of at most ``max_length`` (None: whole)."""
    examples = []
    for tokens, tags in zip(sentences.tokens, sentences.tags):
        pieces = [(tokens, tags)] if max_length is None else cut_sentence(tokens, tags, sentences.scheme, max_length)
        examples += [(vocab.encode(piece), [tag_index[tag] for tag in piece_tags]) for piece, piece_tags in pieces]
    return examples


def _collate(batch: list[tuple[list[int], list[int]]]) -> dict:
    tokens, lengths = pad_sequences([ids for ids, _ in batch], 0)
    tags, _ = pad_sequences([tag_ids for _, tag_ids in batch], 0)
    return {"tokens": tokens, "lengths": lengths, "tags": tags}


def batches(
    sentences: TaggedSentences, data: TagData, batch_size: int, *, max_length: int | None, shuffle: bool, seed: int = 0
) -> DataLoader:
    """Padded batches ``{"tokens", "lengths", "tags"}`` of similar lengths (:class:`BucketBatchSampler`)."""
    examples = _encoded(sentences, data.vocab, {tag: i for i, tag in enumerate(data.tag_names)}, max_length)
    sampler = BucketBatchSampler([len(ids) for ids, _ in examples], batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(
        examples, batch_sampler=sampler, collate_fn=_collate, generator=torch.Generator().manual_seed(seed)
    )
