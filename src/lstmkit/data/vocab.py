"""Vocabulary: token strings <-> integer ids, with padding/unknown (and optional BOS/EOS) specials.

Ids are laid out as ``<pad>`` = 0, ``<unk>`` = 1, then ``<bos>`` = 2 and ``<eos>`` = 3 when the
vocabulary is built for a language model, then the kept tokens by frequency (highest first, ties
broken by the token string), so the same token lists always give the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstmkit.io import load_json, write_json

__all__ = ["Vocab", "PAD", "UNK", "BOS", "EOS"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
_FORMAT = "lstmkit.vocab"
_VERSION = 1


@dataclass(frozen=True)
class Vocab:
    """An ordered, immutable list of tokens; ``tokens[i]`` has id ``i``.

    Build one with :meth:`build`; ``tokens`` must start with the specials (``<pad>``, ``<unk>``,
    and ``<bos>``, ``<eos>`` if ``bos_eos``).
    """

    tokens: tuple[str, ...]
    bos_eos: bool = False
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        specials = self.specials()
        if tuple(self.tokens[: len(specials)]) != specials:
            raise ValueError(f"vocab tokens: expected to start with {list(specials)}, got {list(self.tokens[:4])}")
        index = {token: i for i, token in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            repeated = [token for token, n in Counter(self.tokens).items() if n > 1]
            raise ValueError(f"vocab tokens: expected each token once, got repeats {repeated[:5]}")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "_index", index)

    def specials(self) -> tuple[str, ...]:
        """The special tokens at the front of the vocabulary, in id order."""
        return (PAD, UNK, BOS, EOS) if self.bos_eos else (PAD, UNK)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        bos_eos: bool = False,
    ) -> Vocab:
        """Count tokens over ``token_lists``; keep those seen at least ``min_freq`` times.

        ``max_size`` caps the whole vocabulary, specials included (the rarest tokens go first).
        ``bos_eos`` adds ``<bos>``/``<eos>`` for language models and sequence-to-sequence decoders.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq: expected at least 1, got {min_freq}")
        counts = Counter(token for tokens in token_lists for token in tokens)
        specials = (PAD, UNK, BOS, EOS) if bos_eos else (PAD, UNK)
        if max_size is not None and max_size < len(specials):
            raise ValueError(f"max_size: expected at least {len(specials)} (the special tokens), got {max_size}")
        kept = sorted(
            (token for token, n in counts.items() if n >= min_freq and token not in specials),
            key=lambda token: (-counts[token], token),
        )
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        return cls(specials + tuple(kept), bos_eos=bos_eos)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    @property
    def pad_index(self) -> int:
        return 0

    @property
    def unk_index(self) -> int:
        return 1

    @property
    def bos_index(self) -> int:
        if not self.bos_eos:
            raise ValueError("vocab has no <bos> token: build it with bos_eos=True")
        return 2

    @property
    def eos_index(self) -> int:
        if not self.bos_eos:
            raise ValueError("vocab has no <eos> token: build it with bos_eos=True")
        return 3

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids of ``tokens``; tokens not in the vocabulary map to ``unk_index``."""
        unk = self.unk_index
        ids = [self._index.get(token, unk) for token in tokens]
        if add_bos:
            ids.insert(0, self.bos_index)
        if add_eos:
            ids.append(self.eos_index)
        return ids

    def decode(self, ids: Iterable[int], skip_specials: bool = False) -> list[str]:
        """Tokens of ``ids`` (ints or a 1-D tensor); ``skip_specials`` drops pad/unk/bos/eos."""
        size, first_regular = len(self.tokens), len(self.specials())
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < size:
                raise ValueError(f"token id: expected 0 <= id < {size}, got {i}")
            if not (skip_specials and i < first_regular):
                tokens.append(self.tokens[i])
        return tokens

    def to_dict(self) -> dict[str, Any]:
        return {"format": _FORMAT, "version": _VERSION, "bos_eos": self.bos_eos, "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocab:
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"vocab: expected a dict with format {_FORMAT!r}, got {str(data)[:80]}")
        if data.get("version") != _VERSION:
            raise ValueError(f"vocab: expected format version {_VERSION}, got {data.get('version')!r}")
        return cls(tuple(data["tokens"]), bos_eos=bool(data["bos_eos"]))

    def to_json(self, path: str | Path) -> Path:
        """Write the vocabulary as UTF-8 JSON (Chinese stays readable), atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def from_json(cls, path: str | Path) -> Vocab:
        return load_json(path, cls.from_dict)
