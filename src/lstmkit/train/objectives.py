"""Objectives the engine trains against: classification over sequences, and language modelling.

Batches are dicts from the data layer: ``{"tokens": (B, T), "lengths": (B,), "labels": (B,)}``, and a
classifier's further per-step inputs (``"bigrams"``, ``"lexicon"``: ``(B, T)``, :data:`STEP_INPUTS`) where its
model reads them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.data.member_batches import member_rows
from lstmkit.functional import adversarial_perturbation, sequence_l2_normalize
from lstmkit.heads import bidirectional_lm_loss, lm_loss
from lstmkit.layers import detach_state

# Virtual adversarial training's finite-difference step: the norm of the random probe whose KL
# gradient gives the adversarial direction (one power iteration), as in Miyato et al.'s text code.
VIRTUAL_ADVERSARIAL_PROBE = 0.1

# Batch entries a classifier's forward takes by name beside tokens and lengths (only where the batch has them).
STEP_INPUTS = ("bigrams", "lexicon")


def _step_inputs(batch: dict) -> dict[str, Tensor]:
    return {name: batch[name] for name in STEP_INPUTS if name in batch}


class _ReplayedDraws:
    """The random-number state at construction, replayed around a later forward pass, so that a
    perturbed pass draws the clean pass's dropout masks (embedding, weight drop, output) and differs
    from it by the perturbation alone. The process's random stream goes on as if nothing was replayed."""

    def __init__(self, device: torch.device) -> None:
        self.devices = [device] if device.type == "cuda" else []
        self.cpu = torch.get_rng_state()
        self.accelerators = [torch.cuda.get_rng_state(d) for d in self.devices]

    def forward(self, model: nn.Module, batch: dict, perturbation: Tensor) -> Tensor:
        with torch.random.fork_rng(devices=self.devices):
            torch.set_rng_state(self.cpu)
            for device, state in zip(self.devices, self.accelerators):
                torch.cuda.set_rng_state(state, device)
            return model(batch["tokens"], batch["lengths"], perturbation=perturbation, **_step_inputs(batch))


def _kl_from(log_probs: Tensor, logits: Tensor) -> Tensor:
    """``KL(p || q)`` averaged over the batch, ``p`` given as ``log_probs (B, C)``, ``q`` as ``logits (B, C)``."""
    return F.kl_div(F.log_softmax(logits, -1), log_probs, reduction="batchmean", log_target=True)


class ClassificationObjective:
    """Cross-entropy (optionally label-smoothed); validation reports loss, accuracy and macro-F1.

    An ensemble that trains its members apart (it has ``member_logits``, as
    :class:`~lstmkit.heads.ClassifierEnsemble` and :class:`~lstmkit.heads.ForwardBackwardClassifier`) is
    trained on the mean of its members' losses and validated on its own output. A training batch with
    ``"member"`` ids (:func:`~lstmkit.data.member_batches.collate_member_batches`) gives each of the
    ensemble's ``members`` its own rows.

    Adversarial training (Miyato, Dai & Goodfellow 2017), for a model whose forward takes a
    ``perturbation`` of its embedded tokens (:class:`~lstmkit.heads.SequenceClassifier`): with
    ``adversarial`` = eps > 0 the loss gains the cross-entropy at the embedded texts moved by
    ``eps * g / ||g||`` (``g`` the clean loss's gradient with respect to them, the norm per text over
    its real tokens); with ``virtual_adversarial`` = eps > 0 it gains the KL divergence from the clean
    prediction to the prediction at the embedded texts moved by eps along the direction one power
    iteration finds (labels unused). Validation is unaffected.
    """

    def __init__(
        self, num_classes: int, label_smoothing: float = 0.0, adversarial: float = 0.0, virtual_adversarial: float = 0.0
    ) -> None:
        for name, eps in (("adversarial", adversarial), ("virtual_adversarial", virtual_adversarial)):
            if not (math.isfinite(eps) and eps >= 0):
                raise ValueError(f"{name} must be a finite perturbation norm >= 0 (0: off), got {eps}")
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.adversarial = adversarial
        self.virtual_adversarial = virtual_adversarial

    def _cross_entropy(self, logits: Tensor, labels: Tensor) -> Tensor:
        return F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)

    def loss(self, model: nn.Module, batch: dict) -> Tensor:
        tokens, lengths, labels = batch["tokens"], batch["lengths"], batch["labels"]
        inputs = _step_inputs(batch)
        members = getattr(model, "member_logits", None)
        if members and (self.adversarial or self.virtual_adversarial):
            raise ValueError(
                f"adversarial training perturbs one encoder's embedded tokens; {type(model).__name__} has several "
                f"members, so adversarial and virtual_adversarial must be 0, got {self.adversarial} and "
                f"{self.virtual_adversarial}"
            )
        if "member" in batch:  # an ensemble's members each read their own batch of the step
            parts = [member_rows(batch, k) for k in range(len(model.members))]
            return torch.stack(
                [
                    self._cross_entropy(network(part["tokens"], part["lengths"], **_step_inputs(part)), part["labels"])
                    for network, part in zip(model.members, parts)
                ]
            ).mean()
        if members:
            member_logits = members(tokens, lengths, **inputs)
            return torch.stack([self._cross_entropy(logits, labels) for logits in member_logits]).mean()
        if not (self.adversarial or self.virtual_adversarial):
            return self._cross_entropy(model(tokens, lengths, **inputs), labels)
        draws = _ReplayedDraws(tokens.device)
        weight = model.encoder.embedding.weight
        # A zero perturbation that requires grad: its gradient is the loss's gradient w.r.t. the embedded tokens.
        origin = torch.zeros(*tokens.shape, weight.shape[1], dtype=weight.dtype, device=weight.device)
        origin.requires_grad_(True)
        logits = model(tokens, lengths, perturbation=origin, **inputs)
        loss = self._cross_entropy(logits, labels)
        total = loss
        if self.adversarial:
            (gradient,) = torch.autograd.grad(loss, origin, retain_graph=True)
            r_adv = adversarial_perturbation(gradient, lengths, self.adversarial)
            total = total + self._cross_entropy(draws.forward(model, batch, r_adv), labels)
        if self.virtual_adversarial:
            clean = F.log_softmax(logits.detach(), -1)  # the target: no gradient flows into the clean prediction
            probe = VIRTUAL_ADVERSARIAL_PROBE * sequence_l2_normalize(torch.randn_like(origin), lengths)
            probe.requires_grad_(True)
            (gradient,) = torch.autograd.grad(_kl_from(clean, draws.forward(model, batch, probe)), probe)
            r_vadv = adversarial_perturbation(gradient, lengths, self.virtual_adversarial)
            total = total + _kl_from(clean, draws.forward(model, batch, r_vadv))
        return total

    def eval_sums(self, model: nn.Module, batch: dict) -> dict[str, Tensor]:
        logits = model(batch["tokens"], batch["lengths"], **_step_inputs(batch))
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
