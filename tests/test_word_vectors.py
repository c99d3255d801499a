"""Word vectors in the text format (GloVe, word2vec, fastText .vec) and the embedding they initialise,
on small files written here."""

import gzip

import numpy as np
import pytest
import torch

from lstmkit.data import pretrained_embedding, read_word_vectors
from lstmkit.errors import DataError


def _write(path, text: str):
    path.write_bytes(text.encode("utf-8"))
    return path


def test_glove_file_without_header_keeps_only_the_words_asked_for(tmp_path):
    glove = _write(tmp_path / "glove.txt", "the 0.1 0.2 0.3\ngood 1 -2 3.5e-1\nbad -1 0 0\n")
    vectors = read_word_vectors(glove, ["good", "bad", "absent"])
    assert vectors.dim == 3 and vectors.lines == 3 and vectors.skipped == 0
    assert set(vectors.vectors) == {"good", "bad"}  # "the" was never asked for
    assert vectors.vectors["good"].tolist() == pytest.approx([1.0, -2.0, 0.35])
    assert vectors.vectors["good"].dtype == np.float32


def test_vec_file_with_header_utf8_words_and_loose_line_ends(tmp_path):
    # fastText's layout: a "count dim" header, a space after each vector, here with a BOM and CRLF ends.
    text = "3 2\r\n好 0.5 0.25 \r\n手机 -1 1 \r\n\r\n差 2 2 \r\n"
    vec = tmp_path / "zh.vec"
    vec.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    vectors = read_word_vectors(vec, ["好", "手机", "差"])
    assert vectors.dim == 2 and vectors.lines == 3
    assert vectors.vectors["手机"].tolist() == [-1.0, 1.0]
    with gzip.open(tmp_path / "zh.vec.gz", "wb") as f:
        f.write(text.encode("utf-8"))
    packed = read_word_vectors(tmp_path / "zh.vec.gz", ["好"])
    assert packed.vectors["好"].tolist() == [0.5, 0.25]


def test_words_with_spaces_and_undecodable_words(tmp_path):
    # GloVe 840B holds a few words with spaces in them (". . .") and a few that are not UTF-8.
    path = tmp_path / "glove.txt"
    path.write_bytes(b"ok 1 2\n. . . 3 4\n\xff\xfe 5 6\n")
    vectors = read_word_vectors(path, [". . .", "ok"])
    assert vectors.vectors[". . ."].tolist() == [3.0, 4.0]
    assert vectors.lines == 3 and vectors.skipped == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("a 1 2 3\nb 1 2\n", "line 2 has 2 values, expected 3 (line 1's dimension)"),
        ("a 1 2\nb 1 2 3\n", "line 2 has 3 values, expected 2 (line 1's dimension)"),
        ("2 3\na 1 2 3\nb 1 2 3 4\n", "line 3 has 4 values, expected 3 (the header's dimension)"),
        ("2 4\na 1 2 3\n", "line 2 has 3 values, expected 4 (the header's dimension)"),
        ("a 1 2\nb 1 x\n", "line 2: value 'x' is not a number"),
        ("a 1 nan\n", "line 1: the vector holds a NaN"),
        ("a\n", "line 1 holds one field"),
        ("0 0\na b\n", "line 1 is a header of dimension 0"),
        ("", "no word vectors in the file (it is empty)"),
        ("10 300\n", "no word vectors in the file (it is empty but for its header)"),
    ],
)
def test_malformed_files_are_refused_naming_file_and_line(tmp_path, text, message):
    path = _write(tmp_path / "vectors.txt", text)
    with pytest.raises(DataError) as error:
        read_word_vectors(path, ["a", "b"])
    assert str(error.value).startswith(str(path)) and message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)


def test_missing_and_binary_files_are_refused(tmp_path):
    with pytest.raises(DataError, match="word-vector file not found"):
        read_word_vectors(tmp_path / "nope.vec", ["a"])
    binary = tmp_path / "GoogleNews.bin"
    binary.write_bytes(b"1 2\na \x00\x00\x80?\x00\x00\x00@")
    with pytest.raises(DataError, match="binary word2vec files are not read"):
        read_word_vectors(binary, ["a"])


def test_pretrained_embedding_rows(tmp_path):
    rng = np.random.default_rng(0)
    found = {f"w{i}": rng.normal(0, 0.4, 8) for i in range(200)}
    path = _write(
        tmp_path / "v.txt", "".join(f"{w} " + " ".join(f"{x:.6f}" for x in v) + "\n" for w, v in found.items())
    )
    tokens = ["<pad>", "<unk>"] + list(found)[:150] + [f"new{i}" for i in range(2000)]
    vectors = read_word_vectors(path, tokens)
    weight = pretrained_embedding(tokens, vectors, padding_idx=0, generator=torch.Generator().manual_seed(0))
    assert weight.shape == (len(tokens), 8) and weight.dtype == torch.float32
    assert torch.equal(weight[0], torch.zeros(8))
    for i in (2, 100, 151):
        assert torch.allclose(weight[i], torch.tensor(found[tokens[i]], dtype=torch.float32), atol=1e-6)
    # Rows without a vector start on the scale of those with one (not at unit variance).
    pretrained_std = torch.tensor(np.stack([found[t] for t in tokens[2:152]])).std().item()
    assert weight[152:].std().item() == pytest.approx(pretrained_std, rel=0.05)
    again = pretrained_embedding(tokens, vectors, padding_idx=0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(weight, again)
