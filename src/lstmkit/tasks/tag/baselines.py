"""The baselines a tagger is scored beside, each predicting tags for the same test sentences.

- character data (Chinese): maximum matching against the training words (both directions, the fewer
  words kept) and a character CRF over n-gram features (python-crfsuite), each segmenting the raw
  test text; with POS (pku-pos) each segmenter's words then get their most frequent training tag;
- word data (CoNLL files, token/TAG lines): each token's most frequent training tag.
"""

from __future__ import annotations

from lstmkit.baselines import CharCRFSegmenter, JiebaSegmenter, MaxMatchSegmenter, MostFrequentTagger
from lstmkit.data.tag_schemes import parse_tag, tags_to_words, words_to_tags
from lstmkit.data.tagged_corpora import TaggedSentences
from lstmkit.tasks.tag.scores import score_tags

__all__ = ["CRF_ITERATIONS", "baseline_tags", "baseline_scores", "reference_tags", "score_predicted"]

# Enough for a quick run's CRF; a benchmark on all of pku-seg passes more (crfsuite stops earlier
# where the objective has settled).
CRF_ITERATIONS = 100


def _segmenters(train: TaggedSentences, words: set[str], crf_iterations: int) -> dict:
    positions = [
        (tokens, [parse_tag(tag, train.scheme)[0] for tag in tags]) for tokens, tags in zip(train.tokens, train.tags)
    ]
    return {
        "max-match": MaxMatchSegmenter(words, direction="bidirectional"),
        "char-crf": CharCRFSegmenter().fit(positions, max_iterations=crf_iterations),
    }


def baseline_tags(
    train: TaggedSentences, test: TaggedSentences, words: set[str], crf_iterations: int = CRF_ITERATIONS
) -> dict[str, list[list[str]]]:
    """Each baseline's tags for ``test`` (spelt as ``train``'s), by the name tables show; ``words`` are
    the training words, ``crf_iterations`` bounds the character CRF's L-BFGS iterations."""
    if not train.characters:
        tagger = MostFrequentTagger().fit([list(zip(tokens, tags)) for tokens, tags in zip(train.tokens, train.tags)])
        return {"most-frequent-tag": [tagger.tag(tokens) for tokens in test.tokens]}
    return _segmented_tags(_segmenters(train, words, crf_iterations), train, test)


def reference_tags(train: TaggedSentences, test: TaggedSentences) -> dict[str, list[list[str]]]:
    """``{"jieba (reference)": tags}`` for character data (``{}`` for word data): jieba's own dictionary
    and HMM segmenting ``test``. A reference, not a baseline: jieba follows its own segmentation standard,
    not PKU's, and its dictionary was built from other text (which may include this corpus), so its
    score is neither a fair bar nor a clean held-out figure."""
    if not train.characters:
        return {}
    return {
        f"{name} (reference)": tags for name, tags in _segmented_tags({"jieba": JiebaSegmenter()}, train, test).items()
    }


def _segmented_tags(segmenters: dict, train: TaggedSentences, test: TaggedSentences) -> dict[str, list[list[str]]]:
    """Each segmenter's BMES tags of ``test``'s raw text; where ``train`` has labels (pku-pos), each word
    found also gets its most frequent training label."""
    labelled = [tags_to_words(tokens, tags, train.scheme) for tokens, tags in zip(train.tokens, train.tags)]
    tagger = None
    if any(label for sentence in labelled for _, label in sentence):
        tagger = MostFrequentTagger().fit(labelled)
    predicted = {}
    for name, segmenter in segmenters.items():
        rows = []
        for tokens in test.tokens:
            found = segmenter.segment("".join(tokens))
            rows.append(words_to_tags(found, "bmes", labels=tagger.tag(found) if tagger else None))
        predicted[f"{name} + most-frequent-tag" if tagger else name] = rows
    return predicted


def baseline_scores(
    train: TaggedSentences, test: TaggedSentences, words: set[str], crf_iterations: int = CRF_ITERATIONS
) -> dict[str, dict]:
    """Each baseline's scores on ``test`` (:func:`score_tags`' without the per-tag and per-label reports)."""
    return score_predicted(baseline_tags(train, test, words, crf_iterations), test, words)


def score_predicted(predicted: dict[str, list[list[str]]], test: TaggedSentences, words: set[str]) -> dict[str, dict]:
    """:func:`score_tags` of each name's ``predicted`` tags of ``test``, without the per-tag and per-label
    reports; ``words`` are the training words (for OOV recall)."""
    scores = {}
    for name, tags in predicted.items():
        scored = score_tags(test.tokens, test.tags, tags, test.scheme, test.characters, words)
        scores[name] = {key: value for key, value in scored.items() if key not in ("per_tag", "per_label")}
    return scores
