"""A word read through its characters: character ids ``(B, T, W)`` -> one vector per word ``(B, T, F)``.

Lample et al. (2016, "Neural Architectures for Named Entity Recognition") run a small BiLSTM over each
word's characters and concatenate its final forward and backward states to the word's embedding: a word
the vocabulary lacks (``<unk>``) still has a vector from its spelling (suffixes, capitals, digits).
Ma & Hovy (2016) use a convolution over windows of characters, max-pooled over the word: the ``cnn`` kind.

Words are right-padded with ``padding_idx`` to ``W`` characters; a word's length is its number of
non-padding ids, so the ids alone say where each word ends. Padding never changes a word's vector: the
LSTM stops at each word's length (lstmkit's ``lengths``), the CNN zeroes the embedded padding and pools
over real positions only. A slot of no characters (a padded word of a padded sentence) gives zeros.

Words longer than :data:`MAX_WORD_CHARS` characters are cut to their first and last characters
(:func:`word_characters`) before they get ids: both ends carry what the final states summarise (a
prefix, a suffix), and a 40-character URL or chemical name costs no more steps than a long word.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lstmkit.heads.config import CharEncoderConfig
from lstmkit.heads.encoder import make_recurrent_layer
from lstmkit.heads.pooling import mask_from_lengths

__all__ = ["MAX_WORD_CHARS", "CNN_WINDOW", "word_characters", "char_lengths", "CharWordEncoder"]

MAX_WORD_CHARS = 24  # longer than all but ~0.1 % of English words; a word past it keeps 12 + 12 characters
CNN_WINDOW = 3  # characters each filter of the cnn kind reads (Ma & Hovy 2016)


def word_characters(word: str, max_chars: int = MAX_WORD_CHARS) -> str:
    """``word``, or where it is longer than ``max_chars``, its first ``max_chars // 2`` characters then its
    last ``max_chars - max_chars // 2``."""
    if len(word) <= max_chars:
        return word
    head = max_chars // 2
    return word[:head] + word[len(word) - (max_chars - head) :]


def char_lengths(chars: Tensor, padding_idx: int) -> Tensor:
    """Each word's number of characters, ``(B, T)``, from right-padded ids ``chars (B, T, W)``."""
    return (chars != padding_idx).sum(dim=-1)


class CharWordEncoder(nn.Module):
    """Character ids ``(B, T, W)`` -> word vectors ``(B, T, config.output_size)`` (see the module docstring).

    Submodules: ``embedding`` (``nn.Embedding``), then ``rnn`` (an lstmkit bidirectional LSTM, batch-first)
    for the ``lstm`` kind or ``conv`` (``nn.Conv1d``, window :data:`CNN_WINDOW`) for ``cnn``.
    """

    def __init__(self, config: CharEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.padding_idx)
        self.rnn = self.conv = None
        if config.kind == "lstm":
            self.rnn = make_recurrent_layer(
                "lstm", config.embedding_dim, config.hidden_size, batch_first=True, bidirectional=True
            )
        else:
            self.conv = nn.Conv1d(config.embedding_dim, config.hidden_size, CNN_WINDOW, padding=CNN_WINDOW // 2)

    @property
    def output_size(self) -> int:
        return self.config.output_size

    def forward(self, chars: Tensor) -> Tensor:
        if not isinstance(chars, Tensor) or chars.dim() != 3 or chars.is_floating_point():
            given = (tuple(chars.shape), chars.dtype) if isinstance(chars, Tensor) else type(chars).__name__
            raise ValueError(f"chars must be integer ids shaped (batch, time, word length), got {given}")
        batch, steps, width = chars.shape
        words = chars.reshape(batch * steps, width)
        lengths = char_lengths(words, self.config.padding_idx)
        real = mask_from_lengths(lengths, width)  # (N, W)
        embedded = torch.where(real.unsqueeze(2), self.embedding(words), 0.0)
        vectors = self._lstm(embedded, lengths) if self.rnn is not None else self._cnn(embedded, real)
        return torch.where((lengths > 0).unsqueeze(1), vectors, 0.0).reshape(batch, steps, self.output_size)

    def _lstm(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        # A slot of no characters still runs one (zero) step, as lengths must be >= 1; forward zeroes it.
        _, (h_n, _) = self.rnn(embedded, lengths=lengths.clamp(min=1))
        return torch.cat(
            [h_n[0], h_n[1]], dim=1
        )  # forward's state after the last character, backward's after the first

    def _cnn(self, embedded: Tensor, real: Tensor) -> Tensor:
        features = self.conv(embedded.transpose(1, 2))  # (N, F, W); the window's zero padding = the word's edges
        return features.masked_fill(~real.unsqueeze(1), float("-inf")).amax(dim=2)
