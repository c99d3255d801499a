"""lstmkit.baselines.segmenters: maximum matching, the character CRF and the jieba reference."""

import random

import pytest

from lstmkit.baselines.segmenters import (
    CharCRFSegmenter,
    JiebaSegmenter,
    MaxMatchSegmenter,
    char_class,
)
from lstmkit.tagging_metrics import segmentation_scores

WORDS = ["我们", "喜欢", "北京", "天安门", "的", "是", "中国", "人民", "研究生", "生命", "起源", "１９９８年", "，"]


def bmes(words: list[str]) -> list[str]:
    return [tag for word in words for tag in (["s"] if len(word) == 1 else ["b", *"m" * (len(word) - 2), "e"])]


def sentences(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(2, 6))] for _ in range(count)]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("forward", ["研究生", "命", "的", "起源"]),
        ("backward", ["研究", "生命", "的", "起源"]),
        ("bidirectional", ["研究", "生命", "的", "起源"]),  # as many words; fewer single characters
    ],
)
def test_max_match_directions_by_hand(direction, expected):
    segmenter = MaxMatchSegmenter(["研究", "研究生", "生命", "起源", "的"], direction)
    assert segmenter.segment("研究生命的起源") == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["ABCD", "DE"], ["ABCD", "E"]),  # forward has fewer words (backward: A B C DE)
        (["AB", "BCDE"], ["A", "BCDE"]),  # backward has fewer words (forward: AB C D E)
        (["AB", "CD", "BCD"], ["AB", "CD"]),  # as many words, forward has fewer single characters
    ],
)
def test_bidirectional_max_match_prefers_fewer_words_then_fewer_singles(words, expected):
    text = "".join(expected)
    assert MaxMatchSegmenter(words, "bidirectional").segment(text) == expected


def test_char_classes():
    assert [char_class(c) for c in "１9aＡ，%中"] == ["digit", "digit", "latin", "latin", "punct", "punct", "other"]


def test_char_crf_learns_to_segment_unseen_sentences():
    train, test = sentences(50, seed=0), sentences(30, seed=1)
    segmenter = CharCRFSegmenter().fit(
        [("".join(words), bmes(words)) for words in train], c1=0.05, c2=0.01, max_iterations=40
    )
    predicted = [segmenter.segment("".join(words)) for words in test]
    assert segmentation_scores(test, predicted)["f1"] > 0.95
    single_characters = [list("".join(words)) for words in test]
    assert segmentation_scores(test, single_characters)["f1"] < 0.5  # the task is not trivial
    upper = CharCRFSegmenter().fit(
        [(list("".join(w)), [t.upper() for t in bmes(w)]) for w in train[:10]], max_iterations=5
    )
    assert set(upper.predict("我们喜欢北京")) <= set("BMES")
    assert segmenter.predict("") == []


def test_char_crf_errors():
    with pytest.raises(ValueError, match="not fitted"):
        CharCRFSegmenter().segment("中国")
    with pytest.raises(
        ValueError, match="sentence 1: tags must have one entry per character .* got 2 characters and 1 tags"
    ):
        CharCRFSegmenter().fit([("中", ["s"]), ("中国", ["s"])])
    with pytest.raises(ValueError, match="c1 must be a number >= 0"):
        CharCRFSegmenter().fit([("中", ["s"])], c1=-1)
    with pytest.raises(ValueError, match="sentences is empty"):
        CharCRFSegmenter().fit([])


def test_max_match_errors():
    with pytest.raises(
        ValueError, match=r"direction must be one of \('forward', 'backward', 'bidirectional'\), got 'both'"
    ):
        MaxMatchSegmenter(["ab"], "both")
    with pytest.raises(ValueError, match="max_word_len must be a positive int, got 0"):
        MaxMatchSegmenter(["ab"], max_word_len=0)
    with pytest.raises(TypeError, match="text must be a str, got list"):
        MaxMatchSegmenter(["ab"]).segment(["ab"])


def test_jieba_reference_segments_into_words():
    pytest.importorskip("jieba")
    words = JiebaSegmenter().segment("我们喜欢北京天安门")
    assert "".join(words) == "我们喜欢北京天安门"
    assert "天安门" in words
