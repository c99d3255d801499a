"""Labelled texts as users have them: a table (CSV/TSV/JSONL) or a folder per label, and the parts of
a data set given apart (a validation or test file, or a split column in one table).

Each file is read whole, checked row by row (an error names the file, the line or file, and the
value), then cleaned as every loader cleans (:mod:`.text_sets`): empty texts are skipped with a
warning, repeats removed, texts with conflicting labels dropped.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path

from lstmkit.data.char_text import read_utf8
from lstmkit.data.text_sets import LabelledTexts, _clean
from lstmkit.data.values import is_number
from lstmkit.errors import DataError

__all__ = ["load_table", "load_folder", "load_labelled", "load_split_table", "SPLIT_NAMES", "TABLE_SUFFIXES"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl")
# The values a split column may hold (case and surrounding spaces ignored) -> the part they name.
SPLIT_NAMES = {"train": "train", "validation": "val", "valid": "val", "val": "val", "dev": "val", "test": "test"}
_SHOWN = 5  # how many offending line numbers or files an error or warning lists

Row = tuple  # (line number or file name, text, label, further columns...)


def _shown(items: Sequence[object]) -> str:
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(str(item) for item in items[:_SHOWN]) + more


def _delimited_rows(path: Path, text: str, columns: Sequence[str]) -> list[Row]:
    """(line number, value of each of ``columns``) of each data row of a CSV/TSV file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    elif suffix == ".tsv":
        dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|")
        except csv.Error:
            raise DataError(f"{path}: cannot tell the column delimiter; name it .csv or .tsv") from None
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [name.strip() for name in next(reader)]
        missing = [column for column in columns if column not in header]
        if missing:
            raise DataError(f"{path}: missing column {_shown([repr(c) for c in missing])} (columns found: {header})")
        at = [header.index(column) for column in columns]
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, the header has {len(header)} "
                    "(quote texts that contain the delimiter)"
                )
            rows.append((reader.line_num, *(row[i] for i in at)))
    except csv.Error as exc:
        if "field limit" in str(exc):  # raising the limit would change it for the whole process
            raise DataError(
                f"{path}: a field near line {reader.line_num} is longer than the {csv.field_size_limit():,} characters "
                "Python's csv reader takes; give texts this long as JSON lines (.jsonl) or a folder of .txt files"
            ) from None
        raise DataError(f"{path}: malformed table near line {reader.line_num}: {exc}") from None
    return rows


def _jsonl_rows(path: Path, text: str, columns: Sequence[str]) -> list[Row]:
    """(line number, value of each of ``columns``) of each record of a JSON-lines file; the first
    column (the text) must hold a string, the others are read as strings (null as empty)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number} is not valid JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}: line {number}: expected a JSON object, got {type(record).__name__}")
        missing = [key for key in columns if key not in record]
        if missing:
            found = list(record)
            raise DataError(f"{path}: line {number} has no {_shown([repr(k) for k in missing])} (keys found: {found})")
        value = record[columns[0]]
        if not isinstance(value, str):
            raise DataError(f"{path}: line {number}: {columns[0]!r} must be a string, got {type(value).__name__}")
        rows.append((number, value, *("" if record[key] is None else str(record[key]) for key in columns[1:])))
    return rows


def _labelled_rows(rows: Sequence[Row], source: str, where: str) -> LabelledTexts:
    """Check labels, skip (with a warning) empty texts, then clean; ``where`` names a row's locator."""
    unlabelled = [at for at, _, label, *_ in rows if not label.strip()]
    if unlabelled:
        raise DataError(f"{source}: empty label at {where} {_shown(unlabelled)}")
    _check_one_label_kind(rows, source, where)
    empty = [at for at, text, *_ in rows if not text.strip()]
    if len(empty) == len(rows):
        raise DataError(f"{source}: every text is empty ({len(rows)} rows)")
    if empty:
        warnings.warn(f"{source}: skipped {len(empty)} empty text(s) at {where} {_shown(empty)}", stacklevel=3)
    return _clean(((text, label.strip()) for _, text, label, *_ in rows), source)


def _check_one_label_kind(rows: Sequence[Row], source: str, where: str) -> None:
    """Refuse labels that mix numbers and names (``0``/``1`` beside ``positive``): read as they are they
    would be four classes, and which number means which name is not ours to guess."""
    first: dict[bool, dict[str, object]] = {True: {}, False: {}}  # is a number -> label -> where first seen
    for at, _, label, *_ in rows:
        first[is_number(label.strip())].setdefault(label.strip(), at)
    numbers, names = first[True], first[False]
    if numbers and names:
        number, name = next(iter(numbers)), next(iter(names))
        raise DataError(
            f"{source}: labels mix numbers {_shown([repr(n) for n in sorted(numbers)])} and names "
            f"{_shown([repr(n) for n in sorted(names)])} (e.g. {number!r} at {where} {numbers[number]}, "
            f"{name!r} at {where} {names[name]}); use one kind, e.g. replace 0/1 by the names they stand for"
        )


def _table_rows(path: Path, columns: Sequence[str]) -> list[Row]:
    """(line number, value of each of ``columns``) of each data row of a UTF-8 table."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'!r}: expected .csv, .tsv, .txt or .jsonl")
    text = read_utf8(path, "file")
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    read_rows = _jsonl_rows if suffix == ".jsonl" else _delimited_rows
    rows = read_rows(path, text, columns)
    if not rows:
        raise DataError(f"{path}: no data rows (only a header?)")
    return rows


def load_table(path: str | Path, text_column: str = "text", label_column: str = "label") -> LabelledTexts:
    """Texts and labels from a UTF-8 table: ``.csv``, ``.tsv``, ``.txt`` (delimiter sniffed) or ``.jsonl``.

    The first row of a delimited file is the header. Rows with empty text are skipped with a warning;
    an empty label, a missing column, a malformed row or fewer than 2 classes is an error.
    """
    path = Path(path)
    return _labelled_rows(_table_rows(path, (text_column, label_column)), str(path), "line")


def _folder_rows(path: Path) -> list[Row]:
    """(file name as ``LABEL/NAME.txt``, text, label) of each text of a folder per label."""
    if not path.is_dir():
        found = "a file" if path.exists() else "nothing"
        raise DataError(f"{path}: expected a folder with one subfolder per label, found {found}")
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    rows = [
        (f"{folder.name}/{file.name}", read_utf8(file, "file"), folder.name)
        for folder in folders
        for file in sorted(folder.glob("*.txt"))
    ]
    if not rows:
        raise DataError(f"{path}: no .txt files in subfolders (expected {path}/LABEL/NAME.txt)")
    return rows


def load_folder(path: str | Path) -> LabelledTexts:
    """Texts from a folder per label: ``path/LABEL/*.txt``, one UTF-8 text per file.

    Hidden folders are ignored; empty files are skipped with a warning.
    """
    path = Path(path)
    return _labelled_rows(_folder_rows(path), str(path), "file")


def _check_labels(rows: Sequence[Row], known: Collection[str], source: str, where: str) -> None:
    """Refuse rows whose label the training part does not have (they could never be predicted)."""
    unseen = [(at, label.strip()) for at, _, label, *_ in rows if label.strip() and label.strip() not in known]
    if unseen:
        at, label = unseen[0]
        more = f" (and {len(unseen) - 1} more such rows)" if len(unseen) > 1 else ""
        raise DataError(
            f"{source}: {where} {at} has label {label!r}, which the training part does not have "
            f"(its labels: {sorted(known)}){more}"
        )


def load_labelled(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    known_labels: Collection[str] | None = None,
) -> LabelledTexts:
    """Labelled texts from a table (:func:`load_table`) or a folder per label (:func:`load_folder`).

    With ``known_labels`` (a validation or test part: the training part's labels), a row with any
    other label is an error naming the file, the row and the label.
    """
    path = Path(path)
    if path.is_dir():
        rows, where = _folder_rows(path), "file"
    else:
        rows, where = _table_rows(path, (text_column, label_column)), "line"
    if known_labels is not None:
        _check_labels(rows, known_labels, str(path), where)
    return _labelled_rows(rows, str(path), where)


def load_split_table(
    path: str | Path, text_column: str, label_column: str, split_column: str
) -> dict[str, LabelledTexts]:
    """The parts of one table whose ``split_column`` says where each row belongs: ``train``,
    ``validation``/``valid``/``val``/``dev`` or ``test`` (:data:`SPLIT_NAMES`; case ignored).

    Returns ``{"train": ..., "val": ..., "test": ...}`` with the parts the table holds (train is
    required). A row of another split value, or a validation/test row whose label no training row
    has, is an error naming its line.
    """
    path = Path(path)
    rows = _table_rows(path, (text_column, label_column, split_column))
    grouped: dict[str, list[Row]] = {"train": [], "val": [], "test": []}
    for row in rows:
        value = row[3].strip()
        part = SPLIT_NAMES.get(value.lower())
        if part is None:
            raise DataError(
                f"{path}: line {row[0]} has {split_column} {value!r}; expected one of {', '.join(SPLIT_NAMES)}"
            )
        grouped[part].append(row)
    if not grouped["train"]:
        raise DataError(f"{path}: no row has {split_column} 'train' (found {sorted({row[3].strip() for row in rows})})")
    known = {label.strip() for _, _, label, *_ in grouped["train"]}
    for part in ("val", "test"):
        _check_labels(grouped[part], known, str(path), "line")
    return {
        part: _labelled_rows(part_rows, f"{path} ({split_column} {part})", "line")
        for part, part_rows in grouped.items()
        if part_rows
    }
