"""The tagging benchmark: BiLSTM taggers beside the baselines on the embedded PKU sets, each row scored
on the same test part (the split by sentence hash).

    OMP_NUM_THREADS=1 python benchmarks/tag_table.py [--data pku-seg pku-pos] [--max-sentences N]
        [--epochs 5] [--out runs/tag_table] [--markdown table.md]

Prints one table per data set: word F1, OOV recall, joint F1 and tag accuracy of each model, and the
training time of each network. ``--max-sentences`` takes the first N sentences only (a quick check of
the script; its figures are not the benchmark's). Each run directory keeps its metrics.json,
per_tag.tsv and confusion_matrix.png.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from lstmkit.tasks import tag
from lstmkit.train import TrainConfig

DATA = ("pku-seg", "pku-pos")
# row name -> the TagConfig fields that make it (beside data, max_sentences and train)
NETWORKS = {
    "bilstm-crf": {},
    "bilstm-softmax": {"decoder": "softmax"},
    "bilstm-crf+bigrams": {"bigrams": True},
}
SCORES = {"word_f1": "word F1", "oov_recall": "OOV recall", "joint_f1": "joint F1", "tag_accuracy": "tag accuracy"}


def run(data: str, network: str, args: argparse.Namespace) -> dict:
    train = TrainConfig(epochs=args.epochs, batch_size=32, lr=3e-3, patience=2, progress=False)
    baselines = network == next(iter(NETWORKS))  # once per data set: every row is scored on the same part
    config = tag.TagConfig(
        data=data, max_sentences=args.max_sentences, baselines=baselines, train=train, **NETWORKS[network]
    )
    started = time.perf_counter()
    metrics = tag.train(config, args.out / f"{data}-{network}", force=True).metrics
    metrics["wall"] = time.perf_counter() - started
    return metrics


def table(data: str, results: dict[str, dict]) -> list[str]:
    """Markdown rows: each network, then the baselines (scored with the first network, on the same part)."""
    first = next(iter(results.values()))
    test = first["data"]["test"]
    rows = {name: (metrics["model"], f"{metrics['wall']:.0f}") for name, metrics in results.items()}
    rows |= {name: (scores, "") for name, scores in first["baselines"].items()}
    names = [name for name in SCORES if any(name in scores for scores, _ in rows.values())]
    lines = [f"{data} test: {test['sentences']} sentences, {test['characters']} characters", ""]
    lines += ["| model | " + " | ".join(SCORES[n] for n in names) + " | train s |", "|---" * (len(names) + 2) + "|"]
    for model, (scores, seconds) in rows.items():
        cells = [f"{scores[n]:.4f}" if isinstance(scores.get(n), float) else "" for n in names]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {seconds} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=list(DATA), choices=DATA)
    parser.add_argument("--max-sentences", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/tag_table"))
    parser.add_argument("--markdown", type=Path, help="Also write the tables as Markdown to this file.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = []
    for data in args.data:
        lines += table(data, {network: run(data, network, args) for network in NETWORKS}) + [""]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
