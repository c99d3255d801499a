"""Classifiers made of several :class:`SequenceClassifier` members whose class probabilities are averaged.

Both ensembles train their members apart: the training objective scores each member's logits
(:meth:`member_logits`, on shared batches, or each :class:`ClassifierEnsemble` member on its own rows of
a step where the batches carry member ids, :mod:`lstmkit.data.member_batches`) and the engine clips each
member's gradient on its own (``members``), so a member learns as it would alone, apart from the
dropout draws (and shared batches) it shares. ``forward`` returns the log of the members' mean
probabilities, so a softmax of it gives them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.functional import reverse_padded
from lstmkit.heads._checks import Lengths, as_lengths
from lstmkit.heads.config import ClassifierConfig
from lstmkit.heads.models import SequenceClassifier

__all__ = ["ClassifierEnsemble", "ForwardBackwardClassifier", "mean_log_probabilities"]


def mean_log_probabilities(member_logits: list[Tensor] | tuple[Tensor, ...]) -> Tensor:
    """Each member's ``logits (B, C)`` -> ``log`` of their mean class probabilities ``(B, C)``."""
    log_probs = torch.stack([F.log_softmax(logits, -1) for logits in member_logits])
    return torch.logsumexp(log_probs, 0) - math.log(len(log_probs))


class ClassifierEnsemble(nn.Module):
    """``members`` independently initialised :class:`SequenceClassifier` networks of one ``config``, each
    reading the same inputs; their class probabilities are averaged.

    Member ``k`` is the ``k``-th network built after the caller seeds the random generator, so under one
    seed member 0 starts from the weights a lone :class:`SequenceClassifier` would.
    """

    def __init__(self, config: ClassifierConfig, members: int) -> None:
        super().__init__()
        if isinstance(members, bool) or not isinstance(members, int) or members < 2:
            raise ValueError(f"members must be an integer >= 2 (one network is a SequenceClassifier), got {members!r}")
        self.config = config
        self.networks = nn.ModuleList(SequenceClassifier(config) for _ in range(members))

    @property
    def members(self) -> tuple[SequenceClassifier, ...]:
        return tuple(self.networks)

    def member_logits(self, tokens: Tensor, lengths: Lengths = None, **steps: Tensor) -> list[Tensor]:
        """``tokens (B, T)``, ``lengths (B,)`` and the step inputs (``bigrams``, ``lexicon``) -> each
        member's ``logits (B, num_classes)``."""
        return [network(tokens, lengths, **steps) for network in self.networks]

    def forward(self, tokens: Tensor, lengths: Lengths = None, **steps: Tensor) -> Tensor:
        """``tokens (B, T)``, ``lengths (B,)``, step inputs -> ``log`` of the members' mean probabilities."""
        return mean_log_probabilities(self.member_logits(tokens, lengths, **steps))


class ForwardBackwardClassifier(nn.Module):
    """ULMFiT's forward + backward ensemble: two unidirectional :class:`SequenceClassifier` members of
    one ``config``, ``forward_model`` reading each text left to right and ``backward_model`` right to
    left; their class probabilities are averaged.

    ``forward`` returns the log of the averaged probabilities (so a softmax of it gives them back);
    :meth:`member_logits` gives each member's logits, which training scores one by one (ULMFiT
    trains the two classifiers apart; here they share batches, their parameters stay disjoint).
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        if config.encoder.bidirectional:
            raise ValueError(
                "config: the members of a forward + backward ensemble read one way each, so the encoder must be "
                "unidirectional (bidirectional=False), got bidirectional=True"
            )
        self.config = config
        self.forward_model = SequenceClassifier(config)
        self.backward_model = SequenceClassifier(config)

    @property
    def members(self) -> tuple[SequenceClassifier, SequenceClassifier]:
        return self.forward_model, self.backward_model

    def member_logits(self, tokens: Tensor, lengths: Lengths = None) -> tuple[Tensor, Tensor]:
        """``tokens (B, T)``, ``lengths (B,)`` -> each member's ``logits (B, num_classes)``."""
        reversed_tokens = reverse_padded(tokens.transpose(0, 1), as_lengths(lengths, *tokens.shape, tokens.device))
        return self.forward_model(tokens, lengths), self.backward_model(reversed_tokens.transpose(0, 1), lengths)

    def forward(self, tokens: Tensor, lengths: Lengths = None) -> Tensor:
        """``tokens (B, T)``, ``lengths (B,)`` -> ``log`` of the members' mean probabilities ``(B, num_classes)``."""
        return mean_log_probabilities(self.member_logits(tokens, lengths))
