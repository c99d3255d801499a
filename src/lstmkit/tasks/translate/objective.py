"""What translation training minimises: label-smoothed cross-entropy of the next target token."""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TranslationObjective"]


class TranslationObjective:
    """Label-smoothed cross-entropy of the next target token (teacher forcing), padding left out;
    validation reports the plain per-token loss and perplexity."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = label_smoothing

    def _logits(self, model: nn.Module, batch: dict) -> tuple[Tensor, Tensor, Tensor]:
        logits = model(batch["source"], batch["source_lengths"], batch["target_inputs"])
        mask = batch["target_outputs"] != 0
        return logits[mask], batch["target_outputs"][mask], mask

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        logits, targets, _ = self._logits(model, batch)
        return F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        logits, targets, mask = self._logits(model, batch)
        return {"loss": F.cross_entropy(logits, targets, reduction="sum"), "tokens": mask.sum()}

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        loss = sums["loss"] / max(sums["tokens"], 1)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50))}

    def batch_size(self, batch: dict) -> int:
        return len(batch["source_lengths"])
