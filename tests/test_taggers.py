"""lstmkit.baselines.taggers: the most-frequent-tag baseline and its rule for unseen words."""

import pytest

from lstmkit.baselines.taggers import MostFrequentTagger, word_shape

TRAIN = [
    [("我", "r"), ("爱", "v"), ("北京", "ns"), ("１２月", "t")],
    [("爱", "v"), ("人", "n"), ("，", "w")],
    [("爱", "n"), ("。", "w"), ("！", "w"), ("Smith", "nx")],
    [("他", "r"), ("他", "r"), ("？", "w")],
]


def test_known_words_get_their_most_frequent_tag():
    tagger = MostFrequentTagger().fit(TRAIN)
    assert tagger.tag(["爱", "他", "北京"]) == ["v", "r", "ns"]  # 爱: v twice, n once


def test_unseen_words_get_the_tag_of_hapax_words_of_their_shape():
    tagger = MostFrequentTagger().fit(TRAIN)
    assert word_shape("１９９８年") == ("digit", "other", False)
    assert tagger.tag(["１９９８年", "；", "Jones"]) == ["t", "w", "nx"]
    # No hapax starts with a lower-case latin letter: the most frequent tag over all tokens (w, 4 times).
    assert tagger.default_tag == "w"
    assert tagger.tag(["abc"]) == ["w"]


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="not fitted"):
        MostFrequentTagger().tag(["我"])
    with pytest.raises(ValueError, match=r"sentence 1, item 0: expected a \(word, tag\) pair with a non-empty word"):
        MostFrequentTagger().fit([[("我", "r")], [("", "r")]])
    with pytest.raises(ValueError, match="no \\(word, tag\\) pair"):
        MostFrequentTagger().fit([[], []])
    with pytest.raises(ValueError, match=r"words\[1\] must be a non-empty string, got ''"):
        MostFrequentTagger().fit(TRAIN).tag(["我", ""])
