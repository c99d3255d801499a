"""A tagging run's data: its sentences and parts, the vocabularies, batches, and raw text as tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lstmkit.data import Vocab
from lstmkit.data.batching import BucketBatchSampler, pad_sequences
from lstmkit.data.bigrams import BIGRAM_END, BIGRAMS, bigrams_of, build_bigram_vocab
from lstmkit.data.registry import find_dataset
from lstmkit.data.tagged_corpora import TaggedSentences, cut_sentence, read_tagged_file, split_sentences
from lstmkit.errors import DataError
from lstmkit.heads.char_encoder import word_characters
from lstmkit.io import load_json, write_json
from lstmkit.runs import VOCAB, read_run_config
from lstmkit.tasks.tag.config import NAME, REGISTERED_SCHEME, TagConfig
from lstmkit.tasks.tag.scores import words_in

__all__ = [
    "BIGRAMS",
    "BIGRAM_END",
    "CHARS",
    "pad_words",
    "DICTIONARY",
    "DICTIONARY_MAX_LENGTH",
    "DICTIONARY_PATTERNS",
    "dictionary_patterns",
    "dictionary_words",
    "train_words",
    "read_dictionary",
    "write_dictionary",
    "TagData",
    "TokenEncoder",
    "bigrams_of",
    "load_sentences",
    "prepare_data",
    "text_tokens",
    "batches",
]


def load_sentences(config: TagConfig) -> TaggedSentences:
    """``config.data``'s tagged sentences (the first ``max_sentences``), checked in ``config.scheme``."""
    found = find_dataset(config.data, NAME, ("a tagged file", "a tagging data set"))
    if isinstance(found, Path):
        sentences = read_tagged_file(found, config.scheme, config.token_column, config.tag_column)
    else:
        if config.scheme not in ("auto", REGISTERED_SCHEME):
            raise DataError(
                f"--scheme {config.scheme}: {config.data} is tagged in {REGISTERED_SCHEME}, not {config.scheme}"
            )
        if config.token_column or config.tag_column:
            raise DataError(f"--token-column/--tag-column choose columns of a CoNLL file, not of {config.data}")
        sentences = found.loader()
    if config.max_sentences is not None:
        sentences = sentences.subset(range(min(config.max_sentences, len(sentences))))
    return sentences


CHARS = "chars.json"  # the run's character vocabulary (with a character encoder)
_CHAR_MIN_FREQ = 2  # as for bigrams: a character seen once is <unk>, which trains <unk> for unseen ones

DICTIONARY = "dictionary.json"  # the run's training words of 2..DICTIONARY_MAX_LENGTH characters
DICTIONARY_MAX_LENGTH = 4  # longer words add few matches (Zhang et al. 2018 stop at 4 or 5)
# Per word length k = 2..DICTIONARY_MAX_LENGTH, three bits: a word of k characters starts at, ends at, or
# passes through the character; pattern 0 (no word) is id 1, as id 0 pads.
DICTIONARY_PATTERNS = 2 ** (3 * (DICTIONARY_MAX_LENGTH - 1)) + 1


def train_word_counts(train: TaggedSentences) -> Counter[str]:
    """How often each word of the training part occurs in it."""
    return Counter(
        word for tokens, tags in zip(train.tokens, train.tags) for word in words_in(tokens, tags, train.scheme)
    )


def train_words(train: TaggedSentences) -> set[str]:
    """Every word of the training part (for out-of-vocabulary recall)."""
    return set(train_word_counts(train))


def dictionary_words(counts: Mapping[str, int], min_freq: int = 1) -> frozenset[str]:
    """The dictionary of a run with dictionary features: the words of 2..DICTIONARY_MAX_LENGTH characters
    that ``counts`` has at least ``min_freq`` times."""
    return frozenset(w for w, n in counts.items() if 2 <= len(w) <= DICTIONARY_MAX_LENGTH and n >= min_freq)


def dictionary_patterns(tokens: Sequence[str], words: frozenset[str]) -> list[int]:
    """Each character's dictionary features as one id (Zhang et al., AAAI 2018): which dictionary words of
    2..:data:`DICTIONARY_MAX_LENGTH` characters in the text start at it, end at it or cover it inside.

    One id for the whole pattern (``1 + bits``, bit ``3 * (k - 2) + {0 start, 1 end, 2 inside}``), so the
    embedding can learn combinations (a character that ends a 2-character word and starts a 3-character one).
    """
    bits = [0] * len(tokens)
    for start in range(len(tokens)):
        for k in range(2, min(DICTIONARY_MAX_LENGTH, len(tokens) - start) + 1):
            if "".join(tokens[start : start + k]) in words:
                shift = 3 * (k - 2)
                bits[start] |= 1 << shift
                bits[start + k - 1] |= 2 << shift
                for inside in range(start + 1, start + k - 1):
                    bits[inside] |= 4 << shift
    return [1 + pattern for pattern in bits]


@dataclass(frozen=True)
class TokenEncoder:
    """Tokens to the ids a tagger reads: token ids, bigram ids where the run has a bigram vocabulary, and
    each token's character ids (cut by :func:`~lstmkit.heads.char_encoder.word_characters`) where it has a
    character vocabulary, and dictionary pattern ids (:func:`dictionary_patterns`) where it has a dictionary."""

    vocab: Vocab
    bigram_vocab: Vocab | None = None
    char_vocab: Vocab | None = None
    dictionary: frozenset[str] | None = None

    def encode(self, tokens: Sequence[str]) -> dict[str, list]:
        """``{"tokens": ids}`` (and ``"bigrams"``: ids, ``"chars"``: a list of ids per token, ``"dictionary"``:
        pattern ids), one entry per token."""
        encoded: dict[str, list] = {"tokens": self.vocab.encode(tokens)}
        if self.bigram_vocab is not None:
            encoded["bigrams"] = self.bigram_vocab.encode(bigrams_of(tokens))
        if self.char_vocab is not None:
            encoded["chars"] = [self.char_vocab.encode(list(word_characters(token))) for token in tokens]
        if self.dictionary is not None:
            encoded["dictionary"] = dictionary_patterns(tokens, self.dictionary)
        return encoded

    def batch(self, sentences: Sequence[Sequence[str]]) -> dict:
        """A padded batch ``{"tokens", "lengths"}`` (and ``"bigrams"``, ``"chars"``, ``"dictionary"``) of token
        lists."""
        return _collate([self.encode(tokens) for tokens in sentences])


@dataclass
class TagData:
    """The parts of a run's sentences, its token encoder (vocabularies of train) and its tag names (all
    parts: a tag first seen in test is still a tag the scores must count)."""

    name: str
    parts: dict[str, TaggedSentences]
    encoder: TokenEncoder
    tag_names: list[str]

    @property
    def scheme(self) -> str:
        return self.parts["train"].scheme

    @property
    def characters(self) -> bool:
        return self.parts["train"].characters

    def sizes(self) -> dict[str, dict[str, int]]:
        return {part: sentences.sizes() for part, sentences in self.parts.items()}


def prepare_data(config: TagConfig, run_dir: Path, resume: bool) -> TagData:
    """The run's data; on ``resume`` the vocabularies and tag names the first start wrote."""
    sentences = load_sentences(config)
    if config.bigrams and not sentences.characters:
        raise DataError(f"--bigrams: {config.data} is tagged by words, not characters; bigrams are for Chinese text")
    chars = config.char_encoder_kind(sentences.characters) != "none"
    if chars and sentences.characters:
        raise DataError(
            f"--char-encoder {config.char_encoder}: {config.data} is tagged by characters, so each token is one "
            "character already; a character encoder is for word data (use auto or none)"
        )
    if config.dictionary and not sentences.characters:
        raise DataError(
            f"--dictionary: {config.data} is tagged by words, not characters; the dictionary is of Chinese words"
        )
    parts = split_sentences(sentences)
    for part, held in parts.items():
        if not held:
            count = f"{len(sentences)} sentence{'s' * (len(sentences) != 1)}"
            raise DataError(
                f"{config.data}: its {count} leave the {part} part empty (parts are chosen by a hash of each "
                "sentence, about 80/10/10 %); give more sentences"
            )
    train = parts["train"].tokens
    bigrams = config.uses_bigrams(sentences.characters)
    if resume:
        vocab, tag_names = Vocab.from_json(run_dir / VOCAB), read_run_config(run_dir, NAME)["tag_names"]
        bigram_vocab = Vocab.from_json(run_dir / BIGRAMS) if bigrams else None
        char_vocab = Vocab.from_json(run_dir / CHARS) if chars else None
        dictionary = read_dictionary(run_dir / DICTIONARY) if config.dictionary else None
    else:
        vocab = Vocab.build(train, min_freq=config.min_freq)
        tag_names = sentences.tag_names()
        bigram_vocab = build_bigram_vocab(train, config.bigram_min_freq) if bigrams else None
        words = (word_characters(token) for tokens in train for token in tokens)
        char_vocab = Vocab.build(words, min_freq=_CHAR_MIN_FREQ) if chars else None
        counts = train_word_counts(parts["train"]) if config.dictionary else None
        dictionary = dictionary_words(counts, config.dictionary_min_freq) if counts is not None else None
    name = config.data if not Path(config.data).is_file() else Path(config.data).name
    encoder = TokenEncoder(vocab, bigram_vocab, char_vocab, dictionary)
    return TagData(name, parts, encoder, tag_names)


def write_dictionary(words: frozenset[str], path: Path) -> Path:
    """A run's dictionary as a JSON list of words, sorted."""
    return write_json(path, sorted(words))


def read_dictionary(path: Path) -> frozenset[str]:
    """The dictionary :func:`write_dictionary` wrote."""
    return load_json(path, lambda words: frozenset(str(word) for word in words))


def text_tokens(text: str, characters: bool) -> list[str]:
    """The tokens a tagger reads from raw text: its characters less white space (Chinese), else its
    white-space separated words."""
    return [c for c in text if not c.isspace()] if characters else text.split()


def _encoded(sentences: TaggedSentences, encoder: TokenEncoder, tag_index: dict[str, int], max_length: int):
    """``[{"tokens": ids, "tags": ids, ...}, ...]`` (:meth:`TokenEncoder.encode`'s entries with the tags),
    each sentence cut into pieces of about ``max_length`` (:func:`cut_sentence`); bigrams and dictionary
    patterns are taken from the whole sentence, so a piece's last character keeps the bigram (and the words)
    it has in the sentence."""
    examples = []
    for tokens, tags in zip(sentences.tokens, sentences.tags):
        encoded = encoder.encode(tokens) | {"tags": [tag_index[tag] for tag in tags]}
        start = 0
        for piece, _ in cut_sentence(tokens, tags, sentences.scheme, max_length):
            end = start + len(piece)
            examples.append({name: ids[start:end] for name, ids in encoded.items()})
            start = end
    return examples


def pad_words(sentences: Sequence[Sequence[Sequence[int]]], pad_index: int = 0) -> torch.Tensor:
    """Character ids per word per sentence, right-padded into ``(B, T, W)`` (``T`` the most words, ``W``
    the longest word); a padded word is all ``pad_index``."""
    steps = max(len(words) for words in sentences)
    width = max(len(chars) for words in sentences for chars in words)
    padded = torch.full((len(sentences), steps, width), pad_index, dtype=torch.long)
    for b, words in enumerate(sentences):
        for t, chars in enumerate(words):
            padded[b, t, : len(chars)] = torch.as_tensor(chars, dtype=torch.long)
    return padded


def _collate(batch: list[dict[str, list]]) -> dict:
    """Pad examples (each ``{"tokens": ids, ...}``, the same keys) into one batch, with ``"lengths"``."""
    tokens, lengths = pad_sequences([example["tokens"] for example in batch], 0)
    padded = {"tokens": tokens, "lengths": lengths}
    for name in batch[0].keys() - {"tokens"}:
        values = [example[name] for example in batch]
        padded[name] = pad_words(values) if name == "chars" else pad_sequences(values, 0)[0]
    return padded


def batches(
    sentences: TaggedSentences, data: TagData, batch_size: int, *, max_length: int, shuffle: bool, seed: int = 0
) -> DataLoader:
    """Padded batches ``{"tokens", "lengths", "tags"}`` (and ``"bigrams"``, ``"chars"``, ``"dictionary"``) of
    similar lengths
    (:class:`BucketBatchSampler`)."""
    examples = _encoded(sentences, data.encoder, {tag: i for i, tag in enumerate(data.tag_names)}, max_length)
    sampler = BucketBatchSampler([len(e["tokens"]) for e in examples], batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(
        examples, batch_sampler=sampler, collate_fn=_collate, generator=torch.Generator().manual_seed(seed)
    )
