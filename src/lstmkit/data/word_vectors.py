"""Pretrained word vectors in the common text format, and the embedding matrix they initialise.

The format GloVe, word2vec (text) and fastText (``.vec``) share: one word per line followed by its
values, separated by single spaces, UTF-8 (optionally gzip-compressed, ``.gz``). word2vec and fastText
put a ``count dim`` header line first; GloVe has none. Files run to gigabytes, so they are streamed
and only the vectors of the words asked for are kept.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.values import is_number
from lstmkit.errors import DataError

__all__ = ["WordVectors", "read_word_vectors", "pretrained_embedding"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class WordVectors:
    """The vectors a file holds for the words asked for.

    ``vectors[word]`` is a ``(dim,)`` float32 array; ``lines`` counts the file's vector lines and
    ``skipped`` those whose word is not UTF-8 (such lines occur in the large GloVe files).
    """

    path: str
    dim: int
    vectors: dict[str, np.ndarray]
    lines: int
    skipped: int = 0


def _header_dim(line: bytes) -> int | None:
    """The ``dim`` of a word2vec/fastText ``count dim`` header line, or None for a vector line."""
    fields = line.split(b" ")
    return int(fields[1]) if len(fields) == 2 and all(field.isdigit() for field in fields) else None


def _values(path: Path, number: int, fields: list[bytes]) -> np.ndarray:
    try:
        values = np.array(list(map(float, fields)), dtype=np.float32)  # 10x faster than parsing a bytes array
    except ValueError:
        bad = next(field for field in fields if not is_number(field))
        raise DataError(f"{path}: line {number}: value {bad.decode('utf-8', 'replace')!r} is not a number") from None
    if not np.isfinite(values).all():
        raise DataError(f"{path}: line {number}: the vector holds a NaN or infinite value")
    return values


def read_word_vectors(path: str | Path, words: Collection[str]) -> WordVectors:
    """The vectors of ``words`` in the text-format file ``path`` (GloVe, word2vec text, fastText ``.vec``).

    The dimension is the header's (``count dim``) or, without a header, the first vector's; a line
    with fewer values, or with more values where the extra ones are numbers, is an error naming the
    line and both dimensions. A line with more fields whose extra leading fields are not numbers is a
    word that contains spaces (GloVe 840B has a few): its last ``dim`` fields are the vector. Words
    are matched exactly; the first vector of a word repeated in the file is kept.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: word-vector file not found")
    if path.suffix.lower() == ".bin":
        raise DataError(f"{path}: binary word2vec files are not read; convert it to the text format (.txt/.vec)")
    wanted = set(words)
    vectors: dict[str, np.ndarray] = {}
    dim, dim_from, lines, skipped = 0, "", 0, 0
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.removeprefix(_BOM) if number == 1 else raw
            line = line.rstrip(b"\r\n\t ")
            if not line:
                continue
            if not dim_from:
                header = _header_dim(line)
                if header == 0:
                    raise DataError(f"{path}: line {number} is a header of dimension 0; expected 'count dim', dim >= 1")
                if header is not None:
                    dim, dim_from = header, "the header's"
                    continue
            given = line.count(b" ")
            if given == 0:
                raise DataError(f"{path}: line {number} holds one field; expected a word and its vector's values")
            if not dim_from:
                dim, dim_from = given, f"line {number}'s"
            if given < dim or (given > dim and is_number(line.split(b" ", 2)[1])):
                raise DataError(f"{path}: line {number} has {given} values, expected {dim} ({dim_from} dimension)")
            lines += 1
            word_bytes = line[: line.index(b" ")] if given == dim else line.rsplit(b" ", dim)[0]
            try:
                word = word_bytes.decode("utf-8")
            except UnicodeDecodeError:
                skipped += 1
                continue
            if word in wanted and word not in vectors:
                vectors[word] = _values(path, number, line[len(word_bytes) + 1 :].split(b" "))
    if not lines:
        raise DataError(f"{path}: no word vectors in the file (it is empty{' but for its header' if dim else ''})")
    return WordVectors(str(path), dim, vectors, lines, skipped)


def pretrained_embedding(
    tokens: Sequence[str],
    vectors: WordVectors,
    padding_idx: int | None = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The ``(len(tokens), vectors.dim)`` float32 embedding matrix whose row ``i`` is the vector of
    ``tokens[i]``.

    Tokens without a vector get rows drawn from N(0, s²), ``s`` the standard deviation of the values
    of the vectors found, so that they start on the same scale as the pretrained rows (a unit-variance
    row would dwarf GloVe's, whose values have s ≈ 0.4); the ``padding_idx`` row is zero.
    """
    rows = [i for i, token in enumerate(tokens) if token in vectors.vectors]
    found = torch.from_numpy(np.stack([vectors.vectors[tokens[i]] for i in rows])) if rows else torch.zeros(0)
    scale = found.std().item() if found.numel() > 1 else 1.0
    weight = torch.randn(len(tokens), vectors.dim, generator=generator) * scale
    if rows:
        weight[rows] = found
    if padding_idx is not None:
        weight[padding_idx] = 0.0
    return weight
