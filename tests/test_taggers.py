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


def test_jieba_is_a_reference_row_on_character_data_only():
    from lstmkit.data.tag_schemes import words_to_tags
    from lstmkit.data.tagged_corpora import TaggedSentences
    from lstmkit.tasks.tag.baselines import reference_tags, score_predicted

    def sentences(words_per_sentence, characters=True):
        tokens = tuple(tuple("".join(words)) if characters else tuple(words) for words in words_per_sentence)
        tags = tuple(tuple(words_to_tags(words, "bmes")) for words in words_per_sentence)
        return TaggedSentences(tokens, tags, "bmes", "test", characters)

    train = sentences([["我们", "喜欢", "北京"]])
    test = sentences([["我们", "喜欢", "上海"], ["北京", "很", "大"]])
    predicted = reference_tags(train, test)
    assert list(predicted) == ["jieba (reference)"]
    # one BMES tag per character of each test sentence, and the words they spell are jieba's own
    assert [len(tags) for tags in predicted["jieba (reference)"]] == [len(t) for t in test.tokens]
    assert predicted["jieba (reference)"][0][:2] == ["B", "E"]  # 我们 is one word in jieba's dictionary
    scores = score_predicted(predicted, test, {"我们", "喜欢", "北京"})
    assert 0 < scores["jieba (reference)"]["word_f1"] <= 1 and "per_tag" not in scores["jieba (reference)"]
    assert reference_tags(sentences([["a", "b"]], characters=False), sentences([["c"]], characters=False)) == {}
