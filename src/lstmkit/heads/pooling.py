"""Masked pooling of batch-first encoder outputs ``(B, T, F)`` over right-padded sequences.

The pure functions do the math; :class:`SequencePooling` owns the attention scorer and picks a function.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit import functional as LF
from lstmkit.heads._checks import Lengths, as_lengths, check_3d, check_choice, check_positive_int

__all__ = [
    "POOLING_MODES",
    "mask_from_lengths",
    "last_pool",
    "mean_pool",
    "max_pool",
    "attention_pool",
    "SequencePooling",
]

POOLING_MODES = ("last", "mean", "max", "attention", "concat")


def mask_from_lengths(lengths: Tensor, steps: int) -> Tensor:
    """``(B, T)`` boolean mask, true where step ``t`` is real (``t < lengths[b]``), for ``lengths (B,)``."""
    return LF.step_mask_from_lengths(lengths, steps).transpose(0, 1)


def _zero_padding(outputs: Tensor, mask: Tensor) -> Tensor:
    # where(), not a multiply: padding holding inf or NaN must still contribute exactly zero.
    return torch.where(mask.unsqueeze(-1), outputs, 0)


def last_pool(outputs: Tensor, lengths: Lengths, num_directions: int = 1) -> Tensor:
    """The state that has read the whole sequence: ``outputs (B, T, F) -> (B, F)``.

    Unidirectional (``num_directions=1``): ``outputs[b, lengths[b] - 1]``. Bidirectional
    (``num_directions=2``, ``F = 2H`` laid out ``[forward | backward]`` as lstmkit/torch do): the
    forward half at the last real step and the backward half at step 0, where the backward
    direction finishes reading the sequence.
    """
    batch, steps = check_3d("outputs", outputs)
    check_choice("num_directions", num_directions, (1, 2))
    features = outputs.shape[2]
    if features % num_directions:
        raise ValueError(f"outputs' {features} features do not split into {num_directions} directions")
    lengths = as_lengths(lengths, batch, steps, outputs.device)
    last = outputs[torch.arange(batch, device=outputs.device), lengths - 1]
    if num_directions == 1:
        return last
    hidden = features // 2
    return torch.cat([last[:, :hidden], outputs[:, 0, hidden:]], dim=-1)


def mean_pool(outputs: Tensor, lengths: Lengths) -> Tensor:
    """Average over each sequence's real steps: ``outputs (B, T, F) -> (B, F)``."""
    batch, steps = check_3d("outputs", outputs)
    lengths = as_lengths(lengths, batch, steps, outputs.device)
    total = _zero_padding(outputs, mask_from_lengths(lengths, steps)).sum(dim=1)
    return total / lengths.unsqueeze(1).to(outputs.dtype)


def max_pool(outputs: Tensor, lengths: Lengths) -> Tensor:
    """Feature-wise maximum over each sequence's real steps: ``outputs (B, T, F) -> (B, F)``.

    Padding is filled with ``-inf`` first, so it never wins, even where every real value is negative.
    """
    batch, steps = check_3d("outputs", outputs)
    lengths = as_lengths(lengths, batch, steps, outputs.device)
    padding = ~mask_from_lengths(lengths, steps).unsqueeze(-1)
    return outputs.masked_fill(padding, float("-inf")).amax(dim=1)


def attention_pool(outputs: Tensor, lengths: Lengths, scores: Tensor) -> tuple[Tensor, Tensor]:
    """Softmax-weighted sum over real steps: ``outputs (B, T, F)``, ``scores (B, T)`` -> ``(B, F), (B, T)``.

    Returns the pooled vectors and the weights; the weights sum to 1 over each sequence's real steps
    and are exactly 0 on padding (scores there are replaced by ``-inf`` before the softmax).
    """
    batch, steps = check_3d("outputs", outputs)
    if not isinstance(scores, Tensor) or tuple(scores.shape) != (batch, steps):
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"scores must have shape (batch, time) = {(batch, steps)}, got {shape}")
    lengths = as_lengths(lengths, batch, steps, outputs.device)
    mask = mask_from_lengths(lengths, steps)
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
    pooled = torch.einsum("bt,btf->bf", weights, _zero_padding(outputs, mask))
    return pooled, weights


class SequencePooling(nn.Module):
    """Pool encoder outputs ``(B, T, F)`` into one vector per sequence ``(B, output_size)``.

    Modes: ``"last"``, ``"mean"``, ``"max"`` (the functions above), ``"attention"`` (a learned scorer
    ``Linear(F, attention_size) -> tanh -> Linear(attention_size, 1)`` as in Yang et al. 2016; no bias
    on the last layer, which the softmax would cancel) and ``"concat"`` (last, mean and max side by
    side, as ULMFiT's classifier). ``num_directions`` tells ``"last"`` how ``F`` splits. After an
    attention forward, ``attention_weights (B, T)`` holds the (detached) weights for inspection.
    """

    def __init__(self, mode: str, feature_size: int, *, num_directions: int = 1, attention_size: int = 64) -> None:
        super().__init__()
        check_choice("mode", mode, POOLING_MODES)
        check_positive_int("feature_size", feature_size)
        check_positive_int("attention_size", attention_size)
        check_choice("num_directions", num_directions, (1, 2))
        self.mode = mode
        self.feature_size = feature_size
        self.num_directions = num_directions
        self.scorer = None
        if mode == "attention":
            self.scorer = nn.Sequential(
                nn.Linear(feature_size, attention_size), nn.Tanh(), nn.Linear(attention_size, 1, bias=False)
            )
        self.attention_weights: Tensor | None = None

    @property
    def output_size(self) -> int:
        """Width of the pooled vector: ``3 * feature_size`` for ``"concat"``, else ``feature_size``."""
        return self.feature_size * (3 if self.mode == "concat" else 1)

    def forward(self, outputs: Tensor, lengths: Lengths = None) -> Tensor:
        batch, steps = check_3d("outputs", outputs)
        if outputs.shape[2] != self.feature_size:
            raise ValueError(f"feature size mismatch: pooling expects {self.feature_size}, got {outputs.shape[2]}")
        if self.mode == "last":
            return last_pool(outputs, lengths, self.num_directions)
        if self.mode == "mean":
            return mean_pool(outputs, lengths)
        if self.mode == "max":
            return max_pool(outputs, lengths)
        if self.mode == "concat":
            parts = [last_pool(outputs, lengths, self.num_directions), mean_pool(outputs, lengths)]
            return torch.cat([*parts, max_pool(outputs, lengths)], dim=-1)
        lengths = as_lengths(lengths, batch, steps, outputs.device)
        # Score zeroed padding so that nothing stored there (even NaN) reaches the scorer's gradients.
        scores = self.scorer(_zero_padding(outputs, mask_from_lengths(lengths, steps))).squeeze(-1)
        pooled, weights = attention_pool(outputs, lengths, scores)
        self.attention_weights = weights.detach()
        return pooled

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, feature_size={self.feature_size}, num_directions={self.num_directions}"
