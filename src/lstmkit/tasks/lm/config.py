"""The configuration of a character-LM run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["LMConfig", "TEMPERATURE"]

TEMPERATURE = 0.8  # sampling temperature of `generate`, in Python and on the command line


@dataclass(frozen=True)
class LMConfig(TaskConfig):
    """A character LM run. ``data`` is a registered text (``kjv``) or a UTF-8 file; ``max_chars``
    keeps only its first characters (the split is taken after that).

    ``tie_weights`` reuses the character embedding as the output matrix (Press & Wolf 2017, as in
    AWD-LSTM), which needs ``embedding_dim == hidden_size``; ``None`` (the default) ties them when the
    sizes allow it (runs saved before the option existed did the same). ``weight_drop`` is DropConnect on the
    recurrent weights (one mask per batch) and ``dropout_kind`` ``"locked"`` draws one dropout mask per
    sequence shared over time (between layers and on the LSTM's output); see :class:`lstmkit.LSTM`.
    """

    data: str = "kjv"
    max_chars: int | None = 1_000_000
    sequence_length: int = 128
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.1
    weight_drop: float = 0.0
    dropout_kind: str = "standard"
    tie_weights: bool | None = None
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=3, batch_size=64, lr=3e-3, patience=2, monitor="loss", monitor_mode="min", weight_decay=0.0
        )
    )

    @property
    def tied(self) -> bool:
        """Whether the output layer reuses the embedding: ``tie_weights``, or where it is None, whether
        the sizes allow it."""
        return self.embedding_dim == self.hidden_size if self.tie_weights is None else self.tie_weights

    def __post_init__(self) -> None:
        from lstmkit.functional import DROPOUT_KINDS
        from lstmkit.heads._checks import check_choice, check_positive_int, check_probability

        for name in ("embedding_dim", "hidden_size", "num_layers"):
            check_positive_int(name, getattr(self, name))
        for name in ("dropout", "weight_drop"):
            check_probability(name, getattr(self, name))
        check_choice("dropout_kind", self.dropout_kind, DROPOUT_KINDS)
        if self.tie_weights is True and self.embedding_dim != self.hidden_size:
            raise ValueError(
                "tie_weights needs embedding_dim == hidden_size (the output layer reuses the embedding), "
                f"got embedding_dim={self.embedding_dim}, hidden_size={self.hidden_size}; "
                "match them or untie the weights (tie_weights=False, --no-tie-weights)"
            )
        # ValueError, each message starting with the field's name: the CLI names the option from it.
        if self.sequence_length < 2:
            raise ValueError(f"sequence_length must be at least 2, got {self.sequence_length}")
        if self.max_chars is not None and self.max_chars < 100:
            raise ValueError(f"max_chars must be at least 100 or None (all), got {self.max_chars}")
