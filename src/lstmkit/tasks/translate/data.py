"""A translation run's data: pairs oriented ``src -> tgt``, split by source, both sides' vocabularies,
pairs within ``max_pair_tokens``, and the batches (bucketed by length) the model trains on."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from lstmkit.data import BucketBatchSampler, Vocab, pad_sequences
from lstmkit.data.languages import orient_columns
from lstmkit.data.pairs import Pairs, prepare_pairs, read_pairs, split_pairs
from lstmkit.data.registry import find_dataset
from lstmkit.errors import DataError
from lstmkit.runs import VOCAB
from lstmkit.tasks.runner import is_ddp_worker
from lstmkit.tasks.translate.config import TranslateConfig
from lstmkit.tasks.translate.sides import SideEncoder, make_side, read_sides

__all__ = ["NAME", "TranslateData", "prepare_data", "load_pairs", "read_file_pairs", "collate_pairs", "pair_loader"]

NAME = "translate"
PARTS = ("train", "val", "test")


def _parse_columns(columns: str) -> tuple[str, str]:
    parts = [part.strip() for part in columns.split(",")]
    if len(parts) != 2 or not all(parts):
        raise DataError(f"--columns must name the file's two languages like 'en,zh', got {columns!r}")
    return parts[0], parts[1]


def _file_columns(pairs: Pairs, config: TranslateConfig) -> tuple[Pairs, str]:
    """``pairs`` read from a file with its two languages named by ``config.columns`` or, without it,
    by the language evidence of each column (:func:`~lstmkit.data.languages.orient_columns`, which
    asks for ``--columns`` when the evidence is unclear); and how the columns were named."""
    if config.columns:
        columns, how = _parse_columns(config.columns), "--columns"
    else:
        columns, how = orient_columns(pairs.sources, pairs.targets, config.src, config.tgt)
    return Pairs(pairs.sources, pairs.targets, pairs.attributions, columns, pairs.report), how


def read_file_pairs(path: Path, config: TranslateConfig) -> Pairs:
    """The pairs of a TSV file, oriented ``config.src -> config.tgt`` and de-duplicated."""
    return prepare_pairs(_file_columns(read_pairs(path), config)[0], config.src, config.tgt)


def load_pairs(config: TranslateConfig) -> tuple[Pairs, str, dict[str, str]]:
    """All pairs of ``config.data`` oriented ``src -> tgt`` and de-duplicated, the data's name, and
    its ``columns``: the languages of the first and second column and what named them (``"by"``:
    ``"--columns"``, ``"data set"``, ``"file order"`` or ``"swapped"``, when the language evidence
    showed the file holds ``tgt`` first)."""
    found = find_dataset(config.data, NAME, ("a TSV file", "a translation data set"))
    if isinstance(found, Path):
        pairs, how = _file_columns(read_pairs(found), config)
        name = found.name
    else:
        pairs, how, name = found.loader(), "data set", found.name
        if config.columns:
            columns = _parse_columns(config.columns)
            pairs, how = Pairs(pairs.sources, pairs.targets, pairs.attributions, columns, pairs.report), "--columns"
    columns = {"first": pairs.languages[0], "second": pairs.languages[1], "by": how}
    return prepare_pairs(pairs, config.src, config.tgt), name, columns


def _within_pair_tokens(pairs: Pairs, source: SideEncoder, target: SideEncoder, limit: int) -> Pairs:
    keep = [
        i
        for i, (s, t) in enumerate(zip(pairs.sources, pairs.targets))
        if 0 < len(source.tokens(s)) <= limit and 0 < len(target.tokens(t)) <= limit
    ]
    return pairs.subset(keep)


def _no_pair_within(name: str, part: str, pairs: Pairs, source: SideEncoder, target: SideEncoder, limit: int) -> str:
    """Why ``part`` kept no pair: how many it had and how long its shortest pair is, so the user knows
    what ``--max-pair-tokens`` would keep it (or that a side tokenizes to nothing)."""
    sizes = [(len(source.tokens(s)), len(target.tokens(t))) for s, t in zip(pairs.sources, pairs.targets)]
    nonempty = [max(pair) for pair in sizes if min(pair) > 0]
    if not nonempty:
        why = "every one has a side with no tokens"
    else:
        why = f"the shortest has {min(nonempty)} tokens on its longer side; raise --max-pair-tokens"
    return f"{name}: none of the {len(pairs)} {part} pairs has at most {limit} tokens per side ({why})"


@dataclass
class TranslateData:
    """The named data set's train/val/test pairs (each side within the token limit) and both sides."""

    name: str
    source: SideEncoder
    target: SideEncoder
    parts: dict[str, Pairs]
    columns: dict[str, str]

    def encoded(self, part: str) -> tuple[list[list[int]], list[list[int]]]:
        """``(source ids, target ids)`` of the pairs of ``part``."""
        pairs = self.parts[part]
        return [self.source.encode(s) for s in pairs.sources], [self.target.encode(t) for t in pairs.targets]


def prepare_data(config: TranslateConfig, run_dir: Path, resume: bool) -> TranslateData:
    """Split ``config.data`` by source; build both vocabularies on the training part (on ``resume``,
    read them back from the run's ``vocab.json``); keep the pairs within ``max_pair_tokens``."""
    pairs, name, columns = load_pairs(config)
    # Never in silence: the file is read against its order (said once, by the first of several processes).
    if columns["by"] == "swapped" and not resume and not is_ddp_worker():
        print(
            f"note: {name} holds {columns['first']} in its first column and {columns['second']} in its second "
            f"(by their script and stop words): training {config.src}->{config.tgt} from the second column to "
            "the first; pass --columns to name them yourself",
            file=sys.stderr,
            flush=True,
        )
    if config.max_pairs is not None:
        pairs = pairs.subset(range(min(config.max_pairs, len(pairs))))
    split = split_pairs(pairs)
    for part in PARTS:
        if len(getattr(split, part)) == 0:
            raise DataError(f"{name}: the {part} part of the split is empty; the data set is too small")
    if resume:
        source, target = read_sides(run_dir / VOCAB)
    else:
        source = make_side(config.source_tokenizer, config.src, split.train.sources, config, target=False)
        target = make_side(config.target_tokenizer, config.tgt, split.train.targets, config, target=True)
    parts = {part: _within_pair_tokens(getattr(split, part), source, target, config.max_pair_tokens) for part in PARTS}
    for part, kept in parts.items():
        if len(kept) == 0:
            raise DataError(_no_pair_within(name, part, getattr(split, part), source, target, config.max_pair_tokens))
    return TranslateData(name, source, target, parts, columns)


class PairDataset(torch.utils.data.Dataset):
    def __init__(self, sources: list[list[int]], targets: list[list[int]]) -> None:
        self.sources, self.targets = sources, targets

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.sources[index], self.targets[index]


def collate_pairs(batch, bos: int, eos: int) -> dict[str, Tensor]:
    """``(source ids, target ids)`` pairs -> padded ``source (B, S)``, ``source_lengths``, and
    ``target_inputs`` (BOS + target) / ``target_outputs`` (target + EOS), ``(B, T + 1)`` with ``target_lengths``."""
    source, source_lengths = pad_sequences([s for s, _ in batch], 0)
    target_inputs, target_lengths = pad_sequences([[bos, *t] for _, t in batch], 0)
    target_outputs, _ = pad_sequences([[*t, eos] for _, t in batch], 0)
    return {
        "source": source,
        "source_lengths": source_lengths,
        "target_inputs": target_inputs,
        "target_outputs": target_outputs,
        "target_lengths": target_lengths,
    }


def pair_loader(
    encoded: tuple[list[list[int]], list[list[int]]], target_vocab: Vocab, batch_size: int, shuffle: bool, seed: int = 0
) -> DataLoader:
    """Batches of pairs of similar lengths; its ``batch_sampler`` is what multi-process training shards."""
    sources, targets = encoded
    lengths = [max(len(s), len(t)) for s, t in zip(sources, targets)]
    sampler = BucketBatchSampler(lengths, batch_size, shuffle=shuffle, seed=seed)
    collate = functools.partial(collate_pairs, bos=target_vocab.bos_index, eos=target_vocab.eos_index)
    return DataLoader(PairDataset(sources, targets), batch_sampler=sampler, collate_fn=collate)
