"""Late fusion of the recurrent network with the TF-IDF logistic regression (``fusion=True``).

After training, the two models' class probabilities are combined by a weighted geometric mean, the
recurrent share chosen on validation accuracy. The linear model is kept beside the run
(``linear.json`` + ``linear.safetensors``) and ``fusion.json`` records the share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmkit.errors import RunDirectoryError
from lstmkit.io import load_json, write_json

__all__ = ["FUSION_WEIGHTS", "fuse_probabilities", "choose_fusion_weight", "FusedLinear"]

LINEAR_MODEL = "linear"  # linear.json + linear.safetensors: the fused TF-IDF model
FUSION = "fusion.json"
# Weights of the recurrent model tried in the late fusion; both members always take part.
FUSION_WEIGHTS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(1, 10))


def fuse_probabilities(recurrent: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """Late fusion: the weighted geometric mean of two models' class probabilities, renormalised.

    ``weight`` is the recurrent model's share (0..1); ``recurrent`` and ``linear`` are ``(N, C)``.
    A geometric mean lets a confident member outvote an unsure one, as adding logits would.
    """
    if recurrent.shape != linear.shape:
        raise ValueError(f"probabilities differ in shape: recurrent {recurrent.shape}, linear {linear.shape}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must lie in [0, 1], got {weight}")
    tiny = np.finfo(np.float64).tiny  # log(0) would poison the mean
    log_p = weight * np.log(np.maximum(recurrent, tiny)) + (1 - weight) * np.log(np.maximum(linear, tiny))
    log_p -= log_p.max(axis=1, keepdims=True)
    return np.exp(log_p) / np.exp(log_p).sum(axis=1, keepdims=True)


def choose_fusion_weight(
    recurrent: np.ndarray, linear: np.ndarray, labels: np.ndarray, weights=FUSION_WEIGHTS
) -> tuple[float, dict[float, float]]:
    """The recurrent share with the best validation accuracy (ties: the one nearest an even mix),
    and the accuracy of every share tried."""
    scores = {w: float((fuse_probabilities(recurrent, linear, w).argmax(1) == labels).mean()) for w in weights}
    best = max(scores.values())
    return min((w for w, a in scores.items() if a == best), key=lambda w: abs(w - 0.5)), scores


@dataclass
class FusedLinear:
    """The TF-IDF logreg of a fused run and the recurrent network's share of the fusion."""

    linear: Any  # lstmkit.baselines.LinearTextModel
    recurrent_weight: float
    val_accuracy_by_weight: dict[float, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, linear, val_recurrent: np.ndarray, val_texts: list[str], val_labels: np.ndarray) -> FusedLinear:
        """Choose the recurrent share on validation, from the network's ``val_recurrent`` probabilities."""
        weight, by_weight = choose_fusion_weight(val_recurrent, linear.predict_proba(val_texts), val_labels)
        return cls(linear, weight, by_weight)

    def fuse(self, recurrent: np.ndarray, texts: list[str]) -> np.ndarray:
        """The fused ``(N, C)`` probabilities of ``texts``, given the recurrent network's ``recurrent``."""
        return fuse_probabilities(recurrent, self.linear.predict_proba(texts), self.recurrent_weight)

    def save(self, run_dir: Path) -> None:
        self.linear.save(run_dir / LINEAR_MODEL)
        write_json(
            run_dir / FUSION,
            {"recurrent_weight": self.recurrent_weight, "val_accuracy_by_weight": self.val_accuracy_by_weight},
        )

    @classmethod
    def load(cls, run_dir: Path, labels: list[str]) -> FusedLinear:
        from lstmkit.baselines import LinearTextModel

        linear = LinearTextModel.load(run_dir / LINEAR_MODEL)
        if linear.classes != labels:
            raise RunDirectoryError(f"{run_dir}: the linear model's classes {linear.classes} are not {labels}")
        return cls(linear, load_json(run_dir / FUSION, lambda saved: float(saved["recurrent_weight"])))
