"""Translation table: no attention vs attention (greedy and beam) for both directions of a pairs file.

Trains one run per (direction, attention) into ``--out`` (skipping runs that already finished), then
prints a Markdown table of test BLEU and chrF from their ``metrics.json``:

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/translate_table.py \\
        --data ../shared/data/tatoeba-cmn-eng/cmn.txt --directions en-zh zh-en --attention none general

Runs are independent, so two processes with different ``--directions`` can share the work.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lstmkit.tasks import translate
from lstmkit.train import TrainConfig


def run_name(direction: str, attention: str) -> str:
    return f"{direction}-{attention}"


def train_runs(args: argparse.Namespace) -> None:
    for direction in args.directions:
        src, tgt = direction.split("-")
        for attention in args.attention:
            run_dir = args.out / run_name(direction, attention)
            if (run_dir / "metrics.json").is_file():
                continue
            config = translate.TranslateConfig(
                data=str(args.data),
                src=src,
                tgt=tgt,
                attention=attention,
                input_feeding=args.input_feeding,
                embedding_dim=args.embedding_dim,
                hidden_size=args.hidden_size,
                dropout=args.dropout,
                max_pair_tokens=args.max_pair_tokens,
                beam_size=args.beam,
                length_penalty=args.length_penalty,
                train=TrainConfig(
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    lr=args.lr,
                    weight_decay=0.0,
                    patience=3,
                    monitor="loss",
                    monitor_mode="min",
                    progress=False,
                ),
            )
            result = translate.train(config, run_dir, force=True)
            print(direction, attention, json.dumps(result.metrics["model"]), flush=True)


def score_checkpoints(out: Path) -> None:
    """Score the best checkpoint of runs that were stopped before their last epoch (no metrics.json yet).

    Their metrics say how many epochs they ran (``epochs``) and ``"stopped": true``.
    """
    import csv

    from lstmkit.data.pairs import read_pairs
    from lstmkit.io import save_weights
    from lstmkit.runs import write_metrics

    for run_dir in sorted(path for path in out.iterdir() if path.is_dir()):
        best = run_dir / "checkpoints" / "best.ckpt"
        if (run_dir / "metrics.json").is_file() or not best.is_file():
            continue
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        save_weights(run_dir / "model.safetensors", {k.removeprefix("model."): v for k, v in state.items()})
        translator = translate.load(run_dir)
        test = read_pairs(run_dir / "test_pairs.tsv", (translator.config.src, translator.config.tgt))
        scores = translator.score(test, write_translations=True)
        with open(run_dir / "history.csv", encoding="utf-8") as f:
            history = list(csv.DictReader(f))
        config = translator.config
        write_metrics(
            run_dir,
            {
                "task": "translate",
                "data": {"name": Path(config.data).name, "direction": f"{config.src}-{config.tgt}", "test": len(test)},
                "model": {
                    "attention": config.attention,
                    "input_feeding": translator.model.config.input_feeding,
                    "bleu": scores["beam"]["bleu"],
                    "chrf": scores["beam"]["chrf"],
                    "greedy": scores["greedy"],
                    "beam": scores["beam"],
                    "beam_size": config.beam_size,
                    "val_loss": min(float(row["val_loss"]) for row in history),
                },
                "baselines": {},
                "epochs": len(history),
                "stopped": True,
                "train_seconds": None,
            },
        )
        print(run_dir.name, "scored from", best, json.dumps(scores), flush=True)


def table(out: Path) -> str:
    lines = [
        "| direction | model | decoding | BLEU | chrF | epochs | train s |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for path in sorted(out.glob("*/metrics.json")):
        metrics = json.loads(path.read_text(encoding="utf-8"))
        model = metrics["model"]
        direction = metrics["data"]["direction"].replace("-", "→")
        config = json.loads((path.parent / "config.json").read_text(encoding="utf-8"))["model"]
        feeding = ", input feeding" if config["input_feeding"] else ""
        name = "no attention" if model["attention"] == "none" else f"attention ({model['attention']}{feeding})"
        for decoding, key in (("greedy", "greedy"), (f"beam {model['beam_size']}", "beam")):
            scores = model[key]
            lines.append(
                f"| {direction} | {name} | {decoding} | {scores['bleu']:.1f} | {scores['chrf']:.1f} "
                f"| {metrics['epochs']}{' (stopped)' if metrics.get('stopped') else ''} "
                f"| {'–' if metrics['train_seconds'] is None else round(metrics['train_seconds'])} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/tatoeba-cmn-eng/cmn.txt"))
    parser.add_argument("--out", type=Path, default=Path("runs/translate-table"))
    parser.add_argument("--directions", nargs="+", default=["en-zh", "zh-en"])
    parser.add_argument("--attention", nargs="+", default=["none", "general"])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--max-pair-tokens", type=int, default=30)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument(
        "--input-feeding", action=argparse.BooleanOptionalAction, default=True, help="Luong input feeding."
    )
    parser.add_argument("--table-only", action="store_true", help="Only print the table of finished runs.")
    parser.add_argument(
        "--score-checkpoints", action="store_true", help="Score the best checkpoint of runs stopped before the end."
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.score_checkpoints:
        score_checkpoints(args.out)
    elif not args.table_only:
        train_runs(args)
    print(table(args.out))


if __name__ == "__main__":
    main()
