"""Sentence pairs for translation: a TSV loader, cleaning, a source-grouped split, the Tatoeba download.

A pairs file holds one pair a line, ``first<TAB>second[<TAB>attribution]`` (the Tatoeba/manythings.org
layout: English first, the other language second, then the CC-BY attribution). The attribution stays
with every pair through cleaning and splitting, so files derived from the pairs can keep it.

Cleaning (:func:`prepare_pairs`) turns the file's two columns into (source, target) for the requested
direction, drops pairs longer than a length limit and exact repeats. :func:`split_pairs` then puts
each pair in train/validation/test by a hash of its normalised source, so every translation of one
source sentence lands on the same side and a test sentence is never seen in training.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lstmkit.data.char_text import read_utf8
from lstmkit.data.download import download
from lstmkit.data.tokenize import normalize_text
from lstmkit.errors import DataError

__all__ = [
    "Pairs",
    "PairSplit",
    "PairReport",
    "read_pairs",
    "parse_pairs",
    "prepare_pairs",
    "split_pairs",
    "source_key",
    "load_tatoeba",
    "TATOEBA_URL",
]

TATOEBA_URL = "https://www.manythings.org/anki/{language}-eng.zip"


@dataclass(frozen=True)
class PairReport:
    """What cleaning did: rows read, pairs dropped as too long or as exact repeats, pairs kept."""

    source: str
    rows_read: int
    too_long_dropped: int
    duplicates_removed: int
    kept: int


@dataclass(frozen=True)
class Pairs:
    """Parallel tuples: ``sources[i]`` translates to ``targets[i]``; ``attributions[i]`` may be ``""``.

    ``languages`` names the two sides, ``(source language, target language)`` once a direction is
    chosen (a file's two columns before).
    """

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    attributions: tuple[str, ...]
    languages: tuple[str, str] = ("", "")
    report: PairReport | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not len(self.sources) == len(self.targets) == len(self.attributions):
            raise ValueError(
                f"pairs: sources, targets and attributions differ in length "
                f"({len(self.sources)}, {len(self.targets)}, {len(self.attributions)})"
            )
        for name in ("sources", "targets", "attributions"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "languages", tuple(self.languages))

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices: Iterable[int]) -> Pairs:
        indices = list(indices)
        return Pairs(
            tuple(self.sources[i] for i in indices),
            tuple(self.targets[i] for i in indices),
            tuple(self.attributions[i] for i in indices),
            self.languages,
        )

    def swapped(self) -> Pairs:
        """The same pairs in the other direction."""
        return Pairs(self.targets, self.sources, self.attributions, self.languages[::-1], self.report)

    def to_tsv(self) -> str:
        """``source<TAB>target<TAB>attribution`` lines (the attribution travels with derived files)."""
        return "".join(f"{s}\t{t}\t{a}\n" for s, t, a in zip(self.sources, self.targets, self.attributions))


@dataclass(frozen=True)
class PairSplit:
    train: Pairs
    val: Pairs
    test: Pairs
    report: PairReport | None = field(default=None, compare=False)


def parse_pairs(lines: Iterable[str], name: str, languages: tuple[str, str] = ("", "")) -> Pairs:
    """Pairs from TSV lines; a line without a tab or with an empty side is a :class:`DataError`.

    Blank lines are skipped; a third column is the attribution (later columns are joined to it).
    """
    sources, targets, attributions = [], [], []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataError(f"{name} line {number}: expected source<TAB>target[<TAB>attribution], found no tab")
        first, second = fields[0].strip(), fields[1].strip()
        if not first or not second:
            side = "source (first column)" if not first else "target (second column)"
            raise DataError(f"{name} line {number}: the {side} is empty")
        sources.append(first)
        targets.append(second)
        attributions.append("\t".join(fields[2:]).strip())
    if not sources:
        raise DataError(f"{name} holds no sentence pairs")
    return Pairs(tuple(sources), tuple(targets), tuple(attributions), languages)


def read_pairs(path: str | Path, languages: tuple[str, str] = ("", "")) -> Pairs:
    """The pairs of a UTF-8 TSV file (see :func:`parse_pairs`)."""
    path = Path(path)
    text = read_utf8(path, "pairs file")
    pairs = parse_pairs(text.splitlines(), path.name, languages)
    report = PairReport(str(path), len(pairs), 0, 0, len(pairs))
    return Pairs(pairs.sources, pairs.targets, pairs.attributions, languages, report)


def source_key(text: str) -> str:
    """The form of a sentence that decides its split: NFKC, lower-cased, whitespace collapsed."""
    return " ".join(normalize_text(text).lower().split())


def prepare_pairs(
    pairs: Pairs,
    src: str,
    tgt: str,
    max_length: int | None = None,
    length: Callable[[str], int] = len,
) -> Pairs:
    """Orient ``pairs`` (columns ``pairs.languages``) as ``src -> tgt``, filter by length, de-duplicate.

    A pair is dropped when either side is longer than ``max_length`` by ``length`` (characters by
    default; pass a tokenizer's token count to filter on tokens), and when it repeats an earlier
    (source, target) exactly. Raises :class:`DataError` for a direction the data does not have.
    """
    columns = pairs.languages
    if src == tgt:
        raise DataError(f"unknown direction {src}->{tgt}: source and target languages must differ")
    if (src, tgt) == columns:
        oriented = pairs
    elif (tgt, src) == columns:
        oriented = pairs.swapped()
    else:
        raise DataError(f"unknown direction {src}->{tgt}: the data holds {columns[0]} and {columns[1]}")
    seen: set[tuple[str, str]] = set()
    keep, too_long, repeats = [], 0, 0
    for i, (source, target) in enumerate(zip(oriented.sources, oriented.targets)):
        if max_length is not None and (length(source) > max_length or length(target) > max_length):
            too_long += 1
            continue
        if (source, target) in seen:
            repeats += 1
            continue
        seen.add((source, target))
        keep.append(i)
    if not keep:
        raise DataError(f"no sentence pair of {src}->{tgt} is within the maximum length {max_length}")
    origin = pairs.report.source if pairs.report else ""
    report = PairReport(origin, len(pairs), too_long, repeats, len(keep))
    kept = oriented.subset(keep)
    return Pairs(kept.sources, kept.targets, kept.attributions, (src, tgt), report)


def split_pairs(pairs: Pairs, val_percent: int = 5, test_percent: int = 5) -> PairSplit:
    """Deterministic train/validation/test split by ``md5(source_key(source)) % 100``.

    Buckets ``[0, test_percent)`` go to test, the next ``val_percent`` to validation, the rest to
    training. All translations of one source sentence share its bucket, so none of them leaks.
    """
    if not (0 < val_percent and 0 < test_percent and val_percent + test_percent < 100):
        raise ValueError(
            f"val_percent, test_percent: expected positive with a sum below 100, got {val_percent}, {test_percent}"
        )
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for i, source in enumerate(pairs.sources):
        digest = hashlib.md5(source_key(source).encode("utf-8"), usedforsecurity=False).hexdigest()
        bucket = int(digest, 16) % 100
        part = "test" if bucket < test_percent else "val" if bucket < test_percent + val_percent else "train"
        parts[part].append(i)
    return PairSplit(**{name: pairs.subset(indices) for name, indices in parts.items()}, report=pairs.report)


def load_tatoeba(
    language: str = "cmn",
    url: str | None = None,
    sha256: str | None = None,
    cache: str | Path | None = None,
    languages: tuple[str, str] | None = None,
) -> Pairs:
    """English–``language`` pairs of a manythings.org Tatoeba zip (``{language}-eng.zip``), cached.

    The zip holds ``{language}.txt`` (English, the other language, CC-BY attribution). ``url``
    defaults to :data:`TATOEBA_URL`; ``sha256`` pins the archive, else the first download's digest is
    recorded and checked later (see :func:`~lstmkit.data.download.download`). ``languages`` names the
    columns, by default ``("en", language)`` with ``cmn`` read as ``zh``.
    """
    url = url or TATOEBA_URL.format(language=language)
    archive = download(url, f"tatoeba-{language}-eng.zip", sha256=sha256, cache=cache)
    member = f"{language}.txt"
    try:
        with zipfile.ZipFile(archive) as zipped:
            data = zipped.read(member)
    except KeyError:
        raise DataError(f"{archive} has no {member}; is it a manythings.org Tatoeba zip?") from None
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive} is not a zip file: {exc}") from None
    if languages is None:
        languages = ("en", "zh" if language == "cmn" else language)
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig")
    pairs = parse_pairs(lines, f"{archive.name}:{member}", languages)
    report = PairReport(f"{url} ({member})", len(pairs), 0, 0, len(pairs))
    return Pairs(pairs.sources, pairs.targets, pairs.attributions, languages, report)
