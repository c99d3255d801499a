"""A wide n-gram branch: a bag of hashed token n-grams, trained jointly beside the recurrent encoder.

Every n-gram of token ids (n in ``orders``) is hashed to one of ``buckets`` rows of a table (the
hashing trick of fastText, Joulin et al. 2017) and the rows are summed, normalised by the square root
of the n-gram count. With one row entry per class this is a linear model of n-gram counts, the
"wide" part of a wide-and-deep model (Cheng et al. 2016). It sees exact local phrases
("不 错", "太 差") that a recurrent encoder must learn to detect; the two together are a
wide-and-deep model. Hashing works on token ids, so the branch needs nothing but ``tokens`` and
``lengths``, like the rest of the model.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.heads.pooling import mask_from_lengths

# Large odd multipliers spread consecutive ids over the buckets (a polynomial hash, mod buckets).
_MULTIPLIERS = (1, 1_000_003, 998_244_353, 1_000_000_007)


def hashed_ngrams(tokens: Tensor, lengths: Tensor, order: int, buckets: int) -> tuple[Tensor, Tensor]:
    """Bucket ids ``(B, T - order + 1)`` of every n-gram and a mask of those inside each sequence."""
    steps = tokens.shape[1] - order + 1
    if steps <= 0:
        empty = tokens.new_zeros(tokens.shape[0], 0)
        return empty, empty.bool()
    code = torch.zeros_like(tokens[:, :steps])
    for k in range(order):
        code = code + tokens[:, k : k + steps] * _MULTIPLIERS[k]
    # Different orders land in different places even for the same ids.
    code = (code + order * 7_919) % buckets
    mask = mask_from_lengths((lengths.to(tokens.device) - order + 1).clamp_min(0), steps)
    return code, mask


class NgramBag(nn.Module):
    """``tokens (B, T)``, ``lengths (B,)`` -> the sum of the rows of all hashed n-grams over sqrt(count).

    With ``dim`` = the number of classes the rows are logits and the bag is a linear classifier of
    length-normalised n-gram counts.
    """

    def __init__(self, buckets: int, dim: int, orders: tuple[int, ...] = (1, 2, 3)) -> None:
        super().__init__()
        if not orders or any(n < 1 or n > len(_MULTIPLIERS) for n in orders):
            raise ValueError(f"ngram orders must be in 1..{len(_MULTIPLIERS)}, got {orders}")
        self.buckets = buckets
        self.orders = tuple(orders)
        self.embedding = nn.Embedding(buckets, dim)
        nn.init.zeros_(self.embedding.weight)  # starts neutral: the deep part is not drowned out at first

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        total = 0
        count = 0
        for order in self.orders:
            codes, mask = hashed_ngrams(tokens, lengths, order, self.buckets)
            total = total + (self.embedding(codes) * mask.unsqueeze(-1)).sum(1)
            count = count + mask.sum(1, keepdim=True)
        # Divide by sqrt(count), the L2 norm of a bag of distinct n-grams, as TF-IDF vectors are
        # L2-normalised: a mean would shrink every n-gram's say in long texts to almost nothing.
        return total / count.clamp_min(1).sqrt()
