"""Language models over a token stream read in truncated-BPTT windows (ULMFiT's pretraining).

:class:`StreamLanguageModel` owns the encoder a classifier will start from and one
:class:`LanguageModel` per reading direction. For a unidirectional encoder that is the encoder itself,
reading the stream forward. For a bidirectional one-layer encoder there are two language models, each
a *view* of one direction: the forward model holds the forward direction's parameters and reads the
stream forward, the backward model holds the ``_reverse`` parameters and reads the reversed stream,
and both share the embedding. Each view carries its own state from window to window, which one
bidirectional layer cannot do (its backward direction would need the state of the text after the window).
"""

from __future__ import annotations

from dataclasses import replace

from torch import Tensor, nn

from lstmkit.cell_kinds import parse_parameter_name
from lstmkit.heads.config import EncoderConfig, LanguageModelConfig
from lstmkit.heads.encoder import RecurrentEncoder
from lstmkit.heads.models import LanguageModel
from lstmkit.layers import State

__all__ = ["StreamLanguageModel", "DIRECTIONS"]

DIRECTIONS = ("forward", "backward")  # the stream each language model reads, in the order of ``models``


def _direction_view(encoder: RecurrentEncoder, lm: LanguageModel, reverse: bool) -> None:
    """Make ``lm.encoder`` use ``encoder``'s embedding and the parameters of one of its directions."""
    lm.encoder.embedding = encoder.embedding
    for name, parameter in encoder.rnn.named_parameters():
        parsed = parse_parameter_name(name)
        if parsed.reverse == reverse:
            setattr(lm.encoder.rnn, name.removesuffix("_reverse"), parameter)


class StreamLanguageModel(nn.Module):
    """``encoder`` (the one to pretrain) and ``models``: a :class:`LanguageModel` per direction of
    :data:`DIRECTIONS` it has (one for a unidirectional encoder, two for a bidirectional one).

    A bidirectional encoder must have one layer: a second layer reads both directions of the first,
    so its directions cannot be split into two language models. ``tie_weights`` as in
    :class:`LanguageModelConfig` (each direction's output matrix is then the shared embedding), and so
    are ``softmax`` and ``cutoffs`` (the output layer of each direction).
    """

    def __init__(
        self, encoder: EncoderConfig, dropout: float = 0.3, tie_weights: bool = False, softmax: str = "full",
        cutoffs: tuple[int, ...] = (),
    ) -> None:  # fmt: skip
        super().__init__()
        if encoder.bidirectional and encoder.num_layers != 1:
            raise ValueError(
                "encoder: a bidirectional encoder is pretrained on a stream only with num_layers=1 (its upper "
                f"layers read both directions), got num_layers={encoder.num_layers}"
            )
        self.encoder = RecurrentEncoder(encoder)
        one_way = LanguageModelConfig(
            replace(encoder, bidirectional=False), dropout, tie_weights, softmax=softmax, cutoffs=cutoffs
        )
        if encoder.bidirectional:
            self.models = nn.ModuleList(LanguageModel(one_way) for _ in DIRECTIONS)
            for reverse, lm in enumerate(self.models):
                _direction_view(self.encoder, lm, bool(reverse))
        else:
            lm = LanguageModel(one_way)
            lm.encoder = self.encoder
            self.models = nn.ModuleList([lm])

    def forward(self, windows: Tensor, states: list[State | None]) -> tuple[list[Tensor], list[State]]:
        """``windows (D, B, T)``: row ``d`` of the stream direction ``d`` reads; ``states``: one carried
        state (or ``None``) per direction -> per direction ``logits (B, T, V)`` and its final state."""
        self._check_directions(windows)
        results = [lm(tokens, state=state) for lm, tokens, state in zip(self.models, windows, states, strict=True)]
        return [logits for logits, _ in results], [state for _, state in results]

    def target_log_probs(self, windows: Tensor, states: list[State | None]) -> tuple[list[Tensor], list[State]]:
        """``windows (D, B, T + 1)``: each step's input then its target; ``states`` as :meth:`forward` ->
        per direction ``log p(targets) (B, T)`` (:meth:`LanguageModel.target_log_probs`) and its final state."""
        self._check_directions(windows)
        results = [
            lm.target_log_probs(tokens[:, :-1], tokens[:, 1:], state)
            for lm, tokens, state in zip(self.models, windows, states, strict=True)
        ]
        return [log_probs for log_probs, _ in results], [state for _, state in results]

    def _check_directions(self, windows: Tensor) -> None:
        if windows.shape[0] != len(self.models):
            raise ValueError(
                f"windows: expected {len(self.models)} directions in dim 0, got shape {tuple(windows.shape)}"
            )
