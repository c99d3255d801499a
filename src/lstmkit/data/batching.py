"""From lists of token ids to padded batches: padding with lengths, length bucketing, collation.

Batches are right-padded ``(B, T)`` LongTensors with a ``(B,)`` LongTensor of true lengths, the form
``lstmkit.LSTM(..., lengths=lengths)`` and the pooling heads take. Grouping examples of similar length
into a batch (:class:`BucketBatchSampler`) keeps padding, and so wasted recurrent steps, small.
A language model instead reads one long token stream in windows (:func:`stream_windows`): no padding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

__all__ = [
    "pad_sequences",
    "replace_empty",
    "BucketBatchSampler",
    "TextClassificationDataset",
    "collate_classification",
    "stream_windows",
    "stream_batches",
]


def replace_empty(seqs: Sequence[Sequence[int]], unk_index: int) -> list[list[int]]:
    """Copy of ``seqs`` where each empty encoding becomes ``[unk_index]`` (e.g. a text of only spaces)."""
    return [list(seq) if len(seq) else [unk_index] for seq in seqs]


def pad_sequences(
    seqs: Sequence[Sequence[int]], pad_index: int, max_length: int | None = None
) -> tuple[Tensor, Tensor]:
    """Right-pad ``seqs`` into one batch, truncating each to ``max_length`` tokens if given.

    Returns ``tokens: (B, T)`` LongTensor, ``T`` the longest (truncated) length, filled with
    ``pad_index`` past each length, and ``lengths: (B,)`` LongTensor. An empty sequence is an error
    (an LSTM cannot run zero steps); :func:`replace_empty` is one way to decide what it should be.
    """
    if len(seqs) == 0:
        raise ValueError("seqs: expected at least one sequence, got an empty batch")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length: expected at least 1 or None, got {max_length}")
    for i, seq in enumerate(seqs):
        if len(seq) == 0:
            raise ValueError(f"seqs[{i}] is empty: expected at least one token id (see replace_empty)")
    lengths = [len(seq) if max_length is None else min(len(seq), max_length) for seq in seqs]
    tokens = torch.full((len(seqs), max(lengths)), pad_index, dtype=torch.long)
    for row, (seq, length) in enumerate(zip(seqs, lengths)):
        tokens[row, :length] = torch.as_tensor(list(seq[:length]), dtype=torch.long)
    return tokens, torch.tensor(lengths, dtype=torch.long)


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose examples have similar lengths, in a shuffled but reproducible order.

    With ``shuffle`` (training), each epoch permutes the indices, cuts the permutation into chunks of
    ``bucket_batches * batch_size`` examples, sorts each chunk by length and cuts it into batches, then
    shuffles the order of all batches. Only the last chunk can leave a short batch, dropped with
    ``drop_last``. The randomness comes from ``seed`` and the epoch (:meth:`set_epoch`), so a run is
    repeatable and each epoch differs. Without ``shuffle`` (evaluation), batches are cut from all
    indices sorted by length, in order.

    Each batch holds its examples longest first: the order in which the compiled kernels run a batch
    (as a ``PackedSequence`` does), which then need not sort it before each layer and direction and sort
    it back after (12 % of a BiLSTM layer's training step). The batches themselves are cut from the
    lengths sorted shortest first, so which examples share a batch is what it was before that order.

    Use it as ``DataLoader(dataset, batch_sampler=sampler, collate_fn=...)``.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        bucket_batches: int = 50,
    ) -> None:
        if len(lengths) == 0:
            raise ValueError("lengths: expected at least one example, got none")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected at least 1, got {batch_size}")
        if bucket_batches < 1:
            raise ValueError(f"bucket_batches: expected at least 1, got {bucket_batches}")
        self.lengths = torch.as_tensor(list(lengths), dtype=torch.long)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.bucket_batches = bucket_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order :meth:`__iter__` yields (call it before each epoch)."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        if not self.shuffle:
            order = torch.sort(self.lengths, stable=True).indices
            return self._cut(order.tolist())
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator)
        chunk = self.batch_size * self.bucket_batches
        batches: list[list[int]] = []
        for start in range(0, len(order), chunk):
            indices = order[start : start + chunk]
            by_length = torch.sort(self.lengths[indices], stable=True).indices
            batches.extend(self._cut(indices[by_length].tolist()))
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[i] for i in permutation]

    def _cut(self, indices: list[int]) -> list[list[int]]:
        batches = [indices[i : i + self.batch_size][::-1] for i in range(0, len(indices), self.batch_size)]
        if self.drop_last and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        full, rest = divmod(len(self.lengths), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1


class TextClassificationDataset(Dataset):
    """Encoded texts with integer labels; item ``i`` is ``(token_ids[i], labels[i])``, or with
    ``step_ids`` (per-step id lists aligned with the tokens, by batch name, e.g. ``{"bigrams": ...}``)
    ``(token_ids[i], labels[i], {name: ids[i]})``."""

    def __init__(
        self,
        token_ids: Sequence[Sequence[int]],
        labels: Sequence[int],
        step_ids: Mapping[str, Sequence[Sequence[int]]] | None = None,
    ) -> None:
        if len(token_ids) != len(labels):
            raise ValueError(f"labels: expected one per text ({len(token_ids)}), got {len(labels)}")
        self.token_ids = [list(ids) for ids in token_ids]
        self.labels = [int(label) for label in labels]
        self.step_ids = {name: [list(ids) for ids in values] for name, values in (step_ids or {}).items()}
        for name, values in self.step_ids.items():
            mismatched = [i for i, (ids, tokens) in enumerate(zip(values, self.token_ids)) if len(ids) != len(tokens)]
            if len(values) != len(self.token_ids) or mismatched:
                where = f"text {mismatched[0]}" if mismatched else f"{len(values)} lists"
                raise ValueError(
                    f"step_ids[{name!r}]: expected one id per token of each of the {len(self.token_ids)} texts, "
                    f"got {where} otherwise"
                )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple:
        if not self.step_ids:
            return self.token_ids[index], self.labels[index]
        return self.token_ids[index], self.labels[index], {name: ids[index] for name, ids in self.step_ids.items()}

    @property
    def lengths(self) -> list[int]:
        """Number of tokens of each text (what :class:`BucketBatchSampler` groups by)."""
        return [len(ids) for ids in self.token_ids]


def collate_classification(batch: Sequence[tuple], pad_index: int, max_length: int | None = None) -> dict[str, Tensor]:
    """Collate ``(token_ids, label)`` pairs into ``{"tokens": (B, T), "lengths": (B,), "labels": (B,)}``;
    items with step ids (``(token_ids, label, {name: ids})``, :class:`TextClassificationDataset`) add each
    name, padded as the tokens to ``(B, T)``.

    Bind the options for a DataLoader: ``functools.partial(collate_classification, pad_index=0)``.
    """
    tokens, lengths = pad_sequences([item[0] for item in batch], pad_index, max_length)
    labels = torch.tensor([item[1] for item in batch], dtype=torch.long)
    steps = batch[0][2] if len(batch[0]) > 2 else {}
    padded = {name: pad_sequences([item[2][name] for item in batch], pad_index, max_length)[0] for name in steps}
    return {"tokens": tokens, "lengths": lengths, "labels": labels, **padded}


def stream_windows(ids: Sequence[int], streams: int, length: int) -> list[Tensor]:
    """Truncated-BPTT windows of one token stream: ``(streams, length + 1)`` LongTensors, in order.

    The stream is cut into ``streams`` contiguous rows (the tail that does not fill a row is
    dropped); window ``k`` holds columns ``k * length .. (k + 1) * length`` of every row, so it
    overlaps the next by one column (the last input's target is the next window's first input) and
    row ``i`` of window ``k + 1`` continues row ``i`` of window ``k``: a state carried from one
    window to the next has read exactly the text before it. The last window may be shorter.
    """
    if streams < 1 or length < 1:
        raise ValueError(f"streams and length must be at least 1, got streams={streams}, length={length}")
    columns = len(ids) // streams
    if columns < 2:
        raise ValueError(
            f"ids: a stream of {len(ids)} tokens is too short for {streams} rows of at least 2 tokens "
            f"(need {2 * streams})"
        )
    rows = torch.as_tensor(ids[: streams * columns], dtype=torch.long).view(streams, columns)
    return [rows[:, start : start + length + 1] for start in range(0, columns - 1, length)]


def stream_batches(streams: Sequence[Sequence[int]], batch_size: int, length: int) -> list[dict]:
    """Batches ``{"windows": (D, batch_size, length + 1), "reset": bool}`` of ``D`` token streams of
    equal length (e.g. a text and its reverse), each cut by :func:`stream_windows`; ``reset`` marks
    the first window, where no state is carried in."""
    per_stream = [stream_windows(ids, batch_size, length) for ids in streams]
    return [
        {"windows": torch.stack(windows), "reset": index == 0}
        for index, windows in enumerate(zip(*per_stream, strict=True))
    ]
