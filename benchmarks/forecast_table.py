"""The forecasting benchmark: train the default forecaster on each embedded series and backtest it beside
naive, seasonal naive and Holt-Winters on the same rolling origins.

    OMP_NUM_THREADS=1 python benchmarks/forecast_table.py [--out runs/forecast_table] [--data co2 taylor]
        [--seeds 0] [--markdown table.md]

Prints one row per series: MASE of each model, the LSTM's 10-90 % interval coverage, whether the LSTM
beats seasonal naive and matches Holt-Winters, and the training time. Each run directory keeps its
metrics.json and backtest.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lstmkit.tasks import forecast
from lstmkit.train import TrainConfig

SERIES = ("airpassengers", "co2", "sunspots", "taylor", "elecdemand")


def run(name: str, out: Path, seed: int) -> dict:
    train = TrainConfig(
        epochs=40, batch_size=64, lr=3e-3, weight_decay=1e-4, patience=8, monitor="loss", monitor_mode="min",
        seed=seed, progress=False,
    )  # fmt: skip
    config = forecast.ForecastConfig(data=name, train=train)  # each series' own defaults (docs/forecast.md)
    return forecast.train(config, out / f"{name}-seed{seed}", force=True).metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/forecast_table"))
    parser.add_argument("--data", nargs="+", default=list(SERIES), choices=SERIES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--markdown", type=Path, help="Also write the table as Markdown to this file.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    header = "| series | horizon | origins | LSTM MASE | seasonal naive | naive | Holt-Winters (form) | "
    header += "LSTM coverage 10-90 % | < s. naive | <= HW | train s |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    wins = {"seasonal": 0, "ets": 0}
    for name in args.data:
        results = []
        for seed in args.seeds:
            started = time.perf_counter()
            metrics = run(name, args.out, seed)
            metrics["wall"] = time.perf_counter() - started
            results.append(metrics)
        mase = float(np.mean([m["model"]["mase"] for m in results]))
        baselines = results[0]["baselines"]
        coverage = float(np.mean([m["model"].get("coverage", float("nan")) for m in results]))
        beats_seasonal = mase < baselines["seasonal_naive"]["mase"]
        matches_ets = mase <= baselines["ets"]["mase"]
        wins["seasonal"] += beats_seasonal
        wins["ets"] += matches_ets
        backtest = results[0]["backtest"]
        seconds = float(np.mean([m["train_seconds"] for m in results]))
        lines.append(
            f"| {name} | {backtest['horizon']} | {len(backtest['origins'])} | {mase:.3f} | "
            f"{baselines['seasonal_naive']['mase']:.3f} (m={backtest['period']}) | {baselines['naive']['mase']:.3f} | "
            f"{baselines['ets']['mase']:.3f} ({backtest['ets_form'][0]}) | {coverage:.2f} | "
            f"{'yes' if beats_seasonal else 'no'} | {'yes' if matches_ets else 'no'} | {seconds:.0f} |"
        )
        print(lines[-1], flush=True)
    summary = (
        f"LSTM below seasonal naive on {wins['seasonal']}/{len(args.data)}, "
        f"at most Holt-Winters on {wins['ets']}/{len(args.data)} (seeds {args.seeds})"
    )
    table = "\n".join(lines + ["", summary])
    print()
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
