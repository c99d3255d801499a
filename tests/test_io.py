"""Atomic writes: the file appears whole or not at all, with the user's umask."""

import os

import pytest

from lstmkit.io import atomic_write, umask


@pytest.fixture
def set_umask():
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_creates_the_file_with_the_users_umask(tmp_path, set_umask, mask, expected):
    set_umask(mask)
    assert umask() == mask
    path = atomic_write(tmp_path / "run" / "config.json", lambda tmp: tmp.write_text("{}"))
    assert path.read_text() == "{}"
    assert path.stat().st_mode & 0o777 == expected


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path):
    def fail(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(tmp_path / "metrics.json", fail)
    assert list(tmp_path.iterdir()) == []
