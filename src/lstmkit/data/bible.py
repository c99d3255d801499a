"""The offline translation default: English–Spanish verse pairs from public-domain Bibles.

Debian's ``sword-text-web`` (World English Bible, NRSVA verse numbering) and ``sword-text-sparv``
(Reina-Valera 1909, KJV numbering), both public domain, are exported with ``diatheke`` in OSIS form;
the markup (word tags, Strong's numbers, notes, titles, poetry lines) is stripped to plain text and
verses are paired by reference.

The two numberings split some chapters differently (Numbers 12:16 of the English is Numbers 13:1 of
the Spanish, Jonah 1:17 is Jonah 2:1, Romans 16:25-27 sit elsewhere...): there one side leaves a verse
empty or has a verse the other lacks, and every later verse of the chapter is shifted by one. Such a
chapter, and the chapter after it (the shifted text may cross into it), is dropped whole rather than
paired wrongly; :func:`bible_pairs` reports how many verses that costs. The export is cached as a TSV
(``cache_dir()/bible-en-es.tsv``) with the reference and licence as the attribution column.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from lstmkit.data.download import cache_dir
from lstmkit.data.pairs import PairReport, Pairs, read_pairs
from lstmkit.errors import DataError
from lstmkit.io import atomic_write

__all__ = ["bible_pairs", "load_bible", "parse_osis", "align_verses", "osis_to_text", "INSTALL_HINT"]

ENGLISH_MODULE = "engWEB2015eb"
SPANISH_MODULE = "spaRV1909eb"
CACHE_NAME = "bible-en-es.tsv"
INSTALL_HINT = (
    "the offline English-Spanish Bible pairs need Debian's diatheke, sword-text-web and sword-text-sparv "
    "(apt-get install -y diatheke sword-text-web sword-text-sparv); or pass a TSV file of pairs with --data"
)
_WHOLE_BIBLE = "Genesis 1:1-Revelation 22:21"
_VERSE_START = re.compile(r"^(.+?) (\d+):(\d+): ", re.MULTILINE)
_DROPPED_ELEMENTS = re.compile(r"<(note|title)\b[^>]*>.*?</\1>", re.DOTALL)
_ADJACENT_WORDS = re.compile(r"</w>(?=<w[ >])")
_TAG = re.compile(r"<[^>]*>")
_STRONGS = re.compile(r"<[GH]\d+>")
# The WEB's last verse runs straight on into its glossary, after a wide gap of spaces.
_TRAILING_MATTER = re.compile(r" {6,}.*", re.DOTALL)

Reference = tuple[str, int, int]


def osis_to_text(osis: str) -> str:
    """Plain text of one verse's OSIS markup: notes and titles dropped, tags and Strong's numbers stripped."""
    text = _DROPPED_ELEMENTS.sub("", _TRAILING_MATTER.sub("", osis))
    text = _ADJACENT_WORDS.sub("</w> ", text)  # "<w>God</w><w>created</w>" is two words
    text = _STRONGS.sub("", _TAG.sub("", text))
    return " ".join(text.split())


def parse_osis(output: str, books: set[str] | None = None) -> dict[Reference, str]:
    """Verses of ``diatheke -f OSIS`` output keyed by ``(book, chapter, verse)``.

    ``books`` restricts the keys to those books (diatheke repeats a psalm's heading in front of the
    reference on every line of the psalm, so a line's reference is found after any such prefix).
    """
    if books:
        pattern = "|".join(re.escape(book) for book in sorted(books, key=len, reverse=True))
        start = re.compile(rf"(?:^|(?<=\s))({pattern}) (\d+):(\d+): ", re.MULTILINE)
    else:
        start = _VERSE_START
    verses: dict[Reference, str] = {}
    for line in output.splitlines():
        match = start.search(line)
        if match:
            book, chapter, verse = match.group(1), int(match.group(2)), int(match.group(3))
            verses[(book, chapter, verse)] = osis_to_text(line[match.end() :])
    return verses


def align_verses(
    english: dict[Reference, str], spanish: dict[Reference, str]
) -> tuple[list[tuple[Reference, str, str]], int]:
    """Pairs of verses with one reference, leaving out chapters where the numberings disagree.

    Returns ``(pairs in Spanish order, verses dropped)``. A chapter disagrees when a reference of it
    is on one side only or has an empty verse on either side; it is dropped with the chapter after it.
    """
    chapters = list(dict.fromkeys((book, chapter) for book, chapter, _ in spanish))
    disagree = set()
    for book, chapter, verse in set(english) | set(spanish):
        key = (book, chapter, verse)
        if not english.get(key) or not spanish.get(key):
            disagree.add((book, chapter))
    dropped_chapters = set(disagree)
    for i, chapter in enumerate(chapters[:-1]):
        following = chapters[i + 1]
        if chapter in disagree and following[0] == chapter[0]:
            dropped_chapters.add(following)
    pairs = [
        (key, english[key], spanish[key])
        for key in spanish
        if key[:2] not in dropped_chapters and english.get(key) and spanish.get(key)
    ]
    return pairs, len(spanish) - len(pairs)


def _diatheke(module: str) -> str:
    try:
        result = subprocess.run(
            ["diatheke", "-b", module, "-f", "OSIS", "-k", _WHOLE_BIBLE],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
            timeout=600,
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise DataError(f"diatheke could not export {module} ({exc}); {INSTALL_HINT}") from None
    if f"({module})" not in result.stdout:
        raise DataError(f"diatheke has no module {module}; {INSTALL_HINT}")
    return result.stdout


def bible_pairs(export: Callable[[str], str] = _diatheke) -> tuple[Pairs, int]:
    """English–Spanish verse pairs exported with ``export(module) -> OSIS text``, and the verses dropped."""
    if export is _diatheke and shutil.which("diatheke") is None:
        raise DataError(INSTALL_HINT)
    spanish = parse_osis(export(SPANISH_MODULE))
    books = {book for book, _, _ in spanish}
    english = parse_osis(export(ENGLISH_MODULE), books)
    aligned, dropped = align_verses(english, spanish)
    if not aligned:
        raise DataError(f"no verse of {ENGLISH_MODULE} and {SPANISH_MODULE} could be paired")
    attribution = f"public domain: World English Bible ({ENGLISH_MODULE}) / Reina-Valera 1909 ({SPANISH_MODULE}), "
    pairs = Pairs(
        tuple(en for _, en, _ in aligned),
        tuple(es for _, _, es in aligned),
        tuple(f"{attribution}{book} {chapter}:{verse}" for (book, chapter, verse), _, _ in aligned),
        ("en", "es"),
    )
    return pairs, dropped


def load_bible(cache: str | Path | None = None) -> Pairs:
    """The English–Spanish verse pairs, exported once with diatheke and then read from the cached TSV."""
    path = Path(cache) if cache is not None else cache_dir()
    path = path / CACHE_NAME
    if not path.is_file():
        pairs, _ = bible_pairs()
        atomic_write(path, lambda tmp: tmp.write_text(pairs.to_tsv(), encoding="utf-8"))
    pairs = read_pairs(path, ("en", "es"))
    report = PairReport(f"Debian sword-text-web + sword-text-sparv via diatheke ({path})", len(pairs), 0, 0, len(pairs))
    return Pairs(pairs.sources, pairs.targets, pairs.attributions, pairs.languages, report)
