"""Training batches for an ensemble whose members each draw their own: one batch per member per step.

Networks trained apart see the data in different orders, and that difference is part of what makes
their averaged predictions better than any one of them. An ensemble trained in one run can keep it:
:class:`MemberBatchSampler` gives member ``k`` the batches a :class:`~lstmkit.data.BucketBatchSampler`
of its own seed would, and each step yields the ``k``-th batch of every member together. Item
``k * n + i`` of :class:`MemberDataset` is example ``i`` read for member ``k``, so a step stays one
list of indices (what a DataLoader, and the DDP sharding of whole steps, expect), and
:func:`collate_member_batches` adds a ``"member"`` id per row; :func:`member_rows` takes one member's
rows back out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from lstmkit.data.batching import BucketBatchSampler

__all__ = ["MemberBatchSampler", "MemberDataset", "collate_member_batches", "member_rows", "member_seed"]

# Apart enough that member k's seed + epoch never meets another member's within any real run.
_MEMBER_SEED_STRIDE = 1_000_003


def member_seed(seed: int, member: int) -> int:
    """The shuffling seed of ``member``: member 0 shuffles as a lone network of ``seed`` would."""
    return seed + member * _MEMBER_SEED_STRIDE


class MemberBatchSampler(Sampler[list[int]]):
    """For ``members`` networks, each step's indices: member ``k``'s batch (a
    :class:`~lstmkit.data.BucketBatchSampler` of :func:`member_seed` ``(seed, k)``) shifted by ``k * n``,
    ``n = len(lengths)``, for every ``k`` in turn. Every member sees every example once per epoch, in
    its own order; batches are length-bucketed within each member."""

    def __init__(self, lengths: Sequence[int], batch_size: int, members: int, seed: int = 0, **options) -> None:
        if isinstance(members, bool) or not isinstance(members, int) or members < 1:
            raise ValueError(f"members: expected an integer >= 1, got {members!r}")
        self.samplers = [
            BucketBatchSampler(lengths, batch_size, shuffle=True, seed=member_seed(seed, k), **options)
            for k in range(members)
        ]
        self.size = len(lengths)

    def set_epoch(self, epoch: int) -> None:
        for sampler in self.samplers:
            sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        for step in zip(*self.samplers, strict=True):
            yield [k * self.size + i for k, batch in enumerate(step) for i in batch]

    def __len__(self) -> int:
        return len(self.samplers[0])


class MemberDataset(Dataset):
    """``members`` copies of ``dataset`` end to end: item ``k * n + i`` is ``(k, dataset[i])``."""

    def __init__(self, dataset: Dataset, members: int) -> None:
        self.dataset = dataset
        self.members = members
        self.size = len(dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.members * self.size

    def __getitem__(self, index: int) -> tuple[int, tuple]:
        if not 0 <= index < len(self):
            raise IndexError(f"index: expected 0 <= index < {len(self)}, got {index}")
        member, example = divmod(index, self.size)
        return member, self.dataset[example]


def collate_member_batches(batch: Sequence[tuple[int, tuple]], collate: Callable[[list], dict]) -> dict[str, Tensor]:
    """``(member, item)`` pairs -> ``collate`` of the items with ``"member": (B,)`` ids added. Bind
    ``collate`` (e.g. ``functools.partial(collate_classification, pad_index=0)``) for a DataLoader."""
    return {**collate([item for _, item in batch]), "member": torch.tensor([member for member, _ in batch])}


def member_rows(batch: dict[str, Tensor], member: int) -> dict[str, Tensor]:
    """The rows of ``batch`` (from :func:`collate_member_batches`) that ``member`` reads, without the
    ``"member"`` ids; ``(B, T)`` tensors are cut to the longest of those rows, so no member runs steps
    of padding that only another member's texts need."""
    rows = batch["member"] == member
    if not bool(rows.any()):
        raise ValueError(
            f"member: batch has no rows of member {member} (members {sorted(set(batch['member'].tolist()))})"
        )
    lengths = batch["lengths"][rows]
    longest = int(lengths.max())
    part = {}
    for name, value in batch.items():
        if name == "member":
            continue
        value = value[rows]
        part[name] = value[:, :longest] if value.dim() == 2 else value
    return part
