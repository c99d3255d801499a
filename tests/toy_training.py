"""A tiny sequence task for the training-engine tests; also runnable as a script (DDP, kill tests).

The label says whether the sum of a random sequence is positive: learnable in a few epochs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler, TensorDataset

import lstmkit
from lstmkit.train import ShardedBatchSampler, TrainConfig, fit


class SumSign(nn.Module):
    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.rnn = lstmkit.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.out(h[-1])


class SumSignObjective:
    def __init__(self, nan_after_steps: int | None = None, sleep: float = 0.0) -> None:
        self.nan_after_steps = nan_after_steps
        self.sleep = sleep
        self.steps = 0

    def loss(self, model, batch):
        x, y = batch
        self.steps += 1
        if self.sleep:
            time.sleep(self.sleep)
        loss = nn.functional.cross_entropy(model(x), y)
        if self.nan_after_steps is not None and self.steps > self.nan_after_steps:
            return loss * float("nan")
        return loss

    def eval_sums(self, model, batch):
        x, y = batch
        logits = model(x)
        return {
            "loss": nn.functional.cross_entropy(logits, y, reduction="sum"),
            "correct": (logits.argmax(-1) == y).sum(),
            "count": torch.tensor(len(y)),
        }

    def summarize(self, sums):
        return {"loss": sums["loss"] / sums["count"], "accuracy": sums["correct"] / sums["count"]}

    def batch_size(self, batch):
        return len(batch[1])


def loaders(n: int = 256, batch_size: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, 1, generator=g)
    y = (x.sum(dim=(1, 2)) > 0).long()
    data = TensorDataset(x, y)
    train = DataLoader(
        data, batch_sampler=ShardedBatchSampler(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last=False))
    )
    val = DataLoader(data, batch_size=64)
    return train, val


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model = SumSign()
    train, val = loaders()
    config = TrainConfig(epochs=args.epochs, devices=args.devices, lr=0.02, patience=None, progress=False)
    result = fit(model, SumSignObjective(sleep=args.sleep), train, val, config, args.run_dir, resume=args.resume)
    if result.is_global_zero:
        summary = {"epochs": result.epochs, "best_score": result.best_score, "history": result.history}
        Path(args.run_dir, "result.json").write_text(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
