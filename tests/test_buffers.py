"""The kernels' recycled buffers: a block is handed out again only when nothing uses it any more."""

import pytest
import torch

from lstmkit.kernels import _buffers

LIKE = torch.empty(0)
BIG = 1 << 19  # float32 values: 2 MiB, above the smallest recycled block


@pytest.fixture(autouse=True)
def fresh_pool():
    _buffers.release_buffers()
    yield
    _buffers.release_buffers()


def test_a_free_block_is_reused_and_a_held_one_never():
    first = _buffers.empty(LIKE, BIG)
    address = first.data_ptr()
    second = _buffers.empty(LIKE, BIG)
    assert second.data_ptr() != address  # ``first`` is still held
    del first
    third = _buffers.empty(LIKE, 4, BIG // 4)
    assert third.data_ptr() == address and third.shape == (4, BIG // 4)


def test_a_view_or_saved_autograd_state_keeps_a_block_in_use():
    block = _buffers.empty(LIKE, BIG)
    address = block.data_ptr()
    view = block[10:20]
    del block
    assert _buffers.empty(LIKE, BIG).data_ptr() != address
    del view
    weight = torch.ones(BIG, requires_grad=True)
    saved = _buffers.empty(LIKE, BIG).fill_(2.0)
    assert saved.data_ptr() == address
    loss = (weight * saved).sum()  # autograd keeps ``saved`` for the backward pass
    del saved
    other = _buffers.empty(LIKE, BIG).fill_(5.0)
    assert other.data_ptr() != address
    loss.backward()
    assert torch.equal(weight.grad, torch.full((BIG,), 2.0))


def test_zeros_are_zero_even_in_a_reused_block():
    _buffers.empty(LIKE, BIG).fill_(7.0)
    assert torch.count_nonzero(_buffers.zeros(LIKE, BIG)) == 0


def test_small_and_other_dtype_requests_are_not_served_from_the_pool():
    block = _buffers.empty(LIKE, BIG)
    address = block.data_ptr()
    del block
    assert _buffers.empty(torch.empty(0, dtype=torch.float64), BIG).data_ptr() != address
    small = _buffers.empty(LIKE, 16)
    assert small.shape == (16,) and _buffers.cached_bytes() == 4 * BIG + 8 * BIG  # the float64 block is its own


def test_release_frees_the_cache_and_the_limit_bounds_it(monkeypatch):
    blocks = [_buffers.empty(LIKE, BIG) for _ in range(3)]
    del blocks
    assert _buffers.cached_bytes() == 3 * 4 * BIG
    _buffers.release_buffers()
    assert _buffers.cached_bytes() == 0
    monkeypatch.setattr(_buffers, "CACHE_LIMIT", 4 * BIG)
    blocks = [_buffers.empty(LIKE, BIG) for _ in range(3)]
    del blocks
    _buffers.empty(LIKE, 2 * BIG)  # a new block: the pool trims its free blocks to the limit
    assert _buffers.cached_bytes() <= 4 * BIG


@pytest.mark.parametrize("value, message", [("lots", "a number of megabytes, got 'lots'"), ("-1", ">= 0, got '-1'")])
def test_a_bad_cache_size_in_the_environment_names_the_variable(monkeypatch, value, message):
    monkeypatch.setenv("LSTMKIT_BUFFER_CACHE_MB", value)
    with pytest.raises(ValueError, match=f"LSTMKIT_BUFFER_CACHE_MB must be {message}"):
        _buffers._limit_from_environment()


def test_zero_turns_recycling_off(monkeypatch):
    monkeypatch.setattr(_buffers, "CACHE_LIMIT", 0)
    block = _buffers.empty(LIKE, BIG)
    del block
    assert _buffers.cached_bytes() == 0
