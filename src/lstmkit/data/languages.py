"""Which language a column of text is in, from evidence a few hundred lines give reliably.

Two signals, both cheap and pure: the **script** of the letters (Han, Kana, Hangul, Cyrillic,
Greek, Arabic, Hebrew, Devanagari, Thai, Latin) and, between languages written in the same script,
the share of words that are a language's most frequent **stop words**. Used to check that the two
columns of a translation file are the languages a run was asked for, in the order it assumes
(:func:`orient_columns`): evidence decides only when it is clear, and otherwise the caller must ask.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lstmkit.errors import DataError

__all__ = ["STOP_WORDS", "SCRIPTS", "ColumnEvidence", "column_evidence", "column_language", "orient_columns"]

# Unicode blocks of each script (the letters a text of that script is mostly made of).
_BLOCKS = {
    "Han": ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)),
    "Kana": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)),
    "Cyrillic": ((0x0400, 0x052F),),
    "Greek": ((0x0370, 0x03FF),),
    "Arabic": ((0x0600, 0x06FF), (0x0750, 0x077F)),
    "Hebrew": ((0x0590, 0x05FF),),
    "Devanagari": ((0x0900, 0x097F),),
    "Thai": ((0x0E00, 0x0E7F),),
    "Latin": ((0x0041, 0x024F), (0x1E00, 0x1EFF)),
}

# The script each language is written in ("Japanese": Kana mixed with Han). A language not named
# here gives no script evidence.
SCRIPTS = {
    "zh": "Han", "ja": "Japanese", "ko": "Hangul", "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic",
    "el": "Greek", "ar": "Arabic", "fa": "Arabic", "he": "Hebrew", "hi": "Devanagari", "th": "Thai",
    "en": "Latin", "fr": "Latin", "de": "Latin", "es": "Latin", "it": "Latin", "pt": "Latin", "nl": "Latin",
}  # fmt: skip

# A few of each Latin-script language's most frequent words, chosen to overlap little between them.
STOP_WORDS = {
    "en": frozenset("the and is are to of you it i he she we this that what not my have do was".split()),
    "fr": frozenset("le les et est je tu il nous vous ne pas une des du ce qui ai suis elle sont".split()),
    "de": frozenset("der die das und ist ich nicht ein eine er sie wir es zu mit den hat bin".split()),
    "es": frozenset("el los las y es que no yo por está estoy tengo muy lo se una qué".split()),
    "it": frozenset("il gli è che non sono ho io mi per ti questo della sei ci".split()),
    "pt": frozenset("o os as é não um eu em do da você isso tem está uma".split()),
    "nl": frozenset("het een en ik niet je dat van hij zij wij met op zijn heb".split()),
}

_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE = 500  # lines looked at per column: evidence settles long before that
_SCRIPT_SHARE = 0.5  # a column is in a script when at least this share of its letters are
_KANA_SHARE = 0.1  # Japanese mixes Kana into Han: this much Kana already says Japanese
_STOP_RATE = 0.08  # the least share of stop words that counts as evidence of a language
_STOP_RATIO = 2.0  # ... and by how much it must beat the other candidate's share


def _script(char: str) -> str | None:
    code = ord(char)
    for script, blocks in _BLOCKS.items():
        if any(low <= code <= high for low, high in blocks):
            return script
    return None


@dataclass(frozen=True)
class ColumnEvidence:
    """What a column of texts shows: the share of its letters in each script, the share of its words
    that are each language's stop words, and the script it is written in (``None``: no clear one)."""

    scripts: dict[str, float]
    stop_words: dict[str, float]
    script: str | None

    def describe(self) -> str:
        """One short phrase for messages: ``Latin script, stop words en 0.34 fr 0.01``."""
        words = ", ".join(f"{lang} {rate:.2f}" for lang, rate in self.stop_words.items() if rate >= 0.01)
        script = f"{self.script} script" if self.script else "no clear script"
        return f"{script}, stop words {words}" if words else script


def column_evidence(texts: Sequence[str]) -> ColumnEvidence:
    """The script and stop-word evidence of ``texts`` (the first few hundred are read)."""
    sample = list(texts[:_SAMPLE])
    letters = [script for text in sample for char in text if char.isalpha() and (script := _script(char))]
    counts: dict[str, int] = {}
    for script in letters:
        counts[script] = counts.get(script, 0) + 1
    shares = {script: count / len(letters) for script, count in counts.items()} if letters else {}
    words = [word.lower() for text in sample for word in _WORD.findall(text)]
    rates = {lang: sum(w in stop for w in words) / len(words) if words else 0.0 for lang, stop in STOP_WORDS.items()}
    if shares.get("Kana", 0.0) >= _KANA_SHARE:
        script = "Japanese"
    else:
        best = max(shares, key=shares.get, default=None)
        script = best if best is not None and shares[best] >= _SCRIPT_SHARE else None
    return ColumnEvidence(shares, rates, script)


def column_language(evidence: ColumnEvidence, candidates: tuple[str, str]) -> str | None:
    """Which of ``candidates`` the column clearly is, or ``None`` when the evidence cannot tell.

    The script rules out a candidate written in another one; between two that fit, the stop words
    decide when one language's share is at least ``_STOP_RATE`` and ``_STOP_RATIO`` times the other's.
    """
    fitting = [lang for lang in candidates if SCRIPTS.get(lang) in (None, evidence.script)]
    if len(fitting) == 1 and evidence.script is not None:  # the other candidate is written otherwise
        return fitting[0]
    if len(fitting) == 2 and evidence.script == "Latin":
        rates = {lang: evidence.stop_words[lang] for lang in fitting if lang in evidence.stop_words}
        if len(rates) == 1:  # the other language has no stop-word list: only this one can be recognised
            ((lang, rate),) = rates.items()
            return lang if rate >= 2 * _STOP_RATE else None
        if len(rates) == 2:
            (lang, high), (_, low) = sorted(rates.items(), key=lambda item: -item[1])
            return lang if high >= _STOP_RATE and high >= _STOP_RATIO * low else None
    return None


def orient_columns(first: Sequence[str], second: Sequence[str], src: str, tgt: str) -> tuple[tuple[str, str], str]:
    """The languages of a file's two columns, in file order, and how they were decided.

    Returns ``((first, second), how)``: ``how`` is ``"file order"`` when the evidence agrees with
    reading the columns as ``src, tgt``, ``"swapped"`` when it clearly shows ``tgt, src``. Raises a
    :class:`DataError` asking for ``--columns`` when the evidence is unclear or contradicts itself,
    and when a column is in a script neither language is written in.
    """
    evidence = (column_evidence(first), column_evidence(second))
    for which, found in zip(("first", "second"), evidence):
        if found.script and not any(SCRIPTS.get(lang) in (None, found.script) for lang in (src, tgt)):
            raise DataError(
                f"unknown direction {src}->{tgt}: the {which} column of the data is {found.script} text, "
                f"written in neither {src} nor {tgt}; pass --columns to name the file's languages"
            )
    found = tuple(column_language(e, (src, tgt)) for e in evidence)
    if found in ((src, tgt), (src, None), (None, tgt)):
        return (src, tgt), "file order"
    if found in ((tgt, src), (tgt, None), (None, src)):
        return (tgt, src), "swapped"
    detail = f"first column: {evidence[0].describe()}; second: {evidence[1].describe()}"
    raise DataError(
        f"cannot tell which column of the data is {src} and which is {tgt} ({detail}); "
        f"pass --columns {src},{tgt} or --columns {tgt},{src} to name them in file order"
    )
