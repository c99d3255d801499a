"""The Lightning module that trains any model for any task, given the task's :class:`Objective`."""

from __future__ import annotations

import math
from typing import Protocol

import lightning as L
import torch
from torch import Tensor, nn

from lstmkit.errors import TrainingError
from lstmkit.train.config import TrainConfig
from lstmkit.train.optim import make_optimizer, make_scheduler


class Objective(Protocol):
    """What a task tells the engine: how to score a batch, and how to summarise validation.

    ``eval_sums`` returns additive statistics of one batch (sums and counts, as tensors) so that
    they can be added over batches and over processes before ``summarize`` turns them into metrics;
    an average of per-batch averages would weigh a short last batch wrongly.
    """

    def loss(self, model: nn.Module, batch) -> Tensor: ...

    def eval_sums(self, model: nn.Module, batch) -> dict[str, Tensor]: ...

    def summarize(self, sums: dict[str, float]) -> dict[str, float]: ...

    def batch_size(self, batch) -> int: ...


class TrainingModule(L.LightningModule):
    """Wraps ``model``; logs ``train_loss`` per step and ``val_<metric>`` per epoch."""

    def __init__(self, model: nn.Module, objective: Objective, config: TrainConfig, param_groups=None) -> None:
        super().__init__()
        self.model = model
        self.objective = objective
        self.config = config
        self.param_groups = param_groups
        self._val_sums: dict[str, Tensor] = {}

    def training_step(self, batch, batch_idx):
        loss = self.objective.loss(self.model, batch)
        if not torch.isfinite(loss):
            raise TrainingError(
                f"the training loss became {loss.item()} at epoch {self.current_epoch}, step {self.global_step}; "
                "training stopped and the last good checkpoint was kept (lower --lr or set --clip-norm)"
            )
        self.log(
            "train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=self.objective.batch_size(batch)
        )
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val_sums = {}

    def validation_step(self, batch, batch_idx):
        for name, value in self.objective.eval_sums(self.model, batch).items():
            value = value.detach().to(torch.float64)
            self._val_sums[name] = self._val_sums.get(name, 0) + value

    def on_validation_epoch_end(self) -> None:
        # Every process validates on the whole validation set (it is not sharded), so each one
        # reaches the same numbers and the same early-stopping and checkpoint decisions.
        metrics = self.objective.summarize({name: float(value) for name, value in self._val_sums.items()})
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.log(f"val_{name}", float(value), prog_bar=True, sync_dist=False)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        members = getattr(self.model, "members", None)
        if not members or not gradient_clip_val:
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
            return
        # An ensemble trains its members apart on the mean of their losses: each member's gradient is
        # 1/n of its own, so clipping it alone at clip/n clips it as a lone network's would be clipped.
        for member in members:
            params = [p for p in member.parameters() if p.grad is not None]
            if params:
                nn.utils.clip_grad_norm_(params, gradient_clip_val / len(members))

    def configure_optimizers(self):
        optimizer = make_optimizer(self.param_groups or self.model.parameters(), self.config)
        scheduler = make_scheduler(optimizer, self.config, int(self.trainer.estimated_stepping_batches))
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
