"""What the forecaster minimises: the pinball loss over its quantiles, or MSE/MAE of a point forecast."""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.heads.forecaster import pinball_loss

__all__ = ["ForecastObjective", "point_index"]


def point_index(quantiles: tuple[float, ...]) -> int:
    """The output column of the point forecast: the quantile nearest the median (the only one without)."""
    return int(np.argmin(np.abs(np.asarray(quantiles or (0.5,)) - 0.5)))


class ForecastObjective:
    """Pinball loss over the quantiles, or MSE/MAE; validation reports the loss and the scaled MAE and
    MSE of the point forecast (the median). ``predict(model, batch)`` is the model's ``(..., Q)`` output
    for a batch of the backtest's windows (past, known future, base)."""

    def __init__(self, loss: str, quantiles: tuple[float, ...]) -> None:
        self.kind = loss
        self.quantiles = torch.tensor(quantiles or (0.5,), dtype=torch.float32)
        self.point = point_index(quantiles)

    def _loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.kind == "quantile":
            return pinball_loss(prediction, target, self.quantiles.to(prediction.device))
        error = prediction[..., 0] - target
        return (error**2).mean() if self.kind == "mse" else error.abs().mean()

    def predict(self, model, batch) -> torch.Tensor:
        return model(batch["past"], batch["future"], batch["base"])

    def loss(self, model, batch) -> torch.Tensor:
        return self._loss(self.predict(model, batch), batch["target"])

    def eval_sums(self, model, batch) -> dict[str, torch.Tensor]:
        prediction = self.predict(model, batch)
        error = prediction[..., self.point] - batch["target"]
        count = torch.tensor(float(batch["target"].numel()))
        return {
            "loss": self._loss(prediction, batch["target"]) * count,
            "abs": error.abs().sum(),
            "squared": (error**2).sum(),
            "count": count,
        }

    def summarize(self, sums: dict[str, float]) -> dict[str, float]:
        count = sums["count"]
        return {"loss": sums["loss"] / count, "mae": sums["abs"] / count, "mse": sums["squared"] / count}

    def batch_size(self, batch) -> int:
        return len(batch["target"])
