"""Decoding a :class:`~lstmkit.heads.seq2seq.Seq2Seq`: greedy search and batched beam search.

Both take a batch of sources and return, for each, a list of :class:`Hypothesis` (best first): the
token ids without BOS/EOS, the summed log-probability, the length-normalised score that ranked it,
and the attention weights ``(len(tokens) + 1, S)`` of every output step (the last row is the step
that produced EOS; ``None`` without attention). A hypothesis that reaches ``max_length`` tokens
without EOS ends there (``finished=False``).

Beam search keeps ``beam_size`` hypotheses per source, flattened into one ``(B * K)`` batch so each
step is one decoder call. Each hypothesis that picks EOS leaves the beam with score
``log_prob / length ** length_penalty`` (length counted with the EOS; ``length_penalty=0`` ranks by
raw log-probability, which favours short outputs). With ``beam_size=1`` it makes exactly the choices
of greedy search.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmkit.heads.seq2seq import Seq2Seq

__all__ = ["Hypothesis", "greedy_decode", "beam_search"]


@dataclass
class Hypothesis:
    tokens: list[int]
    log_prob: float
    score: float
    attention: Tensor | None
    finished: bool = True


def _check(max_length: int, source: Tensor, lengths: Tensor) -> None:
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    if source.dim() != 2 or tuple(lengths.shape) != (source.shape[0],):
        raise ValueError(
            f"source must be (B, S) with lengths (B,), got {tuple(source.shape)} and {tuple(lengths.shape)}"
        )


@torch.no_grad()
def greedy_decode(
    model: Seq2Seq, source: Tensor, lengths: Tensor, bos: int, eos: int, max_length: int = 50
) -> list[Hypothesis]:
    """The most probable next token at every step, until EOS or ``max_length`` tokens; one per source."""
    _check(max_length, source, lengths)
    model.eval()
    batch = source.shape[0]
    encoded = model.encode(source, lengths)
    state = model.initial_state(encoded)
    tokens = torch.full((batch,), bos, dtype=torch.long, device=source.device)
    chosen, weights_per_step = [], []
    log_prob = torch.zeros(batch, dtype=torch.float64)
    done = torch.zeros(batch, dtype=torch.bool)
    ended_at = torch.full((batch,), max_length, dtype=torch.long)
    for t in range(max_length):
        log_probs, state, weights = model.step(tokens, encoded, state)
        best, tokens = log_probs.max(dim=-1)
        log_prob += torch.where(done, 0.0, best.double().cpu())
        chosen.append(tokens.cpu())
        weights_per_step.append(None if weights is None else weights.cpu())
        newly = (tokens.cpu() == eos) & ~done
        ended_at[newly] = t
        done |= newly
        if bool(done.all()):
            break
    results = []
    for b in range(batch):
        end = int(ended_at[b])
        finished = end < max_length
        ids = [int(step[b]) for step in chosen[: end if finished else max_length]]
        rows = end + 1 if finished else max_length
        attention = None if weights_per_step[0] is None else torch.stack([w[b] for w in weights_per_step[:rows]])
        length = len(ids) + int(finished)
        results.append(Hypothesis(ids, float(log_prob[b]), float(log_prob[b]) / max(length, 1), attention, finished))
    return results


@torch.no_grad()
def beam_search(
    model: Seq2Seq,
    source: Tensor,
    lengths: Tensor,
    bos: int,
    eos: int,
    beam_size: int = 5,
    max_length: int = 50,
    length_penalty: float = 1.0,
    n_best: int = 1,
) -> list[list[Hypothesis]]:
    """The ``n_best`` best hypotheses per source (best first) found with a beam of ``beam_size``."""
    _check(max_length, source, lengths)
    if beam_size < 1 or not 1 <= n_best <= beam_size:
        raise ValueError(f"need beam_size >= 1 and 1 <= n_best <= beam_size, got {beam_size} and {n_best}")
    model.eval()
    batch, k = source.shape[0], beam_size
    device = source.device
    rows = torch.arange(batch, device=device).repeat_interleave(k)
    encoded = model.encode(source, lengths).index_select(rows)
    state = model.initial_state(encoded)
    tokens = torch.full((batch * k,), bos, dtype=torch.long, device=device)
    # Only the first copy of each source is live at the start, so the k copies do not fill the beam
    # with k identical hypotheses.
    scores = torch.full((batch, k), float("-inf"), dtype=torch.float64, device=device)
    scores[:, 0] = 0.0
    history = torch.empty((batch * k, 0), dtype=torch.long, device=device)
    attention: Tensor | None = None
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]

    def score_of(log_prob: float, length: int) -> float:
        return log_prob / max(length, 1) ** length_penalty

    for t in range(max_length):
        log_probs, state, weights = model.step(tokens, encoded, state)
        step_weights = None if weights is None else weights.double().cpu()
        vocab = log_probs.shape[-1]
        candidates = (scores.view(-1, 1) + log_probs.double()).view(batch, k * vocab)
        # 2k candidates: even if k of them end in EOS, k live ones remain to carry on.
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=-1)
        parents, next_tokens = top_index // vocab, top_index % vocab
        new_scores = torch.full((batch, k), float("-inf"), dtype=torch.float64, device=device)
        new_parent = torch.zeros((batch, k), dtype=torch.long, device=device)
        new_tokens = torch.full((batch, k), eos, dtype=torch.long, device=device)
        for b in range(batch):
            live = 0
            for score, parent, token in zip(top_scores[b].tolist(), parents[b].tolist(), next_tokens[b].tolist()):
                if score == float("-inf") or live == k:
                    break
                row = b * k + parent
                if token == eos:
                    if len(finished[b]) < k:
                        rows_attention = _attention_rows(attention, step_weights, row)
                        hypothesis = Hypothesis(
                            history[row].tolist(), score, score_of(score, t + 1), rows_attention, True
                        )
                        finished[b].append(hypothesis)
                    continue
                new_scores[b, live], new_parent[b, live], new_tokens[b, live] = score, parent, token
                live += 1
        # A source with k finished hypotheses is done: its beam stops growing.
        for b in range(batch):
            if len(finished[b]) >= k:
                new_scores[b] = float("-inf")
        if bool(torch.isinf(new_scores).all()):
            scores = new_scores
            break
        select = (torch.arange(batch, device=device).unsqueeze(1) * k + new_parent).view(-1)
        history = torch.cat([history.index_select(0, select), new_tokens.view(-1, 1)], dim=1)
        if step_weights is not None:
            grown = (
                step_weights.unsqueeze(1) if attention is None else torch.cat([attention, step_weights.unsqueeze(1)], 1)
            )
            attention = grown.index_select(0, select.cpu())
        state = state.index_select(select)
        tokens = new_tokens.view(-1)
        scores = new_scores
    # Hypotheses still live after max_length steps end there unfinished.
    for b in range(batch):
        if len(finished[b]) < n_best:
            for j in range(k):
                if scores[b, j] > float("-inf"):
                    row = b * k + j
                    log_prob = float(scores[b, j])
                    rows_attention = None if attention is None else attention[row]
                    finished[b].append(
                        Hypothesis(
                            history[row].tolist(), log_prob, score_of(log_prob, max_length), rows_attention, False
                        )
                    )
        finished[b].sort(key=lambda h: -h.score)
        del finished[b][n_best:]
    return finished


def _attention_rows(attention: Tensor | None, step_weights: Tensor | None, row: int) -> Tensor | None:
    """Attention of hypothesis ``row`` so far plus the current step's: ``(t + 1, S)``."""
    if step_weights is None:
        return None
    current = step_weights[row].unsqueeze(0)
    return current if attention is None else torch.cat([attention[row], current], 0)
