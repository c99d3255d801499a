"""Properties of the data-file readers (hypothesis): random bytes either load or raise lstmkit's own error.

Each reader a user points at a file (sentiment tables, translation pairs, LM text, forecast series)
gets random bytes and near-valid tables built from the pieces such files are made of. Any exception
other than :class:`~lstmkit.errors.LstmkitError` (a UnicodeDecodeError, a pandas ValueError...) is a defect.
"""

import warnings

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from repeatable import repeatable

from lstmkit.data.char_text import read_text_file
from lstmkit.data.pairs import read_pairs
from lstmkit.data.series import load_series_csv
from lstmkit.data.tagged_corpora import read_tagged_file
from lstmkit.data.user_files import load_labelled, load_split_table, load_table
from lstmkit.data.word_vectors import read_word_vectors
from lstmkit.errors import DataError, LstmkitError

PIECES = [
    "text", "label", "/", "B-PER", "I-PER", "O", "b", "e", "#", "1-2", "1\t",
    "date", "load", ",", "\t", ";", "|", "\n", "\r\n", '"', " ", "\x00", "é", "好", "{", "}", "[",
    "]", ":", "null", "1", "-2.5", "nan", "inf", "2021-03-01", "2021-03-01 01:00", "2021-03-01T02:00+05:00", "\ufeff",
]  # fmt: skip
pieced = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
payloads = st.one_of(
    st.binary(max_size=200),
    pieced.map(str.encode),
    pieced.map(lambda rows: ("text,label\n" + rows).encode()),
    pieced.map(lambda rows: ("date,load\n" + rows).encode()),
)
READERS = {
    "reviews.csv": load_table,
    "reviews.tsv": load_table,
    "reviews.txt": load_table,
    "reviews.jsonl": load_table,
    "pairs.tsv": read_pairs,
    "text.txt": read_text_file,
    "series.csv": lambda path: load_series_csv(path, targets=["load"]),
    "test.csv": lambda path: load_labelled(path, known_labels={"1", "label"}),
    "split.csv": lambda path: load_split_table(path, "text", "label", "label"),
    "vectors.vec": lambda path: read_word_vectors(path, ["text", "label", "好", "1"]),
    "tagged.txt": read_tagged_file,
    "tagged.conll": lambda path: read_tagged_file(path, scheme="bio"),
    "tagged.conllu": lambda path: read_tagged_file(path, tag_column="LEMMA"),
}


@pytest.mark.parametrize("name", sorted(READERS))
@repeatable(examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])  # one file, rewritten
@given(payload=payloads)
def test_data_readers_load_or_raise_lstmkit_errors(name, payload, tmp_path):
    path = tmp_path / name
    path.write_bytes(payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped empty rows are announced; not what this checks
        try:
            READERS[name](path)
        except LstmkitError as error:
            assert str(error)


def test_dates_in_different_time_zones_are_a_data_error(tmp_path):
    # pandas refuses rows whose time zones differ with a ValueError that named no column.
    path = tmp_path / "series.csv"
    path.write_text("date,load\n2021-03-01T00:00+05:00,1\n2021-03-01T01:00+00:00,2\n2021-03-01T02:00,3\n")
    with pytest.raises(DataError, match="date column 'date': cannot read the dates: Mixed timezones"):
        load_series_csv(path, targets=["load"])
