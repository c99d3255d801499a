"""Sharding batches across processes for DDP when batches come from a custom batch sampler."""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch.distributed as dist
from torch.utils.data import Sampler


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class ShardedBatchSampler(Sampler[list[int]]):
    """Every process takes every ``world_size``-th batch of ``batch_sampler``.

    Each process gets the same number of batches (the remainder is dropped), as DDP needs: a
    process with one batch more would wait forever for the others at the gradient all-reduce. The
    rank is read when iterating, i.e. inside the processes that the trainer started.
    """

    def __init__(self, batch_sampler: Sampler[list[int]]) -> None:
        self.batch_sampler = batch_sampler

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.batch_sampler, "set_epoch"):
            self.batch_sampler.set_epoch(epoch)

    def __len__(self) -> int:
        _, world = _world()
        assert isinstance(self.batch_sampler, Sized)
        return len(self.batch_sampler) // world

    def __iter__(self) -> Iterator[list[int]]:
        rank, world = _world()
        batches = list(self.batch_sampler)
        usable = len(batches) // world * world
        return iter(batches[rank:usable:world])
