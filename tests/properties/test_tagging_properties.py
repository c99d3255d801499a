"""Properties of the tagging scores and the maximum-matching segmenter (hypothesis): scores agree with
independent definitions, and segmentations join back to their text."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from repeatable import repeatable

from lstmkit.baselines.segmenters import MaxMatchSegmenter
from lstmkit.tagging_metrics import per_tag_report, segmentation_scores, span_scores, tag_accuracy, word_spans


@st.composite
def two_segmentations(draw):
    """A text and two segmentations of it, as word lists; the text's characters are few, so words repeat."""
    text = draw(st.text(alphabet="abc", min_size=1, max_size=12))
    cuts = [draw(st.sets(st.integers(1, len(text) - 1))) if len(text) > 1 else set() for _ in range(2)]

    def words(bounds):
        edges = [0, *sorted(bounds), len(text)]
        return [text[a:b] for a, b in zip(edges, edges[1:])]

    return words(cuts[0]), words(cuts[1])


@repeatable(60)
@given(st.lists(two_segmentations(), min_size=1, max_size=3), st.sets(st.text(alphabet="abc", min_size=1, max_size=3)))
def test_segmentation_scores_properties(pairs, train_words):
    gold, predicted = [g for g, _ in pairs], [p for _, p in pairs]
    scores = segmentation_scores(gold, predicted, train_words)
    # A gold word is found iff both its ends are predicted boundaries and no predicted boundary lies inside.
    expected = 0
    for gold_words, predicted_words in zip(gold, predicted):
        bounds = {end for _, end, _ in word_spans(predicted_words)} | {0}
        for start, end, _ in word_spans(gold_words):
            expected += start in bounds and end in bounds and not any(start < b < end for b in bounds)
    assert scores["correct_words"] == expected
    swapped = segmentation_scores(predicted, gold)
    assert (swapped["precision"], swapped["recall"], swapped["f1"]) == (
        scores["recall"],
        scores["precision"],
        scores["f1"],
    )
    assert segmentation_scores(gold, gold)["f1"] == 1.0
    # Recall is the OOV and IV recalls weighted by their shares of the gold words.
    oov_share = scores["oov_rate"]
    parts = [(oov_share, scores["oov_recall"]), (1 - oov_share, scores["iv_recall"])]
    assert scores["recall"] == pytest.approx(sum(share * (recall or 0.0) for share, recall in parts))


@repeatable(60)
@given(
    st.lists(st.lists(st.tuples(st.sampled_from("xyz"), st.sampled_from("xyz")), max_size=6), min_size=1, max_size=4)
)
def test_tag_accuracy_is_the_support_weighted_recall(sentences):
    gold = [[g for g, _ in sentence] for sentence in sentences]
    predicted = [[p for _, p in sentence] for sentence in sentences]
    if not any(gold):
        with pytest.raises(ValueError, match="gold holds no tags"):
            tag_accuracy(gold, predicted)
        return
    report = per_tag_report(gold, predicted)
    total = sum(row["support"] for row in report.values())
    weighted = sum(row["recall"] * row["support"] for row in report.values()) / total
    assert tag_accuracy(gold, predicted) == pytest.approx(weighted)
    spans = [{(i, i + 1, tag) for i, tag in enumerate(sentence)} for sentence in gold]
    guesses = [{(i, i + 1, tag) for i, tag in enumerate(sentence)} for sentence in predicted]
    # One-token spans: span recall is token accuracy, and the per-label rows agree with the tag report.
    assert span_scores(spans, guesses)["recall"] == pytest.approx(weighted)
    assert span_scores(spans, guesses)["per_label"] == report


@repeatable(40)
@given(st.text(alphabet="abcd", max_size=15), st.lists(st.text(alphabet="abcd", min_size=1, max_size=4)))
def test_max_match_words_join_back_to_the_text(text, words):
    for direction in ("forward", "backward", "bidirectional"):
        segmented = MaxMatchSegmenter(words, direction, max_word_len=3).segment(text)
        assert "".join(segmented) == text
        assert all(word in words or len(word) == 1 for word in segmented)
