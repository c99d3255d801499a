"""Recycled buffers for the kernels' large per-call tensors (gates, cell states, outputs, GEMM results).

A training loop asks for the same few large tensors at every batch. Fresh large blocks come from the
operating system as untouched pages, and the first write to each 4 KiB page faults: on the
development machine a fresh 52 MB buffer cost 19 ms to fill against 1.8 ms for a reused one, a
fifth of an LSTM forward pass at (B, T, H) = (64, 200, 256). So the kernels keep the blocks they
allocated and hand one out again once nothing refers to it any more: no tensor, view or saved
autograd state still uses its storage (torch's own storage reference count says so). A block a
caller still holds is never reused.

Each thread has its own pool. At most :data:`CACHE_LIMIT` bytes of free blocks are kept;
:func:`release_buffers` frees them now, and ``LSTMKIT_BUFFER_CACHE_MB=0`` turns the recycling off.
"""

from __future__ import annotations

import os
import threading

import torch
from torch import Tensor

__all__ = ["CACHE_LIMIT", "empty", "zeros", "release_buffers", "cached_bytes"]

# Small blocks come from the allocator's heap, already touched: recycling them gains nothing.
SMALLEST = 1 << 20
MAX_BLOCKS = 32  # blocks a pool remembers, free or in use (the oldest are forgotten first)


def _limit_from_environment() -> int:
    text = os.environ.get("LSTMKIT_BUFFER_CACHE_MB", "1024")
    try:
        megabytes = float(text)
    except ValueError:
        raise ValueError(f"LSTMKIT_BUFFER_CACHE_MB must be a number of megabytes, got {text!r}") from None
    if megabytes < 0:
        raise ValueError(f"LSTMKIT_BUFFER_CACHE_MB must be >= 0, got {text!r}")
    return int(megabytes * (1 << 20))


CACHE_LIMIT = _limit_from_environment()
_use_count = getattr(torch._C, "_storage_Use_Count", None)  # private: without it, nothing is recycled
_local = threading.local()


class _Block:
    __slots__ = ("flat", "baseline")

    def __init__(self, flat: Tensor):
        self.flat = flat
        self.baseline = self.users()  # the count while only this pool holds it

    def users(self) -> int:
        return _use_count(self.flat.untyped_storage()._cdata)

    def free(self) -> bool:
        return self.users() <= self.baseline

    @property
    def nbytes(self) -> int:
        return self.flat.numel() * self.flat.element_size()


def _pool() -> list[_Block]:
    pool = getattr(_local, "blocks", None)
    if pool is None:
        pool = _local.blocks = []
    return pool


def empty(like: Tensor, *shape: int) -> Tensor:
    """An uninitialised tensor of ``shape`` with ``like``'s dtype and device, recycled where one is free."""
    numel = 1
    for size in shape:
        numel *= size
    nbytes = numel * like.element_size()
    if _use_count is None or CACHE_LIMIT == 0 or like.device.type != "cpu" or nbytes < SMALLEST:
        return like.new_empty(shape)
    pool = _pool()
    for position, block in enumerate(pool):
        fits = block.flat.dtype == like.dtype and numel <= block.flat.numel() <= 2 * numel
        if fits and block.free():
            pool.append(pool.pop(position))  # most recently used last
            return block.flat[:numel].view(shape)
    flat = like.new_empty(numel)
    pool.append(_Block(flat))
    _trim(pool)
    return flat.view(shape)


def zeros(like: Tensor, *shape: int) -> Tensor:
    """As :func:`empty`, filled with zeros."""
    return empty(like, *shape).zero_()


def _trim(pool: list[_Block]) -> None:
    """Forget the oldest free blocks beyond the byte limit, and the oldest of any beyond MAX_BLOCKS."""
    kept = sum(block.nbytes for block in pool if block.free())
    for block in list(pool):
        if kept <= CACHE_LIMIT:
            break
        if block.free():
            pool.remove(block)
            kept -= block.nbytes
    del pool[: max(0, len(pool) - MAX_BLOCKS)]


def cached_bytes() -> int:
    """Bytes of free blocks this thread's pool keeps for reuse."""
    return sum(block.nbytes for block in _pool() if block.free())


def release_buffers() -> None:
    """Let this thread's pool go: free blocks return to the allocator, blocks in use stay with their users."""
    _pool().clear()
