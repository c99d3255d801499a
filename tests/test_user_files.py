"""Users' own labelled files: validation/test files checked against the training labels, a split
column, and the split assembled from the parts given."""

import hashlib
import json

import pytest

from lstmkit.data import LabelledTexts, assemble_split, load_labelled, load_split_table, md5_split
from lstmkit.errors import DataError


def _table(path, rows, header=("text", "label")):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bucket(text: str) -> int:
    return int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 10


def test_a_label_training_lacks_is_named_with_its_file_and_line(tmp_path):
    dev = _table(tmp_path / "dev.csv", [("good", "pos"), ("bad", "neg"), ("meh", "neutral"), ("so so", "neutral")])
    assert load_labelled(dev, known_labels={"pos", "neg", "neutral"}).classes == ("neg", "neutral", "pos")
    with pytest.raises(DataError) as error:
        load_labelled(dev, known_labels={"pos", "neg"})
    message = str(error.value)
    assert message.startswith(f"{dev}: line 4 has label 'neutral'") and "['neg', 'pos']" in message, message
    assert "1 more" in message
    folder = tmp_path / "test"
    for label, text in (("pos", "good"), ("neg", "bad"), ("mixed", "hm")):
        (folder / label).mkdir(parents=True)
        (folder / label / "a.txt").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="file mixed/a.txt has label 'mixed'"):
        load_labelled(folder, known_labels={"pos", "neg"})


def test_a_split_column_assigns_each_row_its_part(tmp_path):
    rows = [("good", "pos", "train"), ("bad", "neg", "TRAIN"), ("fine", "pos", " Validation "),
            ("awful", "neg", "dev"), ("great", "pos", "test"), ("poor", "neg", "test")]  # fmt: skip
    table = _table(tmp_path / "all.csv", rows, header=("text", "label", "split"))
    parts = load_split_table(table, "text", "label", "split")
    assert {part: data.texts for part, data in parts.items()} == {
        "train": ("good", "bad"),
        "val": ("fine", "awful"),
        "test": ("great", "poor"),
    }
    jsonl = tmp_path / "all.jsonl"
    jsonl.write_text("\n".join(json.dumps({"t": t, "y": y, "s": s}) for t, y, s in rows[:4]), encoding="utf-8")
    assert set(load_split_table(jsonl, "t", "y", "s")) == {"train", "val"}  # no test rows: carved later


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("good", "pos", "train"), ("bad", "neg", "holdout")], "line 3 has split 'holdout'; expected one of train,"),
        ([("good", "pos", "test"), ("bad", "neg", "test")], "no row has split 'train'"),
        ([("good", "pos", "train"), ("bad", "neg", "train"), ("hm", "mixed", "test")], "line 4 has label 'mixed'"),
    ],
)
def test_bad_split_columns_are_named(tmp_path, rows, message):
    table = _table(tmp_path / "all.csv", rows, header=("text", "label", "split"))
    with pytest.raises(DataError, match=message):
        load_split_table(table, "text", "label", "split")
    with pytest.raises(DataError, match="missing column 'part'"):
        load_split_table(table, "text", "label", "part")


def _texts(n: int, label_of=lambda i: "pos" if i % 2 else "neg") -> LabelledTexts:
    return LabelledTexts([f"text {i}" for i in range(n)], [label_of(i) for i in range(n)])


def test_missing_parts_are_carved_by_md5_and_given_ones_kept_whole():
    train, test = _texts(200), LabelledTexts(["held out a", "held out b"], ["pos", "neg"])
    split = assemble_split({"train": train, "test": test}, {"train": "train.csv", "test": "test.csv"})
    assert split.test == test
    assert list(split.val.texts) == [t for t in train.texts if _bucket(t) == 1]
    assert list(split.train.texts) == [t for t in train.texts if _bucket(t) != 1]
    assert split.sources == {
        "train": "train.csv, texts with md5(text) % 10 not in [1]",
        "val": "train.csv, texts with md5(text) % 10 == 1",
        "test": "test.csv",
    }
    # Without given parts, the same split md5_split has always made: 0 -> test, 1 -> val, 2-9 -> train.
    whole = md5_split(train)
    assert list(whole.test.texts) == [t for t in train.texts if _bucket(t) == 0]
    assert list(whole.train.texts) == [t for t in train.texts if _bucket(t) >= 2]


def test_no_text_sits_in_two_parts():
    train = _texts(10)
    val = LabelledTexts(["text 1", "text 2", "new"], ["pos", "neg", "pos"])
    test = LabelledTexts(["text 2", "text 3", "other"], ["neg", "pos", "neg"])
    split = assemble_split({"train": train, "val": val, "test": test}, {"train": "a", "val": "b", "test": "c"})
    assert set(split.train.texts) == {f"text {i}" for i in range(10)} - {"text 1", "text 2", "text 3"}
    assert split.val.texts == ("text 1", "new") and split.test == test
    assert split.sources == {
        "train": "a, less 3 texts that validation or test also holds",
        "val": "b, less 1 text that test also holds",
        "test": "c",
    }


def test_a_csv_field_past_the_csv_readers_limit_is_refused_with_what_to_use_instead(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("text,label\nshort,pos\n" + "很长" * 70_000 + ",neg\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"long.csv: a field near line 3 is longer than the 131,072 .*\.jsonl"):
        load_labelled(path)
