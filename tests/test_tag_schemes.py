"""Tag schemes (lstmkit.data.tag_schemes): words <-> tags, spans, strict checks, CRF transition masks."""

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstmkit.data.tag_schemes import (
    SCHEMES,
    allowed_ends,
    allowed_starts,
    allowed_transitions,
    check_tags,
    infer_scheme,
    normalize_tag,
    spans_from_tags,
    tags_to_words,
    words_to_tags,
)

sys.path.insert(0, str(Path(__file__).parent / "properties"))
from repeatable import repeatable  # noqa: E402

SPAN_SCHEMES = ("bmes", "bio", "bioes")


def test_words_to_tags_in_each_scheme():
    words = ["迈向", "的", "一九九八"]
    assert words_to_tags(words, "bmes") == ["B", "E", "S", "B", "M", "M", "E"]
    assert words_to_tags(words, "bio") == ["B", "I", "B", "B", "I", "I", "I"]
    assert words_to_tags(words, "bioes") == ["B", "E", "S", "B", "I", "I", "E"]
    assert words_to_tags(words, "bmes", labels=["v", "u", "t"])[:3] == ["B-v", "E-v", "S-u"]


def test_snownlp_lowercase_bmes_is_read_as_uppercase():
    assert [normalize_tag(tag, "bmes") for tag in "bmes"] == ["B", "M", "E", "S"]
    check_tags(["b", "m", "e", "s"], "bmes")
    assert tags_to_words(list("迈向的"), ["b", "e", "s"]) == [("迈向", ""), ("的", "")]


@pytest.mark.parametrize(
    "tags, scheme, position, words",
    [
        (["O", "I-PER"], "bio", 1, ["'I-PER'", "'O'"]),
        (["B-PER", "I-LOC"], "bio", 1, ["'I-LOC'", "'B-PER'"]),
        (["I-PER"], "bio", 0, ["cannot start"]),
        (["B", "B"], "bmes", 1, ["M-LABEL or E-LABEL", "'B'"]),
        (["B-v", "E-n"], "bmes", 1, ["'B-v'", "'E-n'"]),
        (["S", "B"], "bmes", 1, ["cannot end", "'B'"]),
        (["S", "E"], "bmes", 1, ["'E'", "continues a span"]),
        (["B-PER", "E-PER", "I-PER"], "bioes", 2, ["'I-PER'"]),
        (["B-PER", "I-PER"], "bioes", 1, ["cannot end"]),
        (["S", "X"], "bmes", 1, ["'X'", "not a bmes tag"]),
        (["O-PER"], "bio", 0, ["O takes no label"]),
        (["B-"], "bio", 0, ["nothing follows"]),
    ],
)
def test_check_tags_names_the_position_the_tag_and_why(tags, scheme, position, words):
    with pytest.raises(ValueError, match=f"^position {position}: ") as caught:
        check_tags(tags, scheme)
    for word in words:
        assert word in str(caught.value)


def test_check_tags_accepts_valid_sequences():
    check_tags(["B-PER", "I-PER", "O", "B-LOC"], "bio")
    check_tags(["S-PER", "O", "B-LOC", "I-LOC", "E-LOC"], "bioes")
    check_tags(["NOUN", "VERB"], "plain")
    with pytest.raises(ValueError, match="scheme must be one of"):
        check_tags(["B"], "bmeso")


def test_lenient_spans_read_an_invalid_sequence_as_conlleval_does():
    # I after O starts a span; a label change starts another; M after E starts a new word.
    assert spans_from_tags(["O", "I-PER", "I-PER", "I-LOC", "O"], "bio") == {(1, 3, "PER"), (3, 4, "LOC")}
    assert spans_from_tags(["B", "E", "M", "E"], "bmes") == {(0, 2, ""), (2, 4, "")}
    # every B and S opens a word, so a segmenter's invalid tags still put each character in one word
    assert [word for word, _ in tags_to_words("abcd", list("BBSM"))] == ["a", "b", "c", "d"]
    assert spans_from_tags(["NOUN", "VERB"], "plain") == {(0, 1, "NOUN"), (1, 2, "VERB")}


def _may_follow(before: str, after: str, scheme: str) -> bool:
    """What check_tags says of the pair (a transition error quotes the tags: "position 1: 'B' ..."); a
    tag that continues a span is given a B of its label before it, so that only the pair is judged."""
    opener = [f"B-{before[2:]}"] if before[0] in "MEI" else []
    try:
        check_tags([*opener, before, after], scheme)
    except ValueError as exc:
        return not str(exc).startswith(f"position {len(opener) + 1}: '")
    return True


@pytest.mark.parametrize("scheme", SPAN_SCHEMES)
def test_transition_masks_match_the_strict_check(scheme):
    prefixes = {"bmes": "BMES", "bio": "BIO", "bioes": "BIOES"}[scheme]
    names = [p if p == "O" else f"{p}-{label}" for p in prefixes for label in ("v", "n")][: 2 * len(prefixes)]
    names = sorted(set(names))
    allowed = allowed_transitions(names, scheme)
    for i, before in enumerate(names):
        assert allowed_starts(names, scheme)[i] == (before[0] in {"bmes": "BS", "bio": "BO", "bioes": "BSO"}[scheme])
        assert allowed_ends(names, scheme)[i] == (before[0] in {"bmes": "ES", "bio": "BIO", "bioes": "ESO"}[scheme])
        for j, after in enumerate(names):
            assert allowed[i][j] == _may_follow(before, after, scheme), (before, after)
    if scheme == "bmes":
        assert not allowed[names.index("B-v")][names.index("E-n")]
        assert allowed[names.index("E-v")][names.index("B-n")]


def test_infer_scheme_takes_the_narrowest_fit():
    assert infer_scheme({"B-PER", "I-PER", "O"}) == "bio"
    assert infer_scheme({"B-PER", "E-PER", "S-LOC", "O"}) == "bioes"
    assert infer_scheme({"b", "m", "e", "s"}) == "bmes"
    assert infer_scheme({"NOUN", "VERB", "X"}) == "plain"


words_strategy = st.lists(st.text(alphabet="abc好的人", min_size=1, max_size=5), min_size=1, max_size=12)


@repeatable(150)
@given(words=words_strategy, scheme=st.sampled_from(SPAN_SCHEMES), labelled=st.booleans())
def test_words_round_trip_through_tags(words, scheme, labelled):
    labels = [f"L{len(word) % 3}" for word in words] if labelled else None
    tags = words_to_tags(words, scheme, labels=labels)
    check_tags(tags, scheme)
    chars = list("".join(words))
    assert len(tags) == len(chars)
    got = tags_to_words(chars, tags, scheme)
    assert [w for w, _ in got] == words
    assert [label for _, label in got] == (labels or [""] * len(words))


@repeatable(150)
@given(tags=st.lists(st.sampled_from(["B-A", "I-A", "E-A", "S-A", "B-B", "I-B", "O"]), max_size=15))
def test_every_tag_sits_in_at_most_one_span_and_spans_do_not_overlap(tags):
    spans = sorted(spans_from_tags(tags, "bioes"))
    covered = [i for start, end, _ in spans for i in range(start, end)]
    assert len(covered) == len(set(covered))
    assert all(tags[i] != "O" for i in covered)
    assert set(covered) == {i for i, tag in enumerate(tags) if tag != "O"}


def test_every_scheme_is_listed():
    assert set(SCHEMES) == {"bmes", "bio", "bioes", "plain"}
