"""Linear-chain conditional random field (Lafferty, McCallum & Pereira 2001) over per-step emission scores.

A tag path ``y_0 .. y_{n-1}`` of a sequence of length ``n`` scores

    s(y) = start[y_0] + sum_t emissions[t, y_t] + sum_{t>=1} transitions[y_{t-1}, y_t] + end[y_{n-1}]

and has probability ``exp(s(y)) / Z`` with ``log Z = logsumexp over all K^n paths of s``. The pure
functions below compute ``s`` (:func:`crf_score`), ``log Z`` by the forward algorithm in log space
(:func:`crf_log_partition`) and the best path by Viterbi (:func:`crf_viterbi`); :class:`CRF` owns the
parameters and the transition constraints and calls them.

Shapes are batch-first: ``emissions (B, T, K)`` float, ``tags (B, T)`` long, ``lengths (B,)`` in
``1..T``. Steps ``t >= lengths[b]`` are padding: their emissions and tags are never read (they may
hold anything, NaN included).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lstmkit.heads._checks import Lengths, as_lengths, check_positive_int
from lstmkit.heads.pooling import mask_from_lengths

__all__ = ["CRF", "FORBIDDEN_SCORE", "crf_score", "crf_log_partition", "crf_log_likelihood", "crf_viterbi"]

# The score of a forbidden transition (or start, or end). Not -inf: a gold path through a forbidden
# transition (a labelling error in the data) then has a finite log-likelihood and finite gradients,
# and logsumexp never meets (-inf) - (-inf). Any emission margin below 1e4 (every trained model's)
# keeps such paths out of the Viterbi result.
FORBIDDEN_SCORE = -1.0e4


def _check_emissions(emissions: Tensor, num_tags: int, lengths: Lengths) -> tuple[Tensor, Tensor, Tensor]:
    """``emissions`` (16-bit ones as float32) with padded steps zeroed (NaN there cannot leak into sums),
    lengths as int64, mask ``(B, T)``."""
    if not isinstance(emissions, Tensor) or emissions.dim() != 3 or emissions.shape[2] != num_tags:
        shape = tuple(emissions.shape) if isinstance(emissions, Tensor) else type(emissions).__name__
        raise ValueError(f"emissions must have shape (batch, time, num_tags={num_tags}), got {shape}")
    if not emissions.is_floating_point():
        raise TypeError(f"emissions must be a floating-point tensor, got dtype {emissions.dtype}")
    if emissions.dtype in (torch.float16, torch.bfloat16):
        emissions = emissions.float()  # sums over T steps and K^T paths need more than 8-11 bits of mantissa
    batch, steps = emissions.shape[:2]
    if steps < 1:
        raise ValueError(f"emissions must have at least 1 time step, got shape {tuple(emissions.shape)}")
    lengths = as_lengths(lengths, batch, steps, emissions.device)
    mask = mask_from_lengths(lengths, steps)
    return emissions.masked_fill(~mask.unsqueeze(2), 0.0), lengths, mask


def _check_scores(transitions: Tensor, start: Tensor, end: Tensor) -> int:
    """The number of tags ``K`` that ``transitions (K, K)``, ``start (K,)`` and ``end (K,)`` agree on."""
    if start.dim() != 1:
        raise ValueError(f"start must have shape (num_tags,), got {tuple(start.shape)}")
    num_tags = start.shape[0]
    for name, value, shape in (
        ("transitions", transitions, (num_tags, num_tags)),
        ("start", start, (num_tags,)),
        ("end", end, (num_tags,)),
    ):
        if tuple(value.shape) != shape:
            raise ValueError(f"{name} must have shape {shape} (num_tags from start), got {tuple(value.shape)}")
    return num_tags


def crf_score(
    emissions: Tensor, tags: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """The unnormalised log score ``s(tags)`` of each sequence's tag path: ``(B, T, K)``, ``(B, T)`` -> ``(B,)``.

    Tags at padded steps are ignored whatever their value; tags at real steps must lie in ``0..K-1``.
    """
    num_tags = _check_scores(transitions, start, end)
    emissions, lengths, mask = _check_emissions(emissions, num_tags, lengths)
    if not isinstance(tags, Tensor) or tuple(tags.shape) != tuple(emissions.shape[:2]):
        shape = tuple(tags.shape) if isinstance(tags, Tensor) else type(tags).__name__
        raise ValueError(f"tags must have shape (batch, time) = {tuple(emissions.shape[:2])}, got {shape}")
    if tags.is_floating_point() or tags.is_complex() or tags.dtype == torch.bool:
        raise TypeError(f"tags must hold integer tag ids, got dtype {tags.dtype}")
    tags = tags.to(emissions.device, torch.int64)
    real = tags[mask]
    if real.numel() and (int(real.min()) < 0 or int(real.max()) >= num_tags):
        raise ValueError(
            f"tags at real steps must lie in 0..{num_tags - 1}, got values from {int(real.min())} to {int(real.max())}"
        )
    tags = tags.masked_fill(~mask, 0)  # any valid index: the masked sums below drop these steps
    emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2).sum(dim=1)  # padded emissions are zero
    moved = torch.where(mask[:, 1:], transitions[tags[:, :-1], tags[:, 1:]], 0.0).sum(dim=1)
    last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
    return start[tags[:, 0]] + emitted + moved + end[last]


def crf_log_partition(emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor, end: Tensor) -> Tensor:
    """``log Z`` of each sequence by the forward algorithm: ``emissions (B, T, K)`` -> ``(B,)``.

    ``alpha[b, j]`` is the log of the summed scores of all paths ending in tag ``j`` at step ``t``; a
    padded step keeps the previous ``alpha``, so ``log Z`` reads each sequence at its own last step.
    """
    num_tags = _check_scores(transitions, start, end)
    emissions, lengths, _ = _check_emissions(emissions, num_tags, lengths)
    alpha = start + emissions[:, 0]
    for t in range(1, emissions.shape[1]):
        stepped = _log_matmul_exp(alpha, transitions) + emissions[:, t]
        alpha = torch.where((t < lengths).unsqueeze(1), stepped, alpha)
    return torch.logsumexp(alpha + end, dim=1)


def _log_matmul_exp(alpha: Tensor, transitions: Tensor) -> Tensor:
    """``logsumexp_i(alpha[b, i] + transitions[i, j])``: ``(B, K)``, ``(K, K)`` -> ``(B, K)``.

    Computed as ``log(exp(alpha - a) @ exp(transitions - c)) + a + c``, one matrix product instead of a
    logsumexp over a ``(B, K, K)`` tensor (8x faster at K = 40), with ``a`` each row's and ``c`` each
    column's maximum so that no ``exp`` overflows. The product can still underflow where every permitted
    predecessor of a tag lies far below the best-scoring tag (a confident model under constraints); when
    a sum falls below the square root of the smallest normal number, some term that matters might be
    subnormal, so that step is recomputed with the exact ``(B, K, K)`` logsumexp.
    """
    alpha_max = alpha.detach().amax(dim=1, keepdim=True)  # constants to autograd: the result does not depend on them
    column_max = transitions.detach().amax(dim=0, keepdim=True)
    # Mixed precision would run this product in 16 bits: ~3 significant digits of log Z per step.
    with torch.autocast(alpha.device.type, enabled=False):
        summed = torch.exp(alpha - alpha_max) @ torch.exp(transitions - column_max)
    if bool((summed < math.sqrt(torch.finfo(summed.dtype).tiny)).any()):
        return torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1)
    return summed.log() + alpha_max + column_max


def crf_log_likelihood(
    emissions: Tensor, tags: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """``log p(tags | emissions) = s(tags) - log Z`` per sequence: ``(B,)``, at most 0."""
    return crf_score(emissions, tags, lengths, transitions, start, end) - crf_log_partition(
        emissions, lengths, transitions, start, end
    )


@torch.no_grad()
def crf_viterbi(
    emissions: Tensor, lengths: Lengths, transitions: Tensor, start: Tensor, end: Tensor
) -> list[list[int]]:
    """The highest-scoring tag path of each sequence, ``lengths[b]`` tags long (ties go to the lower tag id).

    Backpointers at padded steps are the identity, so backtracking from step ``T - 1`` carries each
    sequence's best final tag unchanged down to its own last real step.
    """
    num_tags = _check_scores(transitions, start, end)
    emissions, lengths, _ = _check_emissions(emissions, num_tags, lengths)
    batch, steps = emissions.shape[:2]
    identity = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
    best = start + emissions[:, 0]
    backpointers = []
    for t in range(1, steps):
        stepped, previous = (best.unsqueeze(2) + transitions).max(dim=1)
        active = (t < lengths).unsqueeze(1)
        best = torch.where(active, stepped + emissions[:, t], best)
        backpointers.append(torch.where(active, previous, identity))
    tag = (best + end).argmax(dim=1)
    path = [tag]
    for pointers in reversed(backpointers):
        tag = pointers.gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    rows = torch.stack(path[::-1], dim=1).tolist()
    return [row[:length] for row, length in zip(rows, lengths.tolist())]


def _as_mask(name: str, value: Tensor | None, shape: tuple[int, ...]) -> Tensor:
    """A bool constraint mask of ``shape`` (all ``True`` for ``None``); nested lists of bools are accepted."""
    if value is None:
        return torch.ones(shape, dtype=torch.bool)
    mask = torch.as_tensor(value)
    if mask.dtype != torch.bool:
        raise TypeError(f"{name} must hold bools (True = permitted), got dtype {mask.dtype}")
    if tuple(mask.shape) != shape:
        raise ValueError(f"{name} must have shape {shape} for num_tags={shape[0]}, got {tuple(mask.shape)}")
    return mask.clone()


class CRF(nn.Module):
    """A linear-chain CRF layer over ``num_tags`` tags, with optional hard transition constraints.

    Parameters ``transitions (K, K)`` (``transitions[i, j]`` scores tag ``i`` followed by ``j``),
    ``start (K,)`` and ``end (K,)`` start at zero, where the CRF's log-likelihood equals a per-step
    softmax's. ``allowed (K, K)`` (``allowed[i, j]``: may ``j`` follow ``i``), ``allowed_start (K,)`` and
    ``allowed_end (K,)`` are bool masks (``None``: everything permitted); forbidden entries score
    :data:`FORBIDDEN_SCORE` in training and decoding alike, and get no gradient. The masks are
    non-persistent buffers: they follow ``.to(device)`` but stay out of the state dict, since the
    model's config rebuilds them.
    """

    def __init__(
        self,
        num_tags: int,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("num_tags", num_tags)
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.register_buffer("allowed", _as_mask("allowed", allowed, (num_tags, num_tags)), persistent=False)
        self.register_buffer("allowed_start", _as_mask("allowed_start", allowed_start, (num_tags,)), persistent=False)
        self.register_buffer("allowed_end", _as_mask("allowed_end", allowed_end, (num_tags,)), persistent=False)

    def constrained(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(transitions, start, end)`` with forbidden entries set to :data:`FORBIDDEN_SCORE`."""
        return (
            self.transitions.masked_fill(~self.allowed, FORBIDDEN_SCORE),
            self.start.masked_fill(~self.allowed_start, FORBIDDEN_SCORE),
            self.end.masked_fill(~self.allowed_end, FORBIDDEN_SCORE),
        )

    def score(self, emissions: Tensor, tags: Tensor, lengths: Lengths) -> Tensor:
        """``emissions (B, T, K)``, ``tags (B, T)``, ``lengths (B,)`` -> path scores ``(B,)`` (:func:`crf_score`)."""
        return crf_score(emissions, tags, lengths, *self.constrained())

    def log_partition(self, emissions: Tensor, lengths: Lengths) -> Tensor:
        """``emissions (B, T, K)``, ``lengths (B,)`` -> ``log Z`` ``(B,)`` (:func:`crf_log_partition`)."""
        return crf_log_partition(emissions, lengths, *self.constrained())

    def log_likelihood(self, emissions: Tensor, tags: Tensor, lengths: Lengths) -> Tensor:
        """``log p(tags | emissions)`` ``(B,)``; its negated mean is the training loss."""
        return crf_log_likelihood(emissions, tags, lengths, *self.constrained())

    def decode(self, emissions: Tensor, lengths: Lengths) -> list[list[int]]:
        """Viterbi paths, one list of ``lengths[b]`` tag ids per sequence (:func:`crf_viterbi`)."""
        return crf_viterbi(emissions, lengths, *self.constrained())

    def extra_repr(self) -> str:
        forbidden = int((~self.allowed).sum()) + int((~self.allowed_start).sum()) + int((~self.allowed_end).sum())
        return f"num_tags={self.num_tags}, forbidden={forbidden}"
