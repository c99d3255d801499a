"""What every task's exporter shares: the example batch the modules are traced on, and the JSON entry
that describes one input or output tensor."""

from __future__ import annotations

from typing import Any

import torch

from lstmkit.data.bigrams import BIGRAM_END
from lstmkit.data.lexicons import OUTSIDE, Lexicon
from lstmkit.data.vocab import Vocab

__all__ = ["EXAMPLE_LENGTHS", "example_tokens", "tensor_entry", "bigram_input", "lexicon_input", "add_step_inputs"]

# The example batch the modules are traced on: 3 sequences of up to 5 tokens. Not 1 or 2: torch.export
# fixes a dimension traced at size 0 or 1, and one that equals a model's own size (2 directions) can be
# tied to it, which it then refuses as a dynamic batch.
EXAMPLE_LENGTHS = (5, 2, 4)


def example_tokens(pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded example ids ``(3, 5)`` (ids from 4 on: past the specials) and their lengths."""
    rows = [[4 + t for t in range(n)] + [pad] * (max(EXAMPLE_LENGTHS) - n) for n in EXAMPLE_LENGTHS]
    return torch.tensor(rows), torch.tensor(EXAMPLE_LENGTHS)


def tensor_entry(name: str, dtype: str, shape: list[str | int], meaning: str) -> dict[str, Any]:
    """The JSON entry of one input or output: name, dtype, shape (axis names or sizes) and meaning."""
    return {"name": name, "dtype": dtype, "shape": shape, "meaning": meaning}


def bigram_input(bigram_vocab: Vocab, tokens: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any], dict[str, Any]]:
    """A model's character-bigram input: example ids shaped like ``tokens`` (all unknown), its JSON entry,
    and the preprocessing that makes the ids from a text (the rule, the end marker, the vocabulary)."""
    pad = bigram_vocab.pad_index
    entry = tensor_entry("bigrams", "int64", ["batch", "time"], f"bigram ids, right-padded with {pad}")
    preprocessing = {
        "rule": "each character with the next one; the last character with end_marker",
        "end_marker": BIGRAM_END,
        "vocabulary": list(bigram_vocab.tokens),
        "unknown_token_id": bigram_vocab.unk_index,
        "padding_id": pad,
    }
    return torch.full_like(tokens, bigram_vocab.unk_index), entry, preprocessing


def lexicon_input(
    lexicon: Lexicon, tokens: torch.Tensor, characters: bool
) -> tuple[torch.Tensor, dict[str, Any], dict[str, Any]]:
    """A model's lexicon-class input (:meth:`~lstmkit.data.lexicons.Lexicon.step_classes`): example ids shaped
    like ``tokens`` (all outside any word), its JSON entry, and the preprocessing that makes the ids from a
    text (the rule, the class vocabulary, the words)."""
    vocab = lexicon.class_vocab()
    entry = tensor_entry(
        "lexicon", "int64", ["batch", "time"], f"lexicon class ids, right-padded with {vocab.pad_index}"
    )
    rule = (
        "segment the text's characters into words (jieba.lcut of the joined tokens); each character takes the "
        f"class of its word in words, {OUTSIDE!r} if the word is not there"
        if characters
        else f"each token takes its class in words (else its lower-cased form's), {OUTSIDE!r} if neither is there"
    )
    preprocessing = {"rule": rule, "vocabulary": list(vocab.tokens), "words": lexicon.to_dict()["words"]}
    return torch.full_like(tokens, vocab.tokens.index(OUTSIDE)), entry, preprocessing


def add_step_inputs(
    step_ids: dict[str, tuple[torch.Tensor, dict[str, Any], dict[str, Any]] | None],
    args: tuple,
    names: list[str],
    axes: dict[str, dict[int, str]],
    inputs: list[dict[str, Any]],
) -> tuple[tuple, list[str], dict[str, dict[str, Any] | None]]:
    """Add each per-step id input a model reads besides its tokens (``name -> (example ids, JSON entry,
    preprocessing)``, ``None`` where the model has no such input, as :func:`bigram_input` gives) to the
    traced ``args``, the input ``names``, the dynamic ``axes`` and the JSON's ``inputs`` (both updated in
    place); return the new ``args`` and ``names`` and each name's preprocessing (``None`` where absent)."""
    preprocessing = dict.fromkeys(step_ids)
    for name, found in step_ids.items():
        if found is not None:
            example, entry, preprocessing[name] = found
            args, names = (*args, example), [*names, name]
            axes[name] = {0: "batch", 1: "time"}
            inputs.append(entry)
    return args, names, preprocessing
