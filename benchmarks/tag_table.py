"""The tagging benchmark: BiLSTM taggers beside the baselines on the embedded PKU sets, each row scored
on the same test part (the split by sentence hash).

    OMP_NUM_THREADS=1 python benchmarks/tag_table.py [--data pku-seg pku-pos] [--rows ROW ...]
        [--seeds 0 1 2] [--max-sentences N] [--epochs E] [--out runs/tag_table] [--markdown table.md]

Prints one table per data set: word F1 (mean over seeds and its range), OOV recall, joint F1 and tag
accuracy of each row, and the wall time of each run. The first row of ``--rows`` (the default tagger
unless another is named first) runs every ``--seeds``; the others (ablations) run the first seed only.
The baselines are fitted once per data set, split and ``--crf-iterations`` and cached beside the runs
(``{data}-baselines.json``), as are finished runs whose configuration matches, so an interrupted study
continues where it stopped and rows can be trained in separate processes. ``--max-sentences`` takes the
first N sentences only (its figures are a subset's). Each run directory keeps its metrics.json,
per_tag.tsv and confusion_matrix.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from lstmkit.data.tagged_corpora import split_sentences
from lstmkit.runs import METRICS, read_run_config
from lstmkit.tasks import tag
from lstmkit.tasks.tag.baselines import CRF_ITERATIONS, baseline_scores, reference_tags, score_predicted
from lstmkit.tasks.tag.data import load_sentences, train_words

DATA = ("pku-seg", "pku-pos")
# The dictionary of the words seen twice or more, with a wider network (embeddings 100, hidden 200).
_LARGE_DICTIONARY = {"dictionary": True, "dictionary_min_freq": 2, "embedding_dim": 100, "hidden_size": 200}
# row -> the TagConfig fields that make it (beside data and max_sentences); the first row is the default
# (with bigrams, as character data gets by default).
ROWS = {
    "default": {},
    "softmax": {"decoder": "softmax"},
    "no-bigrams": {"bigrams": False},
    "gru": {"cell": "gru"},
    "rnn": {"cell": "rnn"},
    "dictionary": {"dictionary": True},
    "dictionary-min-freq-2": {"dictionary": True, "dictionary_min_freq": 2},
    "dictionary-min-freq-2-e100-h200": _LARGE_DICTIONARY,
    "dictionary-min-freq-2-e100-h200-input-dropout": {**_LARGE_DICTIONARY, "input_dropout": 0.2},
    "embedding-dropout": {"embedding_dropout": 0.2},
}
SCORES = {"word_f1": "word F1", "oov_recall": "OOV recall", "joint_f1": "joint F1", "tag_accuracy": "tag accuracy"}


def row_config(data: str, row: str, seed: int, args: argparse.Namespace) -> tag.TagConfig:
    config = tag.TagConfig(data=data, max_sentences=args.max_sentences, baselines=False, **ROWS[row])
    train = replace(config.train, seed=seed, progress=False, epochs=args.epochs or config.train.epochs)
    return replace(config, train=train)


def run(config: tag.TagConfig, run_dir: Path) -> dict:
    """The metrics of ``config``'s run in ``run_dir``, trained unless a finished run there has that config
    (read as TagConfig reads it: a run saved before an option existed has that option's default)."""
    if (run_dir / METRICS).is_file() and tag.TagConfig.from_dict(read_run_config(run_dir, "tag")["config"]) == config:
        return json.loads((run_dir / METRICS).read_text(encoding="utf-8"))
    return tag.train(config, run_dir, force=True).metrics


def split(data: str, args: argparse.Namespace) -> tuple:
    """``data``'s train and test parts (of its first ``--max-sentences``)."""
    parts = split_sentences(load_sentences(tag.TagConfig(data=data, max_sentences=args.max_sentences)))
    return parts["train"], parts["test"]


def reference_scores(train, test, words: set[str]) -> dict:
    """The reference rows' scores (jieba on character data), beside the baselines but not among them;
    ``words`` are the training words (for OOV recall)."""
    return score_predicted(reference_tags(train, test), test, words)


def baselines(data: str, args: argparse.Namespace, path: Path) -> dict:
    """The baselines' scores on ``data``'s test part and their wall time (cached in ``path``)."""
    key = {"data": data, "max_sentences": args.max_sentences, "crf_iterations": args.crf_iterations}
    if path.is_file():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["key"] == key:
            if "references" not in cached:  # a cache written before the reference rows: add them (seconds)
                train, test = split(data, args)
                cached["references"] = reference_scores(train, test, train_words(train))
                path.write_text(json.dumps(cached, indent=1), encoding="utf-8")
            return cached
    started = time.perf_counter()
    train, test = split(data, args)
    words = train_words(train)
    scores = baseline_scores(train, test, words, args.crf_iterations)
    result = {"key": key, "scores": scores, "seconds": time.perf_counter() - started}
    result["references"] = reference_scores(train, test, words)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def table(data: str, rows: dict[str, list[dict]], fitted: dict) -> list[str]:
    """Markdown: each row (mean over its seeds, the word F1's range), then the baselines (fitted once)."""
    first = next(iter(rows.values()))[0]
    test, train = first["data"]["test"], first["data"]["train"]
    names = [n for n in SCORES if any(n in m["model"] for runs in rows.values() for m in runs)]
    lines = [
        f"{data}: train {train['sentences']} sentences, test {test['sentences']} sentences "
        f"({test['characters']} characters)",
        "",
        "| model | seeds | " + " | ".join(SCORES[n] for n in names) + " | word F1 min – max | epochs | wall s / run |",
        "|---" * (len(names) + 5) + "|",
    ]
    for row, runs in rows.items():
        seeds = ",".join(str(m["seed"]) for m in runs)
        cells = [f"{statistics.mean(m['model'][n] for m in runs):.4f}" if n in runs[0]["model"] else "" for n in names]
        f1 = [m["model"]["word_f1"] for m in runs] if "word_f1" in names else []
        spread = f"{min(f1):.4f} – {max(f1):.4f}" if f1 else ""
        epochs = statistics.mean(m["epochs"] for m in runs)
        wall = statistics.mean(m["total_seconds"] for m in runs)
        # (a row that changes no part of the network's name, such as a dropout, is named by its row)
        name = runs[0]["model"]["name"] + ("" if row == "default" else f" [{row}]")
        lines.append(f"| {name} | {seeds} | {' | '.join(cells)} | {spread} | {epochs:g} | {wall:.0f} |")
    for name, scores in [*fitted["scores"].items(), *fitted.get("references", {}).items()]:
        cells = [f"{scores[n]:.4f}" if isinstance(scores.get(n), float) else "" for n in names]
        lines.append(f"| {name} | – | {' | '.join(cells)} | | | |")
    lines += ["", f"Baselines fitted and scored once, in {fitted['seconds']:.0f} s (all of them)."]
    if fitted.get("references"):
        lines.append(
            "A reference is not a baseline: jieba segments by its own standard and dictionary, not PKU's "
            "(and its dictionary may have seen this corpus)."
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=[DATA[0]], choices=DATA)
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="Seeds of the first row.")
    parser.add_argument("--max-sentences", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None, help="Default: TagConfig's.")
    parser.add_argument(
        "--crf-iterations", type=int, default=CRF_ITERATIONS, help="L-BFGS iterations of the character CRF."
    )
    parser.add_argument("--out", type=Path, default=Path("runs/tag_table"))
    parser.add_argument("--markdown", type=Path, help="Also write the tables as Markdown to this file.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = []
    for data in args.data:
        prefix = f"{data}-n{args.max_sentences}" if args.max_sentences else data
        fitted = baselines(data, args, args.out / f"{prefix}-baselines.json")
        rows = {}
        for row in args.rows:
            seeds = args.seeds if row == args.rows[0] else args.seeds[:1]
            rows[row] = []
            for seed in seeds:
                config = row_config(data, row, seed, args)
                metrics = run(config, args.out / f"{prefix}-{row}-s{seed}")
                rows[row].append(metrics | {"seed": seed})
        lines += table(data, rows, fitted) + [""]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
