"""The long-horizon (LTSF) benchmark: the segment recurrent forecaster beside baselines, on the LTSF protocol.

    OMP_NUM_THREADS=1 python benchmarks/ltsf_table.py [--data ../shared/data/ett/ETTh2.csv ...]
        [--horizons 96 192 336 720] [--lookback 96] [--features M] [--split auto]
        [--models segment_gru direct_lstm dlinear ...]
        [--seeds 0 1 2] [--epochs 12] [--csv benchmarks/results/ltsf_runs.csv]
        [--markdown benchmarks/results/ltsf_table.md] [--log runs/ltsf.log]

Protocol (lstmkit.data.ltsf): 12/4/4-month split for ETT-sized hourly or 15-minute files (70/10/20 %
otherwise; ``--split ett|ratio`` chooses), z-scores from the training rows, every test origin, MSE and
MAE on the scaled values; ``--features M`` forecasts every column from every column's own past, ``S``
the target column alone. ``direct_lstm`` is the task's direct forecaster read window by window (an
ablation: the same normalisation and training, an LSTM over the L steps instead of a GRU over L / w
segments). Each (data, features, horizon, model, seed) run is one CSV row, appended as soon as it ends;
a run already in the CSV is skipped, so an interrupted table resumes. The Markdown table gives the mean
and range over seeds, the training time per run, and for ETTh2 at L = 96 (multivariate) the published
figures, labelled as such.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.ltsf import SPLITS, LtsfWindows, choose_split, ltsf_split
from lstmkit.data.series import TimeSeries, load_series_csv
from lstmkit.heads.forecaster import ForecasterConfig, WindowForecaster
from lstmkit.heads.segment_forecaster import SegmentForecaster, SegmentForecasterConfig
from lstmkit.tasks.forecast.ltsf import LtsfTrainConfig, fit_baseline, fit_ltsf, model_forecaster, score_ltsf

MODELS = ("segment_gru", "segment_lstm", "direct_lstm", "dlinear", "linear", "repeat_last", "seasonal_naive")
NETWORKS = ("segment_gru", "segment_lstm", "direct_lstm")  # trained here; the baselines by fit_baseline
TRAINED = (*NETWORKS, "dlinear")
FIELDS = (
    "data", "features", "lookback", "horizon", "model", "seed", "mse", "mae", "val_mse", "val_mae",
    "best_epoch", "epochs_run", "train_seconds", "settings",
)  # fmt: skip
# lss-1138/SegRNN README, "Comparison Results for Lookback L = 96" (ETTh2, multivariate; MSE, MAE). The
# README takes the PatchTST and DLinear rows from the iTransformer paper (Liu et al. 2024, Table 10).
PUBLISHED = {
    "SegRNN": {96: (0.278, 0.335), 192: (0.359, 0.389), 336: (0.421, 0.436), 720: (0.432, 0.455)},
    "PatchTST": {96: (0.302, 0.348), 192: (0.388, 0.400), 336: (0.426, 0.433), 720: (0.431, 0.446)},
    "DLinear": {96: (0.333, 0.387), 192: (0.477, 0.476), 336: (0.594, 0.541), 720: (0.831, 0.657)},
}


def load_values(path: Path, features: str, target: str) -> TimeSeries:
    """The series whose targets are every numeric column (``features="M"``) or ``target`` alone (``"S"``)."""
    import pandas as pd

    columns = [c for c in pd.read_csv(path, nrows=2).columns if c.lower() not in ("date", "time", "timestamp", "ds")]
    return load_series_csv(path, targets=columns if features == "M" else [target], covariates=[])


def build(model: str, args: argparse.Namespace, horizon: int, channels: int) -> torch.nn.Module:
    if model == "direct_lstm":
        config = ForecasterConfig(
            past_size=1, future_size=0, horizon=horizon, kind="direct", cell="lstm", hidden_size=args.hidden_size,
            dropout=args.dropout, residual=False,
        )  # fmt: skip
        return WindowForecaster(config)
    config = SegmentForecasterConfig(
        lookback=args.lookback, horizon=horizon, channels=channels, segment_length=args.segment_length,
        hidden_size=args.hidden_size, cell=model.removeprefix("segment_"), dropout=args.dropout,
    )  # fmt: skip
    return SegmentForecaster(config)


def describe(model: str, args: argparse.Namespace) -> str:
    """The settings of a run besides its seed (a CSV column, and part of the key that resuming skips on)."""
    split = f" split={args.split}" if args.split != "auto" else ""  # auto: the rows measured before --split
    if model not in TRAINED:
        return (f"period={args.period}" if model == "seasonal_naive" else "") + split
    lr = args.lr if model != "dlinear" else args.dlinear_lr
    settings = f"epochs={args.epochs} lr={lr} decay={args.lr_decay} batch={args.batch_size} patience={args.patience}"
    if model in NETWORKS:
        segments = f" w={args.segment_length}" if model.startswith("segment") else ""
        settings += f" d={args.hidden_size}{segments} dropout={args.dropout}"
    return settings + split


def run_one(model: str, windows: LtsfWindows, horizon: int, seed: int, args, log: Callable[[str], None]) -> dict:
    started = time.perf_counter()
    train = LtsfTrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr if model != "dlinear" else args.dlinear_lr,
        lr_decay=args.lr_decay, patience=args.patience, seed=seed,
    )  # fmt: skip
    extra = {"best_epoch": "", "epochs_run": ""}
    if model in NETWORKS:
        torch.manual_seed(seed)
        network = build(model, args, horizon, windows.scaled.shape[1])
        fitted = fit_ltsf(network, windows, horizon, train, log)
        forecaster = model_forecaster(network)
        extra = {"best_epoch": fitted["best_epoch"], "epochs_run": len(fitted["epochs"])}
    else:
        forecaster = fit_baseline(model, windows, horizon, args.period, train, log)
    seconds = time.perf_counter() - started
    val = score_ltsf(forecaster, windows, "val", horizon)
    test = score_ltsf(forecaster, windows, "test", horizon)
    return {
        "mse": test["mse"], "mae": test["mae"], "val_mse": val["mse"], "val_mae": val["mae"],
        "train_seconds": round(seconds, 1), **extra,
    }  # fmt: skip


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


KEY = ("data", "features", "lookback", "horizon", "model", "settings", "seed")


def key(row: dict) -> tuple:
    return tuple(str(row[name]) for name in KEY)


def markdown(rows: list[dict]) -> str:
    """One line per (data, features, lookback, horizon, model, settings): mean MSE/MAE over seeds, MSE range,
    training time per run."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(key(row)[:-1], []).append(row)
    lines = [
        "| data | features | L | horizon | model | settings | seeds | test MSE (mean) | MSE range | "
        "test MAE (mean) | train s / run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {name: i for i, name in enumerate(MODELS)}
    for group in sorted(groups, key=lambda g: (g[0], g[1], int(g[2]), int(g[3]), order.get(g[4], 99), g[5])):
        runs = groups[group]
        mse = np.array([float(r["mse"]) for r in runs])
        mae = np.array([float(r["mae"]) for r in runs])
        seconds = np.mean([float(r["train_seconds"]) for r in runs])
        spread = f"{mse.min():.3f}-{mse.max():.3f}" if len(runs) > 1 else ""
        lines.append(
            f"| {' | '.join(group)} | {len(runs)} | {mse.mean():.3f} | {spread} | {mae.mean():.3f} | {seconds:.0f} |"
        )
    lines += ["", "Published, ETTh2, L = 96, multivariate (MSE / MAE; lss-1138/SegRNN README, 'Comparison Results "
              "for Lookback L = 96'; its PatchTST and DLinear rows come from the iTransformer paper):", "",
              "| model (published) | 96 | 192 | 336 | 720 |", "|---|---|---|---|---|"]  # fmt: skip
    for name, figures in PUBLISHED.items():
        lines.append(f"| {name} | " + " | ".join(f"{figures[h][0]:.3f} / {figures[h][1]:.3f}" for h in figures) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", type=Path, default=[Path("../shared/data/ett/ETTh2.csv")])
    parser.add_argument("--horizons", nargs="+", type=int, default=[96, 192, 336, 720])
    parser.add_argument("--lookback", type=int, default=96, choices=(96, 336, 720))
    parser.add_argument("--features", choices=("M", "S"), default="M", help="M: all columns; S: --target alone.")
    parser.add_argument("--target", default="OT")
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="auto",
        help="ett: 12/4/4 months; ratio: 70/10/20 %%; auto: ett for "
        "hourly or 15-minute series of ETT size (20-25 months).",
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dlinear-lr", type=float, default=5e-3)
    parser.add_argument("--lr-decay", type=float, default=0.8)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--segment-length", type=int, default=24)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument(
        "--period", type=int, default=24, help="Seasonal naive period in rows (24: daily, hourly data)."
    )
    parser.add_argument("--csv", type=Path, default=Path("benchmarks/results/ltsf_runs.csv"))
    parser.add_argument("--markdown", type=Path, default=Path("benchmarks/results/ltsf_table.md"))
    parser.add_argument("--log", type=Path, help="Also append every progress line to this file.")
    args = parser.parse_args()
    torch.set_num_threads(1)

    def log(line: str) -> None:
        print(line, flush=True)
        if args.log:
            with args.log.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    done = {key(row) for row in read_rows(args.csv)}
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    for path in args.data:
        series = load_values(path, args.features, args.target)
        rows_per_month = choose_split(args.split, series.freq, len(series))
        windows = LtsfWindows(series.targets, ltsf_split(len(series), args.lookback, rows_per_month))
        for horizon in args.horizons:
            for model in args.models:
                for seed in args.seeds if model in TRAINED else [0]:
                    row = {"data": path.stem, "features": args.features, "lookback": args.lookback, "horizon": horizon,
                           "model": model, "settings": describe(model, args), "seed": seed}  # fmt: skip
                    if key(row) in done:
                        continue
                    log(f"{path.stem} {args.features} L={args.lookback} H={horizon} {model} seed {seed}")
                    row.update(run_one(model, windows, horizon, seed, args, log))
                    log(f"  test MSE {row['mse']:.4f} MAE {row['mae']:.4f}, {row['train_seconds']:.0f} s")
                    new_file = not args.csv.is_file()
                    with args.csv.open("a", encoding="utf-8", newline="") as handle:
                        writer = csv.DictWriter(handle, fieldnames=FIELDS)
                        if new_file:
                            writer.writeheader()
                        writer.writerow(row)
    args.markdown.write_text(markdown(read_rows(args.csv)), encoding="utf-8")
    print(args.markdown.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
