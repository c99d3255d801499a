"""Adaptive softmax (Grave et al. 2017): an exact output distribution whose cost per token does not
grow with the whole vocabulary.

The vocabulary, in order of frequency, is cut at ``cutoffs = (c_0, c_1, ..., c_{K-1})`` into a
*shortlist* ``[0, c_0)`` and ``K`` tail clusters ``[c_{i-1}, c_i)`` (the last ending at ``V``). The
head scores the shortlist and one entry per cluster; cluster ``i`` scores its own tokens from a
projection of the hidden state to ``d_i`` features (smaller for rarer clusters):

    log p(w | h) = log softmax(head(h))[w]                                  w in the shortlist
    log p(w | h) = log softmax(head(h))[c_0 + i] + log softmax(tail_i(h))[w - start_i]   w in cluster i

Both softmaxes are normalised, so the ``V`` probabilities sum to 1 exactly and the loss is the true
negative log-likelihood (perplexity stays exact, unlike sampled softmax or NCE). Training needs only
the target's log-probability: a token of cluster ``i`` pays for the head and cluster ``i`` alone, and
frequent tokens (most of a stream) pay for the head only.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "AdaptiveSoftmax",
    "check_cutoffs",
    "adaptive_log_softmax",
    "adaptive_target_log_prob",
    "frequency_cutoffs",
    "Tail",
]

Tail = tuple[Tensor, Tensor, Tensor]  # (projection (d_i, H), weight (n_i, d_i), bias (n_i,)) of one cluster


def check_cutoffs(cutoffs: tuple[int, ...], vocab_size: int) -> None:
    """Refuse cutoffs that are not strictly increasing ids inside the vocabulary (one cluster at least)."""
    if not cutoffs or list(cutoffs) != sorted(set(cutoffs)) or not 0 < cutoffs[0] or cutoffs[-1] >= vocab_size:
        raise ValueError(
            f"cutoffs: expected strictly increasing ids in 1..{vocab_size - 1} (vocab_size={vocab_size}), "
            f"got {tuple(cutoffs)}"
        )


def _bounds(cutoffs: tuple[int, ...], vocab_size: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each tail cluster."""
    edges = (*cutoffs, vocab_size)
    return list(zip(edges[:-1], edges[1:]))


def _tail_log_softmax(hidden: Tensor, tail: Tail) -> Tensor:
    projection, weight, bias = tail
    return F.log_softmax(F.linear(hidden @ projection.T, weight, bias), dim=-1)


def adaptive_log_softmax(hidden: Tensor, head_weight: Tensor, head_bias: Tensor, tails: list[Tail]) -> Tensor:
    """Log-probabilities over the whole vocabulary: ``hidden (..., H)`` -> ``(..., V)``.

    ``head_weight (c_0 + K, H)``: the shortlist's rows then one row per cluster; ``head_bias (c_0 + K,)``;
    ``tails``: one :data:`Tail` per cluster, in vocabulary order. Costs as a full softmax: for
    evaluation and sampling; training uses :func:`adaptive_target_log_prob`.
    """
    head = F.log_softmax(F.linear(hidden, head_weight, head_bias), dim=-1)
    shortlist = head_weight.shape[0] - len(tails)
    parts = [head[..., :shortlist]]
    for i, tail in enumerate(tails):
        parts.append(head[..., shortlist + i, None] + _tail_log_softmax(hidden, tail))
    return torch.cat(parts, dim=-1)


def adaptive_target_log_prob(
    hidden: Tensor, targets: Tensor, head_weight: Tensor, head_bias: Tensor, tails: list[Tail]
) -> Tensor:
    """``log p(targets | hidden)``: ``hidden (N, H)``, ``targets (N,)`` long -> ``(N,)``, each cluster
    scored only on the rows whose target it holds (arguments as :func:`adaptive_log_softmax`)."""
    head = F.log_softmax(F.linear(hidden, head_weight, head_bias), dim=-1)
    shortlist = head_weight.shape[0] - len(tails)
    # The head entry of each target: the token itself in the shortlist, else its cluster's entry.
    cluster = torch.zeros_like(targets)
    starts = [shortlist]
    for i, tail in enumerate(tails):
        starts.append(starts[-1] + tail[1].shape[0])
        cluster += (targets >= starts[i]).long()  # 0 in the shortlist, i + 1 in tail cluster i
    head_index = torch.where(cluster == 0, targets, shortlist + cluster - 1)
    log_prob = head.gather(1, head_index[:, None]).squeeze(1)
    for i, tail in enumerate(tails):
        rows = (cluster == i + 1).nonzero().squeeze(1)
        if rows.numel():
            within = _tail_log_softmax(hidden[rows], tail).gather(1, (targets[rows] - starts[i])[:, None])
            log_prob = log_prob.index_add(0, rows, within.squeeze(1))
    return log_prob


def frequency_cutoffs(counts: Tensor, coverage: tuple[float, ...] = (0.9, 0.99)) -> tuple[int, ...]:
    """Cutoffs where the vocabulary (ids in order of decreasing frequency) first covers each share
    of ``coverage`` of the tokens counted in ``counts (V,)``; empty clusters are dropped.

    The defaults put 90 % of a stream's tokens in the shortlist (they pay for the head only) and the
    rarest 1 % in the last, cheapest cluster.
    """
    if any(not 0 < share < 1 for share in coverage) or list(coverage) != sorted(coverage):
        raise ValueError(f"coverage: expected increasing shares in (0, 1), got {coverage}")
    covered = counts.double().cumsum(0) / counts.sum().clamp_min(1)
    vocab_size = counts.numel()
    cutoffs: list[int] = []
    for share in coverage:
        cutoff = min(int(torch.searchsorted(covered, share)) + 1, vocab_size - 1)
        if cutoff > (cutoffs[-1] if cutoffs else 0):
            cutoffs.append(cutoff)
    return tuple(cutoffs)


class AdaptiveSoftmax(nn.Module):
    """The parameters of :func:`adaptive_log_softmax` over ``vocab_size`` tokens (ids in order of
    decreasing frequency) cut at ``cutoffs``; cluster ``i`` projects to ``hidden_size // div_value**(i+1)``
    features (at least 1), as Grave et al.

    ``tied_shortlist``: the shortlist's output rows are not held here but passed to each call (the
    tied embedding's first ``cutoffs[0]`` rows), so the state dict never aliases a tensor.
    """

    def __init__(
        self, hidden_size: int, vocab_size: int, cutoffs: tuple[int, ...], div_value: float = 4.0,
        tied_shortlist: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        check_cutoffs(cutoffs, vocab_size)
        self.cutoffs = tuple(cutoffs)
        bound = 1 / math.sqrt(hidden_size)  # nn.Linear's default range

        def uniform(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

        shortlist = cutoffs[0]
        self.shortlist_weight = None if tied_shortlist else uniform(shortlist, hidden_size)
        self.cluster_weight = uniform(len(cutoffs), hidden_size)
        self.head_bias = nn.Parameter(torch.zeros(shortlist + len(cutoffs)))
        sizes = [max(1, int(hidden_size // div_value ** (i + 1))) for i in range(len(cutoffs))]
        bounds = _bounds(self.cutoffs, vocab_size)
        self.tail_projections = nn.ParameterList(uniform(size, hidden_size) for size in sizes)
        self.tail_weights = nn.ParameterList(
            nn.Parameter(torch.empty(end - start, size).uniform_(-1 / math.sqrt(size), 1 / math.sqrt(size)))
            for size, (start, end) in zip(sizes, bounds)
        )
        self.tail_biases = nn.ParameterList(nn.Parameter(torch.zeros(end - start)) for start, end in bounds)

    def _head_and_tails(self, shortlist_weight: Tensor | None) -> tuple[Tensor, list[Tail]]:
        own = self.shortlist_weight
        if (own is None) == (shortlist_weight is None):
            raise ValueError(
                "shortlist_weight: pass the tied rows exactly when the shortlist is tied "
                f"(tied_shortlist={own is None}), got {'None' if shortlist_weight is None else 'a tensor'}"
            )
        weight = torch.cat([own if own is not None else shortlist_weight[: self.cutoffs[0]], self.cluster_weight])
        tails = list(zip(self.tail_projections, self.tail_weights, self.tail_biases))
        return weight, tails

    def log_prob(self, hidden: Tensor, shortlist_weight: Tensor | None = None) -> Tensor:
        """``hidden (..., H)`` -> log-probabilities over the vocabulary ``(..., V)``."""
        weight, tails = self._head_and_tails(shortlist_weight)
        return adaptive_log_softmax(hidden, weight, self.head_bias, tails)

    def target_log_prob(self, hidden: Tensor, targets: Tensor, shortlist_weight: Tensor | None = None) -> Tensor:
        """``hidden (..., H)``, ``targets (...)`` long -> ``log p(targets)`` ``(...)``."""
        weight, tails = self._head_and_tails(shortlist_weight)
        flat = adaptive_target_log_prob(hidden.flatten(0, -2), targets.flatten(), weight, self.head_bias, tails)
        return flat.view(targets.shape)
