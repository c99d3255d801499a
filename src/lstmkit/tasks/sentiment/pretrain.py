"""LM pretraining of the classifier's encoder (``pretrain_lm=True``, ULMFiT): the embedding and recurrent
encoder first learn to predict the next token, then the classifier starts from them.

The texts (unlabelled ones and the training texts, never a validation or test text) are shuffled once,
joined into one token stream with ``<eos>`` after each, and read in truncated-BPTT windows of
``lm_sequence_length`` tokens by ``batch_size`` parallel streams, the state carried from window to
window (:class:`~lstmkit.heads.StreamLanguageModel`). A bidirectional one-layer encoder trains a
forward language model on the stream and a backward one on the reversed stream. The validation
texts, joined the same way, only measure the language model (their labels are never read).
A bidirectional encoder of several layers keeps the sentence-level objective of ELMo (padded batches
of single texts; the forward half predicts the next token, the backward half the previous one).
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from lstmkit.data import stream_batches
from lstmkit.heads import (
    BidirectionalLanguageModel,
    ClassifierEnsemble,
    EncoderConfig,
    ForwardBackwardClassifier,
    StreamLanguageModel,
)
from lstmkit.heads.adaptive_softmax import frequency_cutoffs
from lstmkit.tasks.sentiment.config import SentimentConfig
from lstmkit.tasks.sentiment.data import TextEncoder, make_loader
from lstmkit.train.objectives import LanguageModelObjective, StreamLanguageModelObjective

__all__ = [
    "ENCODER_WEIGHTS",
    "pretrain_encoder",
    "token_stream",
    "stream_loader",
    "stream_language_model",
    "classifier_encoders",
    "encoder_directions",
]

ENCODER_WEIGHTS = "encoder.safetensors"  # the pretrained encoder, reusable by another run (--encoder RUN)


def classifier_encoders(model: nn.Module) -> nn.Module:
    """The encoder(s) LM pretraining trains and ``encoder.safetensors`` keeps: the classifier's, or a forward +
    backward ensemble's two (``forward_model.*``, ``backward_model.*``, as its members are named); an ensemble
    of ``members`` (trained from scratch only) gives its members' encoders as a list."""
    if isinstance(model, ForwardBackwardClassifier):
        return nn.ModuleDict({name: getattr(model, name).encoder for name in ("forward_model", "backward_model")})
    if isinstance(model, ClassifierEnsemble):
        return nn.ModuleList(member.encoder for member in model.members)
    return model.encoder


def encoder_directions(encoders: nn.Module) -> list[tuple[nn.Module, bool]]:
    """Each encoder of :func:`classifier_encoders` and whether it reads texts backward."""
    if isinstance(encoders, nn.ModuleDict):
        return [(encoders["forward_model"], False), (encoders["backward_model"], True)]
    if isinstance(encoders, nn.ModuleList):
        return [(encoder, False) for encoder in encoders]
    return [(encoders, False)]


def token_stream(text_encoder: TextEncoder, texts: list[str]) -> list[int]:
    """The ids of ``texts`` in order, each followed by ``<eos>`` (whole texts: no ``max_length`` cut)."""
    ids: list[int] = []
    for text in texts:  # (a vocabulary without <eos> raises here: build it with bos_eos=True)
        ids.extend(text_encoder.vocab.encode(text_encoder.tokenizer.tokenize(text), add_eos=True))
    return ids


def stream_loader(streams: list[list[int]], batch_size: int, length: int) -> DataLoader:
    """Windows of ``streams`` (one per language model, of equal length) in order, by at most
    ``batch_size`` parallel rows (fewer for a stream too short to give each a whole window)."""
    rows = max(1, min(batch_size, len(streams[0]) // (length + 1)))
    return DataLoader(stream_batches(streams, rows, length), batch_size=None, shuffle=False)


def pretrain_encoder(
    config: SentimentConfig,
    encoder_config: EncoderConfig,
    text_encoder: TextEncoder,
    texts: list[str],
    val_texts: list[str],
    run_dir: Path,
    start: dict | None = None,
    reverse: bool = False,
) -> dict:
    """Train the embedding + recurrent encoder as a language model (checkpoints in ``RUN/pretrain``),
    from the encoder state ``start`` if given (an embedding of word vectors); return the encoder's state dict.

    ``reverse``: a unidirectional encoder learns the backward language model, reading the reversed
    stream (the backward member of a forward + backward ensemble; checkpoints in ``RUN/pretrain_backward``).
    """
    from lstmkit.train.engine import fit

    several_layers = encoder_config.bidirectional and encoder_config.num_layers > 1
    if reverse and encoder_config.bidirectional:
        raise ValueError("reverse: a bidirectional encoder already learns both directions; reverse needs a one-way one")
    parts = (config, encoder_config, text_encoder, texts, val_texts)
    lm, objective, train, val = _sentence_lm(*parts) if several_layers else _stream_lm(*parts, reverse)
    if start is not None:
        lm.encoder.load_state_dict(start)
    lm_train = replace(
        config.train, epochs=config.lm_epochs, monitor="loss", monitor_mode="min", patience=None, restore="best"
    )
    fit(lm, objective, train, val, lm_train, Path(run_dir) / ("pretrain_backward" if reverse else "pretrain"))
    return lm.encoder.state_dict()


def stream_language_model(
    config: SentimentConfig, encoder_config: EncoderConfig, ids: list[int]
) -> StreamLanguageModel:
    """The language model of stream pretraining, its output layer ``config.lm_softmax`` (None: adaptive),
    an adaptive one cut where the vocabulary covers 90 % and 99 % of the training stream ``ids``."""
    tie = encoder_config.hidden_size == encoder_config.embedding_dim
    softmax = config.lm_softmax or "adaptive"
    cutoffs: tuple[int, ...] = ()
    if softmax == "adaptive":
        # The vocabulary is in order of decreasing frequency over the texts the stream is made of.
        cutoffs = frequency_cutoffs(torch.bincount(torch.tensor(ids), minlength=encoder_config.vocab_size))
    return StreamLanguageModel(
        encoder_config, dropout=config.dropout, tie_weights=tie, softmax=softmax, cutoffs=cutoffs
    )


def _stream_lm(config, encoder_config, text_encoder, texts, val_texts, reverse: bool) -> tuple:
    """ULMFiT's objective: the language model per direction, its objective and stream loaders."""
    shuffled = random.Random(config.train.seed).sample(texts, len(texts))  # one stream mixing every source
    ids = token_stream(text_encoder, shuffled)
    lm = stream_language_model(config, encoder_config, ids)

    def streams(ids: list[int]) -> list[list[int]]:  # what each of the language models reads
        return [ids[::-1]] if reverse else [ids, ids[::-1]][: len(lm.models)]

    batch_size, length = config.train.batch_size, config.lm_sequence_length
    train = stream_loader(streams(ids), batch_size, length)
    val = stream_loader(streams(token_stream(text_encoder, val_texts)), batch_size, length)
    return lm, StreamLanguageModelObjective(), train, val


def _sentence_lm(config, encoder_config, text_encoder, texts, val_texts) -> tuple:
    """ELMo's objective on padded batches of single texts, for a bidirectional encoder of several layers."""
    lm = BidirectionalLanguageModel(encoder_config, dropout=config.dropout)
    pad = text_encoder.vocab.pad_index
    batch_size, seed = config.train.batch_size, config.train.seed
    train = make_loader(text_encoder.encode(texts), [0] * len(texts), pad, batch_size, shuffle=True, seed=seed)
    val = make_loader(text_encoder.encode(val_texts), [0] * len(val_texts), pad, 128, shuffle=False)
    return lm, LanguageModelObjective(bidirectional=True), train, val
