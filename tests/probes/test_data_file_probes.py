"""Bad data files, per file kind each task reads: each is refused before training, as one line
``error: ...`` naming the file and what is wrong in it, exit code 2, nothing written (issue 15).
A byte-order mark is not an error: it is read past, never kept as a token or in a column name.

A case is ``(task, name, content, words)``: the file ``name`` holding ``content`` (text is written as
UTF-8, bytes as they are; ``MISSING``: no file, ``FOLDER``: a folder of that name) given to
``train TASK --data``, and the words the error must hold (the file's name is always checked).
"""

from __future__ import annotations

import json

import pytest
from cli_helpers import invoke, run_cli
from probe import assert_refused, snapshot
from tiny_data import lm_text, pair_lines, review_rows, series_lines

MISSING, FOLDER = object(), object()
GBK = "这个东西很好,positive\n".encode("gbk")
BOM = "\ufeff"


def csv_rows(rows, header="text,label", sep=","):
    return "\n".join([header] + [f"{text}{sep}{label}" for text, label in rows]) + "\n"


def jsonl(rows, text="text", label="label"):
    return "".join(json.dumps({text: t, label: lab}, ensure_ascii=False) + "\n" for t, lab in rows)


REVIEWS = review_rows(120)
MIXED = [(text, ("0", "1", "positive", "negative")[i % 4]) for i, (text, _) in enumerate(REVIEWS)]
SERIES = series_lines()


def series_with(row: int, value: str) -> str:
    """The valid series with the load of data row ``row`` replaced by ``value``."""
    lines = list(SERIES)
    date, _, temp = lines[row + 1].split(",")
    lines[row + 1] = f"{date},{value},{temp}"
    return "\n".join(lines) + "\n"


SENTIMENT = [
    ("reviews.csv", MISSING, ["neither"]),
    ("reviews.csv", "", ["empty"]),
    ("reviews.csv", "text,label\n", ["no data rows"]),
    ("reviews.csv", b"text,label\n" + GBK * 60, ["UTF-8"]),
    ("reviews.csv", csv_rows(REVIEWS, header="review,sentiment"), ["column", "'text'"]),
    ("reviews.csv", csv_rows(REVIEWS, header="text,category"), ["column", "'label'"]),
    ("reviews.csv", csv_rows([(t, "positive") for t, _ in REVIEWS]), ["2 classes", "positive"]),
    ("reviews.csv", csv_rows(MIXED), ["label", "'0'", "'positive'"]),
    ("reviews.csv", csv_rows(REVIEWS[:4]), ["too small"]),
    ("reviews.csv", csv_rows([(t, "") for t, _ in REVIEWS]), ["empty label"]),
    ("reviews.csv", csv_rows([("", lab) for _, lab in REVIEWS]), ["empty"]),
    ("reviews.csv", csv_rows([("很好" * 70_000, "positive"), *REVIEWS]), ["line 2", "131,072", ".jsonl"]),
    ("reviews.tsv", csv_rows(REVIEWS, header="text\tcategory", sep="\t"), ["column", "'label'"]),
    ("reviews.tsv", "text\tlabel\n", ["no data rows"]),
    ("reviews.tsv", csv_rows(MIXED, header="text\tlabel", sep="\t"), ["label", "'0'", "'positive'"]),
    ("reviews.jsonl", jsonl(REVIEWS) + "{not json\n", ["line 121", "JSON"]),
    ("reviews.jsonl", jsonl(REVIEWS) + "[1, 2]\n", ["line 121", "JSON object"]),
    ("reviews.jsonl", jsonl(REVIEWS, label="sentiment"), ["'label'"]),
    ("reviews.jsonl", jsonl(MIXED), ["label", "'0'", "'positive'"]),
    (
        "reviews.jsonl",
        "".join(json.dumps({"text": t, "label": i % 2}) + "\n" for i, (t, _) in enumerate(MIXED))
        + json.dumps({"text": "好", "label": "positive"})
        + "\n",
        ["label", "'positive'"],
    ),  # fmt: skip
    ("reviews.xlsx", csv_rows(REVIEWS), ["unsupported", ".xlsx"]),
    ("reviews", FOLDER, ["folder"]),
]

TRANSLATE = [
    ("pairs.tsv", MISSING, ["neither"]),
    ("pairs.tsv", FOLDER, ["neither"]),
    ("pairs.tsv", "", ["no"]),
    ("pairs.tsv", "\n\n  \n", ["no"]),
    ("pairs.tsv", b"the cat\t\xcc\xe7\n" * 50, ["UTF-8"]),
    ("pairs.tsv", "the cat eats\n" * 50, ["tab"]),
    ("pairs.tsv", "\n".join(pair_lines(3)) + "\n", ["pairs"]),
    ("pairs.tsv", "\n".join(f"the cat\t{'猫' * 200}" for _ in range(60)) + "\n", ["too small"]),
]

FORECAST = [
    ("load.csv", MISSING, ["neither"]),
    ("load.csv", FOLDER, ["neither"]),
    ("load.csv", "", ["empty"]),
    ("load.csv", "date,load,temp\n", ["no data rows"]),
    ("load.csv", "\n".join(SERIES[:50]).encode() + "\n2021-03-03 02:00,中文,1\n".encode("gbk"), ["UTF-8"]),
    ("load.csv", "\n".join(SERIES).replace("date,load,temp", "date,demand,temp") + "\n", ["'load'"]),
    ("load.csv", series_with(5, "nan"), ["load", "row"]),
    ("load.csv", series_with(5, ""), ["load", "row"]),
    ("load.csv", series_with(5, "inf"), ["load", "row"]),
    ("load.csv", series_with(5, "-inf"), ["load", "row"]),
    ("load.csv", series_with(5, "1e308"), ["load", "row"]),
    ("load.csv", series_with(5, "abc"), ["load", "not a number", "row"]),
    ("load.csv", "\n".join([*SERIES[:6], SERIES[5], *SERIES[6:]]) + "\n", ["duplicate", "row"]),
    ("load.csv", "\n".join([SERIES[0], "yesterday,1,2", *SERIES[2:]]) + "\n", ["date"]),
    ("load.csv", "\n".join(SERIES[:20]) + "\n", ["steps"]),
]

LM = [
    ("text.txt", MISSING, ["neither"]),
    ("text.txt", FOLDER, ["neither"]),
    ("text.txt", "", ["no text"]),
    ("text.txt", " \n\t\n", ["no text"]),
    ("text.txt", lm_text().encode("gbk") + "中文".encode("gbk"), ["UTF-8"]),
    ("text.txt", "short text.\n", ["short"]),
]

TAG = [
    ("tagged.txt", MISSING, ["neither"]),
    ("tagged.txt", FOLDER, ["neither"]),
    ("tagged.txt", "", ["empty file"]),
    ("tagged.txt", "\n \n", ["empty file"]),
    ("tagged.txt", "北/b 京/e\n人 民/s\n", ["line 2", "'人'", "token/TAG"]),
    ("tagged.txt", "北/b 京/m\n", ["line 1", "'m'", "cannot end"]),
    ("tagged.txt", "北/s 京/s\n南/s 京/s\n", ["2 sentences", "empty"]),
    ("tagged.txt", "北/s 京/s\n".encode("gbk"), ["UTF-8"]),
    ("ner.conll", "Tom O\nLee I-PER\n", ["line 2", "'I-PER'", "'O'"]),
    ("ner.conll", "Tom B-PER\nLee\n", ["line 2", "without a tag"]),
    ("pos.conllu", "# c\n1\tTom\tTom\n", ["line 2", "--tag-column 3", "out of range", "3 columns"]),
    ("pos.conllu", "# only a comment\n", ["empty file"]),
]


CASES = [("sentiment", *c) for c in SENTIMENT] + [("translate", *c) for c in TRANSLATE]
CASES += [("forecast", *c) for c in FORECAST] + [("lm", *c) for c in LM] + [("tag", *c) for c in TAG]
OPTIONS = {"translate": ["--src", "en", "--tgt", "zh"], "forecast": ["--target", "load"]}


def _write(path, content):
    if content is FOLDER:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not MISSING:
        path.write_text(content, encoding="utf-8")
    return path


def _ids(cases):
    return [f"{c[0]}:{c[1]}:{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize("task, name, content, words", CASES, ids=_ids(CASES))
def test_train_refuses_a_bad_data_file(task, name, content, words, tmp_path, no_training):
    data = _write(tmp_path / name, content)
    before = snapshot(tmp_path)
    result = invoke("train", task, "--data", data, *OPTIONS.get(task, []), "--out", tmp_path / "run")
    assert_refused(result, name, *words, root=tmp_path, before=before)


def test_bigrams_on_a_file_tagged_by_words_are_refused(tmp_path, no_training):
    data = _write(tmp_path / "words.txt", "Tom/B-PER went/O\n")
    before = snapshot(tmp_path)
    result = invoke("train", "tag", "--data", data, "--bigrams", "--out", tmp_path / "run")
    assert_refused(result, "--bigrams", "words.txt", "characters", root=tmp_path, before=before)


def test_the_real_entry_point_refuses_a_bad_file_the_same_way(tmp_path):
    data = _write(tmp_path / "load.csv", series_with(5, "1e308"))
    before = snapshot(tmp_path)
    args = ["train", "forecast", "--data", data, "--target", "load", "--out", tmp_path / "run"]
    line = assert_refused(run_cli(*args), "load.csv", "row", root=tmp_path, before=before)
    assert line == assert_refused(invoke(*args), root=tmp_path, before=before)


# -- a byte-order mark is read past ---------------------------------------------------------------


def test_a_sentiment_file_with_a_bom_is_read_as_without(tmp_path):
    from lstmkit.tasks.sentiment import SentimentConfig
    from lstmkit.tasks.sentiment.data import load_data

    for name, content in (("r.csv", csv_rows(REVIEWS)), ("r.tsv", csv_rows(REVIEWS, "text\tlabel", "\t")),
                          ("r.jsonl", jsonl(REVIEWS))):  # fmt: skip
        plain, marked = _write(tmp_path / name, content), _write(tmp_path / f"bom-{name}", BOM + content)
        split, _, _ = load_data(SentimentConfig(data=str(marked)))
        expected, _, _ = load_data(SentimentConfig(data=str(plain)))
        assert split.train.texts == expected.train.texts and split.test.labels == expected.test.labels
        assert not any(BOM in text for text in split.train.texts)


def test_a_text_with_a_bom_does_not_make_it_a_character(tmp_path):
    from lstmkit.data.char_text import read_text_file

    text = read_text_file(_write(tmp_path / "text.txt", BOM + lm_text()))
    assert BOM not in text and text == lm_text()


def test_a_series_with_a_bom_keeps_its_column_names(tmp_path):
    from lstmkit.data.series import load_series_csv

    series = load_series_csv(_write(tmp_path / "load.csv", BOM + "\n".join(SERIES) + "\n"), ["load"])
    assert series.target_names == ("load",) and len(series.targets) == len(SERIES) - 1


def test_pairs_with_a_bom_do_not_start_with_it(tmp_path):
    from lstmkit.data.pairs import read_pairs

    pairs = read_pairs(_write(tmp_path / "pairs.tsv", BOM + "\n".join(pair_lines(20)) + "\n"))
    assert pairs.sources[0] == pair_lines(20)[0].split("\t")[0]


def test_a_text_of_one_very_long_line_is_read(tmp_path):
    from lstmkit.data.char_text import read_text_file, split_text

    line = lm_text().replace("\n", " ") * 60
    train, val, test = split_text(read_text_file(_write(tmp_path / "one-line.txt", line)))
    assert train + val + test == line and len(line) > 100_000
