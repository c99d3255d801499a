"""Objectives the engine trains against: classification over sequences, and language modelling.

Batches are dicts from the data layer: ``{"tokens": (B, T), "lengths": (B,), "labels": (B,)}``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.heads import bidirectional_lm_loss, lm_loss
from lstmkit.layers import detach_state


class ClassificationObjective:
    """Cross-entropy (optionally label-smoothed); validation reports loss, accuracy and macro-F1.

    An ensemble that trains its members apart (it has ``member_logits``, as
    :class:`~lstmkit.heads.ForwardBackwardClassifier`) is trained on the mean of its members' losses
    and validated on its own output.
    """

    def __init__(self, num_classes: int, label_smoothing: float = 0.0) -> None:
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        members = getattr(model, "member_logits", None)
        outputs = members(batch["tokens"], batch["lengths"]) if members else [model(batch["tokens"], batch["lengths"])]
        losses = [F.cross_entropy(logits, batch["labels"], label_smoothing=self.label_smoothing) for logits in outputs]
        return torch.stack(losses).mean()

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        logits = model(batch["tokens"], batch["lengths"])
        labels = batch["labels"]
        predicted = logits.argmax(-1)
        # Per-class true positives, false positives and false negatives add up across batches
        # and processes, so macro-F1 can be computed exactly from the totals.
        classes = torch.arange(self.num_classes, device=labels.device).unsqueeze(1)
        hit = predicted == labels
        return {
            "loss": F.cross_entropy(logits, labels, reduction="sum"),
            "count": torch.tensor(float(len(labels))),
            "correct": hit.sum(),
            **{f"tp{k}": v for k, v in enumerate(((predicted == classes) & hit).sum(1))},
            **{f"fp{k}": v for k, v in enumerate(((predicted == classes) & ~hit).sum(1))},
            **{f"fn{k}": v for k, v in enumerate(((labels == classes) & ~hit).sum(1))},
        }

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        f1 = []
        for k in range(self.num_classes):
            tp, fp, fn = sums[f"tp{k}"], sums[f"fp{k}"], sums[f"fn{k}"]
            f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        return {
            "loss": sums["loss"] / sums["count"],
            "accuracy": sums["correct"] / sums["count"],
            "macro_f1": sum(f1) / len(f1),
        }

    def batch_size(self, batch: dict) -> int:
        return len(batch["lengths"])


class LanguageModelObjective:
    """Next-token cross-entropy; reports loss (nats per token) and perplexity.

    ``bidirectional``: the model is a :class:`~lstmkit.heads.BidirectionalLanguageModel` (both
    directions predict); otherwise a :class:`~lstmkit.heads.LanguageModel` returning ``(logits, state)``.
    """

    def __init__(self, bidirectional: bool = False) -> None:
        self.bidirectional = bidirectional

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        output = model(batch["tokens"], batch["lengths"])
        if self.bidirectional:
            return bidirectional_lm_loss(output, batch["tokens"], batch["lengths"])
        return lm_loss(output[0], batch["tokens"], batch["lengths"])

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        predicted = (batch["lengths"] - 1).clamp_min(0).sum()
        return {"loss": self.loss(model, batch) * predicted, "tokens": predicted}

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        loss = sums["loss"] / max(sums["tokens"], 1)
        return {"loss": loss, "perplexity": math.exp(min(loss, 50))}

    def batch_size(self, batch: dict) -> int:
        return len(batch["lengths"])


class StreamLanguageModelObjective(LanguageModelObjective):
    """Next-token cross-entropy of a :class:`~lstmkit.heads.StreamLanguageModel` over truncated-BPTT windows.

    Batches are ``{"windows": (D, B, T + 1), "reset": bool}`` in stream order (:func:`~lstmkit.data.stream_batches`):
    inputs are the first ``T`` columns, targets the last ``T``. The state each direction ends a window
    with is carried, detached, into the next window (backpropagation stops at window edges) and
    dropped where ``reset`` marks a stream's first window. Training and evaluation carry apart, so a
    validation pass between two training epochs does not disturb the training stream.
    """

    def __init__(self) -> None:
        super().__init__()
        self._states: dict[bool, list] = {}

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        windows = batch["windows"]
        carried = self._states.get(model.training)
        if batch["reset"] or carried is None:
            carried = [None] * windows.shape[0]
        # Log-probabilities of the targets alone: an adaptive softmax never forms the full distribution.
        log_probs, states = model.target_log_probs(windows, carried)
        self._states[model.training] = [detach_state(state) for state in states]
        return -torch.stack([direction.mean() for direction in log_probs]).mean()

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        predicted = torch.tensor(float(batch["windows"][0, :, 1:].numel()))
        return {"loss": self.loss(model, batch) * predicted, "tokens": predicted}

    def batch_size(self, batch: dict) -> int:
        return batch["windows"].shape[1]
