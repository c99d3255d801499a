"""Training steps as the engine takes them for an ensemble: the objective's loss, then each member's
gradient clipped on its own (``TrainingModule.configure_gradient_clipping``), or a lone network's whole."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from lstmkit.train import TrainConfig
from lstmkit.train.module import TrainingModule
from lstmkit.train.objectives import ClassificationObjective


def train_as_the_engine(model, batches: Iterable[dict], ensemble: bool, clip: float, num_classes: int = 3) -> None:
    """AdamW (lr 0.01) over ``batches``; ``ensemble``: clip as the engine clips an ensemble's members."""
    objective = ClassificationObjective(num_classes)
    module = TrainingModule(model, objective, TrainConfig())
    # eps far below any gradient here: AdamW then ignores a gradient's scale (the 1/n of a member's).
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, eps=1e-30)
    for batch in batches:
        optimizer.zero_grad()
        objective.loss(model, batch).backward()
        if ensemble:
            module.configure_gradient_clipping(optimizer, clip, "norm")
        else:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
