"""The tagging network (built and decoded in one place each) and a finished run: tag raw text, evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.data import DATASETS, Vocab
from lstmkit.data.tag_schemes import allowed_ends, allowed_starts, allowed_transitions, spans_from_tags, tags_to_words
from lstmkit.data.tagged_corpora import TaggedSentences, read_tagged_file, split_sentences
from lstmkit.errors import DataError
from lstmkit.heads import CharEncoderConfig, EncoderConfig, SequenceTagger, TaggerConfig
from lstmkit.io import load_json, parsing
from lstmkit.runs import CONFIG, METRICS, VOCAB, load_run_model, read_run_config
from lstmkit.tasks.tag.config import DICTIONARY_DIM, NAME, TagConfig
from lstmkit.tasks.tag.data import (
    BIGRAMS,
    CHARS,
    DICTIONARY,
    DICTIONARY_PATTERNS,
    TokenEncoder,
    load_sentences,
    read_dictionary,
    text_tokens,
    train_words,
)
from lstmkit.tasks.tag.scores import confusion_labels, score_tags

__all__ = ["Tagger", "build_network", "network_name", "extra_inputs", "tagging_loss", "decode", "tag_sentences"]

_BATCH = 64  # sentences per batch when tagging


def build_network(
    config: TagConfig, inputs: TokenEncoder, tag_names: list[str], scheme: str
) -> tuple[SequenceTagger, TaggerConfig]:
    """The tagger ``config`` describes: embeddings (characters, their bigrams with ``bigrams``, their
    dictionary patterns with ``dictionary``; words, and each word's character encoder with ``char_encoder``)
    -> the recurrent encoder -> per-step linear -> the CRF (constrained to the transitions, first and last
    tags ``scheme`` allows) or the softmax."""
    encoder = EncoderConfig(
        vocab_size=len(inputs.vocab),
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        cell=config.cell,
        bidirectional=config.bidirectional,
        dropout=config.dropout if config.num_layers > 1 else 0.0,
        embedding_dropout=config.embedding_dropout,
        input_dropout=config.input_dropout,
    )
    constrained = scheme != "plain"  # (plain labels allow every sequence)
    chars = None
    if inputs.char_vocab is not None:  # (word data: char_encoder_kind of word data)
        kind = config.char_encoder_kind(False)
        chars = CharEncoderConfig(len(inputs.char_vocab), config.char_dim, config.char_hidden, kind=kind)
    model_config = TaggerConfig(
        encoder,
        len(tag_names),
        dropout=config.dropout,
        decoder=config.decoder,
        allowed_transitions=allowed_transitions(tag_names, scheme) if constrained else None,
        allowed_start=allowed_starts(tag_names, scheme) if constrained else None,
        allowed_end=allowed_ends(tag_names, scheme) if constrained else None,
        bigram_vocab_size=len(inputs.bigram_vocab) if inputs.bigram_vocab else 0,
        bigram_dim=config.embedding_dim if inputs.bigram_vocab else 0,
        chars=chars,
        dictionary_patterns=DICTIONARY_PATTERNS if inputs.dictionary is not None else 0,
        dictionary_dim=DICTIONARY_DIM if inputs.dictionary is not None else 0,
    )
    return SequenceTagger(model_config), model_config


def network_name(config: TagConfig, characters: bool) -> str:
    """How outputs and tables name the model of a run on character (Chinese) or word data: ``bilstm-crf``
    (direction, cell, decoder; ``+bigrams``, ``+dictionary`` where it embeds them, ``+chars`` or
    ``+char-cnn`` where it reads words through their characters)."""
    extras = "+bigrams" * config.uses_bigrams(characters) + "+dictionary" * config.dictionary
    extras += {"lstm": "+chars", "cnn": "+char-cnn", "none": ""}[config.char_encoder_kind(characters)]
    return f"{'bi' if config.bidirectional else ''}{config.cell}-{config.decoder}{extras}"


def extra_inputs(batch: dict) -> dict[str, Tensor]:
    """The inputs beside tokens and lengths that a batch carries, by :class:`SequenceTagger`'s names."""
    return {name: batch[name] for name in ("bigrams", "chars", "dictionary") if name in batch}


def tagging_loss(model: SequenceTagger, batch: dict) -> Tensor:
    """The training loss of a batch ``{"tokens", "lengths", "tags"}`` (and ``"bigrams"``, ``"chars"``,
    ``"dictionary"``)."""
    return model.loss(batch["tokens"], batch["lengths"], batch["tags"], **extra_inputs(batch))


def decode(model: SequenceTagger, batch: dict) -> list[list[int]]:
    """The predicted tag ids of each sentence of a batch, ``lengths[b]`` of them."""
    return model.decode(batch["tokens"], batch["lengths"], **extra_inputs(batch))


def tag_sentences(
    model: SequenceTagger, encoder: TokenEncoder, tag_names: list[str], sentences: Sequence[Sequence[str]]
) -> list[list[str]]:
    """The tags of each token list (any length), in batches of sentences of similar length."""
    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    tagged: list[list[str]] = [[] for _ in sentences]
    for start in range(0, len(order), _BATCH):
        chunk = order[start : start + _BATCH]
        batch = encoder.batch([sentences[i] for i in chunk])
        batch = {name: value if name == "lengths" else value.to(device) for name, value in batch.items()}
        for i, ids in zip(chunk, decode(model, batch)):
            tagged[i] = [tag_names[k] for k in ids]
    return tagged


class Tagger:
    """A trained tagging run (``tag.load(run_dir)``): :meth:`tag` raw text, :meth:`evaluate` tagged data."""

    def __init__(self, run_dir: str | Path, device: str | torch.device = "cpu") -> None:
        self.run_dir = Path(run_dir)
        saved = read_run_config(self.run_dir, NAME)
        with parsing(self.run_dir / CONFIG):
            self.config = TagConfig.from_dict(saved["config"])
            self.tag_names = [str(tag) for tag in saved["tag_names"]]
            self.scheme, self.characters = str(saved["scheme"]), bool(saved["characters"])
            self.data_name = str(saved["data_name"])
            model_config = TaggerConfig.from_dict(saved["model"])
        bigrams = Vocab.from_json(self.run_dir / BIGRAMS) if self.config.uses_bigrams(self.characters) else None
        chars = (
            Vocab.from_json(self.run_dir / CHARS) if self.config.char_encoder_kind(self.characters) != "none" else None
        )
        dictionary = read_dictionary(self.run_dir / DICTIONARY) if self.config.dictionary else None
        self.inputs = TokenEncoder(Vocab.from_json(self.run_dir / VOCAB), bigrams, chars, dictionary)
        self.model: nn.Module = load_run_model(self.run_dir, lambda: SequenceTagger(model_config))
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        self.name = network_name(self.config, self.characters)

    def tag(self, texts: list[str]) -> list[dict[str, Any]]:
        """Each text's tokens (its characters, for Chinese data) and their tags; for character data also
        its ``words`` (as ``[word, POS]`` where the tags carry POS), for BIO/BIOES data its ``spans``
        ``[start, end, label]``; ``model`` names the network that tagged it."""
        tokens = []
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DataError(
                    f"text {i + 1} is empty: give at least one {'character' if self.characters else 'word'}"
                )
            tokens.append(text_tokens(text, self.characters))
        results = []
        for text, words, tags in zip(texts, tokens, tag_sentences(self.model, self.inputs, self.tag_names, tokens)):
            result: dict[str, Any] = {"text": text, "tokens": words, "tags": tags, "model": self.name}
            if self.characters:
                found = tags_to_words(words, tags, self.scheme)
                labelled = any(label for _, label in found)
                result["words"] = [[word, label] if labelled else word for word, label in found]
            elif self.scheme in ("bio", "bioes"):
                result["spans"] = [list(span) for span in sorted(spans_from_tags(tags, self.scheme))]
            results.append(result)
        return results

    def _data(self, data: str | None, parts: dict[str, TaggedSentences]) -> tuple[TaggedSentences, str, dict]:
        """The sentences to score, their name, and the baselines' scores on them (known for the run's test part)."""
        if data is None:
            sentences = parts["test"]
            baselines = load_json(self.run_dir / METRICS, lambda metrics: metrics.get("baselines", {}))
            return sentences, f"{self.data_name} test", baselines
        if data in DATASETS:  # a registered set's own test part
            registered = replace(self.config, data=data, scheme="auto", token_column="", tag_column="")
            sentences, name = split_sentences(load_sentences(registered))["test"], f"{data} test"
        else:
            sentences = read_tagged_file(data, self.scheme, self.config.token_column, self.config.tag_column)
            name = Path(data).name
        unseen = sorted(set(sentences.tag_names()) - set(self.tag_names))
        if unseen:
            raise DataError(f"{data}: tags {unseen[:8]} were not seen at training time (known: {self.tag_names[:12]})")
        return sentences, name, {}

    def evaluate(self, data: str | None = None, plot: str | Path | None = None) -> dict[str, Any]:
        """Scores (:mod:`lstmkit.tasks.tag.scores`) on the run's test part or on a tagged file in the run's
        scheme; writes nothing unless ``plot`` names a PNG for the confusion matrix."""
        if data is not None and data not in DATASETS and not Path(data).is_file():
            raise DataError(f"--data {data!r}: no such tagged file or tagging data set")
        parts = split_sentences(load_sentences(self.config))  # (the training words, for OOV recall)
        sentences, name, baselines = self._data(data, parts)
        predicted = tag_sentences(self.model, self.inputs, self.tag_names, [list(t) for t in sentences.tokens])
        words = train_words(parts["train"])
        scores = score_tags(sentences.tokens, sentences.tags, predicted, self.scheme, self.characters, words)
        result = {"data": name, **sentences.sizes(), "model": self.name, **scores, "baselines": baselines}
        if plot is not None:
            result["confusion_matrix_png"] = str(draw_confusion(sentences, predicted, plot, f"{name}, {self.name}"))
        return result


def draw_confusion(sentences: TaggedSentences, predicted: list[list[str]], path: str | Path, title: str) -> Path:
    """The token confusion matrix of ``predicted`` against ``sentences``' tags, as a PNG."""
    from lstmkit.plots import plot_confusion_matrix

    labels, matrix = confusion_labels(sentences.tags, predicted, sentences.scheme)
    return plot_confusion_matrix(matrix, labels, path, title=title)
