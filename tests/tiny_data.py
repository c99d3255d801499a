"""Small valid data files of each kind a task reads, built from seeded word lists: reviews whose
label a keyword gives away, word-for-word English-Chinese pairs, an hourly series with a daily
cycle, and an English text. Tiny models learn them in seconds."""

from __future__ import annotations

import random
from pathlib import Path

POSITIVE = ["很好", "喜欢", "满意", "不错", "推荐"]
NEGATIVE = ["太差", "失望", "难用", "退货", "垃圾"]
FILLER = list("这个东西我们买了一天用手机书质量服务快递价格")
WORDS = {"cat": "猫", "dog": "狗", "big": "大", "red": "红", "eats": "吃", "sees": "看", "fish": "鱼", "the": ""}


def review_rows(n: int = 120, seed: int = 0, labels=("positive", "negative")) -> list[tuple[str, str]]:
    """(text, label) rows whose label a keyword gives away, so a tiny model learns them."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = POSITIVE if i % 2 == 0 else NEGATIVE
        text = "".join(rng.choices(FILLER, k=rng.randint(3, 8))) + rng.choice(words) + str(i)
        rows.append((text, label))
    return rows


def write_reviews(path: Path, n: int = 120, labels=("positive", "negative"), sep: str = ",") -> Path:
    lines = [f"text{sep}label"] + [f"{text}{sep}{label}" for text, label in review_rows(n, labels=labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pair_lines(n: int = 160, seed: int = 0) -> list[str]:
    """English<TAB>Chinese word-for-word pairs."""
    rng = random.Random(seed)
    english = [w for w in WORDS if w != "the"]
    lines = []
    for _ in range(n):
        words = ["the", *rng.choices(english, k=rng.randint(2, 4))]
        lines.append(" ".join(words) + "\t" + "".join(WORDS[w] for w in words))
    return lines


def write_pairs(path: Path, n: int = 160) -> Path:
    path.write_text("\n".join(pair_lines(n)) + "\n", encoding="utf-8")
    return path


def series_lines(n: int = 24 * 12) -> list[str]:
    """An hourly ``date,load,temp`` CSV with a daily cycle."""
    import math

    lines = ["date,load,temp"]
    for t in range(n):
        day, hour = divmod(t, 24)
        load = 50 + 8 * math.sin(2 * math.pi * t / 24) + (t * 7919 % 13) / 13
        lines.append(f"2021-03-{1 + day:02d} {hour:02d}:00,{load:.3f},{15 + (t % 5):.1f}")
    return lines


def write_series(path: Path, n: int = 24 * 12) -> Path:
    path.write_text("\n".join(series_lines(n)) + "\n", encoding="utf-8")
    return path


def lm_text(lines: int = 60, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["the ", "lord ", "said ", "unto ", "moses ", "and ", "god ", "saw "]
    return "".join("".join(rng.choice(words) for _ in range(6)).strip() + ".\n" for _ in range(lines))


def write_text(path: Path) -> Path:
    path.write_text(lm_text(), encoding="utf-8")
    return path
