"""Export of a tagging run: the network in the file (token ids + lengths [+ bigram ids] [+ each word's
character ids] [+ dictionary pattern ids] -> per-step emissions), the decoder as data in the JSON beside it.

Why Viterbi stays out of the file: it is a loop over time and then a loop back over the pointers it
kept, both as long as each text. ONNX's TorchScript exporter, the one lstmkit's layers need
(:mod:`lstmkit.export.layers`), unrolls a Python loop to the example's length, so Viterbi would need a
hand-scripted ``Loop``; ``torch.export`` could express both loops as ``scan`` (as
:mod:`lstmkit.export.program` does for the recurrence), a prototype of torch's, and the two formats
would then decode in different places. The CRF's scores are a few numbers, and Viterbi over them a
dozen lines of numpy (docs/deploy.md, which a test runs against ``lstmkit tag``): the same for both
formats, and nothing in it depends on an exporter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from lstmkit.export._common import EXAMPLE_LENGTHS, add_step_inputs, bigram_input, example_tokens, tensor_entry
from lstmkit.heads.char_encoder import MAX_WORD_CHARS
from lstmkit.heads.crf import FORBIDDEN_SCORE
from lstmkit.heads.pooling import mask_from_lengths
from lstmkit.tasks.tag.data import DICTIONARY_MAX_LENGTH, DICTIONARY_PATTERNS

__all__ = ["export_tagger"]

_VITERBI = (
    "the best path y of each text's own n steps under score(y) = start[y_0] + sum_t emissions[t, y_t] "
    "+ sum_{t>=1} transitions[y_{t-1}, y_t] + end[y_{n-1}] (ties to the lower tag id); forbidden entries "
    "already hold forbidden_score"
)
_NOTES = {
    "crf": "the decoder is exported as data, not in the graph: the file gives per-step emissions and the JSON's "
    "decoder the CRF's transition, start and end scores; Viterbi over them runs outside the file (a numpy "
    "version in docs/deploy.md), the same for both formats",
    "softmax": "the file gives per-step emissions; the tags are each step's argmax (the JSON's decoder)",
}


class _Emissions(nn.Module):
    """A tagger's emissions ``(B, T, K)``, zero at padded steps, so that padding never changes an output
    (the real steps already ignore it: the recurrent layers stop at each length)."""

    def __init__(self, tagger: nn.Module, extra_names: list[str]) -> None:
        super().__init__()
        self.tagger, self.extra_names = tagger, extra_names

    def forward(self, tokens: Tensor, lengths: Tensor, *extras: Tensor) -> Tensor:
        emissions = self.tagger(tokens, lengths, **dict(zip(self.extra_names, extras)))
        return torch.where(mask_from_lengths(lengths, tokens.shape[1]).unsqueeze(2), emissions, 0.0)


def _decoder(network: nn.Module) -> dict[str, Any]:
    """The JSON's ``decoder``: the CRF's constrained scores and masks, or the softmax's rule."""
    if network.crf is None:
        return {"kind": "softmax", "rule": "each step's likeliest tag: the argmax of its emissions"}
    crf = network.crf
    transitions, start, end = (value.detach().tolist() for value in crf.constrained())
    return {
        "kind": "crf",
        "rule": _VITERBI,
        "transitions": transitions,
        "start": start,
        "end": end,
        "forbidden_score": FORBIDDEN_SCORE,
        "allowed_transitions": crf.allowed.tolist(),
        "allowed_start": crf.allowed_start.tolist(),
        "allowed_end": crf.allowed_end.tolist(),
    }


def _words_rule(tagger) -> str:
    """How ``lstmkit tag`` reads words or spans off the tags (:func:`lstmkit.data.tag_schemes.tags_to_words`)."""
    if tagger.characters:
        found = "words: the characters of each span"
    elif tagger.scheme in ("bio", "bioes"):
        found = "spans [start, end, label]"
    else:
        return "none: the tags are the answer"
    if tagger.scheme == "plain":
        return f"{found}: each token is its own span, labelled by its tag"
    return (
        f"{found} the tags mark ({tagger.scheme}: the letter before '-' places a token in its span, the text "
        "after '-' is the span's label, a word's part of speech), read leniently as conlleval does: a tag that "
        "cannot continue the open span starts a new one; tokens tagged O belong to no span"
    )


def _example_chars(real: Tensor, vocab_size: int, pad: int) -> Tensor:
    """Example character ids ``(B, T, 4)`` for the ``real`` tokens ``(B, T)``: words of 1 to 4 characters
    (not all one length, so no width is traced as every word's), all ``pad`` elsewhere."""
    width = max(EXAMPLE_LENGTHS) - 1
    ids = (torch.arange(width).expand(*real.shape, width) % max(vocab_size - 2, 1) + 2).clamp(max=vocab_size - 1)
    word_lengths = torch.arange(real.numel()).reshape(real.shape) % width + 1
    real_chars = (torch.arange(width) < word_lengths.unsqueeze(2)) & real.unsqueeze(2)
    return torch.where(real_chars, ids, pad)


# :func:`lstmkit.tasks.tag.data.dictionary_patterns` in words, for a caller with the JSON alone.
_DICTIONARY_RULE = (
    "for each character position s and word length k = 2..max_word_length with s + k <= n (the text's n "
    "characters): when the characters s..s+k-1 joined are one of words, set bit 3*(k-2) (the word starts) in "
    "character s's bits, bit 3*(k-2)+1 (it ends) in character s+k-1's and bit 3*(k-2)+2 (it passes through) "
    "in each character between; each character's id is 1 + its bits (1: no word), 0 pads"
)


def _dictionary_input(words: frozenset[str], tokens: Tensor) -> tuple[Tensor, dict[str, Any], dict[str, Any]]:
    """A dictionary run's extra input: example pattern ids shaped like ``tokens`` (all 1, no word; the
    exporters trace shapes, not values), its JSON entry, and the preprocessing that makes the ids from a
    text (the rule, the longest word, the words)."""
    entry = tensor_entry(
        "dictionary", "int64", ["batch", "time"], "each character's dictionary pattern id, right-padded with 0"
    )
    preprocessing = {
        "rule": _DICTIONARY_RULE,
        "max_word_length": DICTIONARY_MAX_LENGTH,
        "num_patterns": DICTIONARY_PATTERNS,
        "no_word_id": 1,
        "padding_id": 0,
        "words": sorted(words),
    }
    return torch.ones_like(tokens), entry, preprocessing


def export_tagger(tagger, path: Path, write) -> tuple[dict[str, Any], list[str]]:
    """Write ``tagger``'s (a loaded :class:`~lstmkit.tasks.tag.Tagger`) emissions to ``path`` with ``write``
    (an ONNX or ``torch.export`` writer); return the JSON's task part and the notes."""
    encoder, model = tagger.inputs, tagger.model
    pad, unknown = encoder.vocab.pad_index, encoder.vocab.unk_index
    tokens, lengths = example_tokens(pad)
    tokens = tokens.clamp(max=len(encoder.vocab) - 1)  # a tiny vocabulary may end before the example's ids
    args, names = (tokens, lengths), ["tokens", "lengths"]
    axes = {"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "emissions": {0: "batch", 1: "time"}}
    unit = "characters" if tagger.characters else "tokens"
    inputs = [
        tensor_entry("tokens", "int64", ["batch", "time"], f"vocabulary ids of the {unit}, right-padded with {pad}"),
        tensor_entry("lengths", "int64", ["batch"], f"each text's number of {unit} (at least 1)"),
    ]
    # One id per step besides the token's: each gives its example ids, its input entry, its preprocessing.
    step_ids = {
        "bigrams": None if encoder.bigram_vocab is None else bigram_input(encoder.bigram_vocab, tokens),
        "dictionary": None if encoder.dictionary is None else _dictionary_input(encoder.dictionary, tokens),
    }
    args, names, step_preprocessing = add_step_inputs(step_ids, args, names, axes, inputs)
    chars = None
    if encoder.char_vocab is not None:
        char_vocab = encoder.char_vocab
        args, names = (*args, _example_chars(tokens != pad, len(char_vocab), char_vocab.pad_index)), [*names, "chars"]
        axes["chars"] = {0: "batch", 1: "time", 2: "word_length"}
        inputs.append(
            tensor_entry(
                "chars", "int64", ["batch", "time", "word_length"],
                f"each token's character ids, right-padded with {char_vocab.pad_index} (a padded token: all "
                f"{char_vocab.pad_index}); a token's length is its number of other ids",
            )
        )  # fmt: skip
        chars = {
            "rule": f"each token's characters; a token of more than max_word_chars characters keeps its first "
            f"{MAX_WORD_CHARS // 2} and its last {MAX_WORD_CHARS - MAX_WORD_CHARS // 2}",
            "max_word_chars": MAX_WORD_CHARS,
            "vocabulary": list(char_vocab.tokens),
            "unknown_token_id": char_vocab.unk_index,
            "padding_id": char_vocab.pad_index,
        }
    write(_Emissions(model, names[2:]), args, path, names, ["emissions"], axes)
    tag_names = list(tagger.tag_names)
    meaning = "each step's score per tag (in the order of tag_names); 0 at padded steps"
    metadata = {
        "inputs": inputs,
        "outputs": [tensor_entry("emissions", "float32", ["batch", "time", len(tag_names)], meaning)],
        "tag_names": tag_names,
        "scheme": tagger.scheme,
        "model": tagger.name,
        "decoder": _decoder(model),
        "preprocessing": {
            "tokens": "the text's characters, white space dropped" if tagger.characters
            else "the text split at white space (give it tokenized as the training data was)",
            "vocabulary": list(encoder.vocab.tokens),
            "unknown_token_id": unknown,
            "padding_id": pad,
            "empty_text": f"refused: a text needs at least one {unit[:-1]}",
            **step_preprocessing,
            "chars": chars,
        },
        "postprocessing": _words_rule(tagger),
    }  # fmt: skip
    return metadata, [_NOTES[metadata["decoder"]["kind"]]]
