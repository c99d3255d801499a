"""Silencing other libraries' chatter for the length of one call, never for the whole process.

A library must leave its user's logger levels and warning filters as it found them: a notebook that
asked for Lightning's INFO lines, or turned a warning into an error, keeps that after ``fit`` returns.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["quiet"]


@contextmanager
def quiet(loggers: Sequence[str] = (), messages: Sequence[str] = (), level: int = logging.WARNING) -> Iterator[None]:
    """Inside the block, ``loggers`` (names) drop records below ``level`` and warnings whose message
    matches one of the ``messages`` (regular expressions, as ``warnings.filterwarnings``) are ignored.

    Both are restored on exit, even after an exception: the previous level of each logger and the
    previous list of warning filters.
    """
    previous = {name: logging.getLogger(name).level for name in loggers}
    with warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings("ignore", message=message)
        try:
            for name in loggers:
                logging.getLogger(name).setLevel(level)
            yield
        finally:
            for name, old in previous.items():
                logging.getLogger(name).setLevel(old)
