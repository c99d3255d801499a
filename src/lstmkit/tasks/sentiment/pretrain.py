"""LM pretraining of the classifier's encoder (``pretrain_lm=True``, ULMFiT/ELMo style): the embedding
and recurrent encoder first learn to predict the next token (a bidirectional encoder: the forward half
the next token, the backward half the previous one), then the classifier starts from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lstmkit.heads import BidirectionalLanguageModel, EncoderConfig, LanguageModel, LanguageModelConfig
from lstmkit.tasks.sentiment.config import SentimentConfig
from lstmkit.tasks.sentiment.data import TextEncoder, make_loader
from lstmkit.train.objectives import LanguageModelObjective

__all__ = ["ENCODER_WEIGHTS", "pretrain_encoder"]

ENCODER_WEIGHTS = "encoder.safetensors"  # the pretrained encoder, reusable by another run (--encoder RUN)


def pretrain_encoder(
    config: SentimentConfig,
    encoder_config: EncoderConfig,
    text_encoder: TextEncoder,
    texts: list[str],
    val_texts: list[str],
    run_dir: Path,
    start: dict | None = None,
) -> dict:
    """Train the embedding + recurrent encoder as a language model (checkpoints in ``RUN/pretrain``),
    from the encoder state ``start`` if given (an embedding of word vectors); return the encoder's state dict."""
    from lstmkit.train.engine import fit

    if encoder_config.bidirectional:
        lm = BidirectionalLanguageModel(encoder_config, dropout=config.dropout)
    else:
        tie = encoder_config.hidden_size == encoder_config.embedding_dim
        lm = LanguageModel(LanguageModelConfig(encoder_config, dropout=config.dropout, tie_weights=tie))
    if start is not None:
        lm.encoder.load_state_dict(start)
    pad = text_encoder.vocab.pad_index
    batch_size, seed = config.train.batch_size, config.train.seed
    train = make_loader(text_encoder.encode(texts), [0] * len(texts), pad, batch_size, shuffle=True, seed=seed)
    val = make_loader(text_encoder.encode(val_texts), [0] * len(val_texts), pad, 128, shuffle=False)
    lm_train = replace(config.train, epochs=config.lm_epochs, monitor="loss", monitor_mode="min", patience=None)
    objective = LanguageModelObjective(bidirectional=encoder_config.bidirectional)
    fit(lm, objective, train, val, lm_train, Path(run_dir) / "pretrain")
    return lm.encoder.state_dict()
