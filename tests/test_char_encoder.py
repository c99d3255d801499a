"""The character-level word encoder (lstmkit.heads.char_encoder): shapes, padding invariance, gradients,
the word-length cap, and the tagger that concatenates its vectors to the word embeddings."""

import pytest
import torch

from lstmkit.heads import CharEncoderConfig, CharWordEncoder, EncoderConfig, SequenceTagger, TaggerConfig
from lstmkit.heads.char_encoder import MAX_WORD_CHARS, char_lengths, word_characters

KINDS = ["lstm", "cnn"]


def _encoder(kind: str, seed: int = 0) -> CharWordEncoder:
    torch.manual_seed(seed)
    config = CharEncoderConfig(vocab_size=12, embedding_dim=5, hidden_size=4, kind=kind)
    return CharWordEncoder(config).double()


def _words(*sentences: list[list[int]], width: int | None = None) -> torch.Tensor:
    """Right-padded ``(B, T, W)`` character ids (0 pads) of sentences given as lists of words' ids."""
    steps = max(len(words) for words in sentences)
    width = width or max(len(word) for words in sentences for word in words)
    padded = torch.zeros(len(sentences), steps, width, dtype=torch.long)
    for b, words in enumerate(sentences):
        for t, word in enumerate(words):
            padded[b, t, : len(word)] = torch.tensor(word)
    return padded


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_a_padded_word_slot_is_zero(kind):
    encoder = _encoder(kind)
    chars = _words([[2, 3, 4], [5]], [[6, 7, 8, 9, 10, 11]])
    vectors = encoder(chars)
    assert vectors.shape == (2, 2, encoder.output_size)
    assert encoder.output_size == (8 if kind == "lstm" else 4)  # both directions' states, or one per filter
    assert not vectors[1, 1].any() and vectors[1, 0].abs().sum() > 0  # sentence 2 has one word
    assert char_lengths(chars, 0).tolist() == [[3, 1], [6, 0]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_words_vector_does_not_depend_on_padding_or_its_neighbours(kind):
    encoder = _encoder(kind).eval()
    word = [2, 3, 4, 5]
    alone = encoder(_words([word]))[0, 0]
    # Wider padding, longer and shorter neighbours, other sentences in the batch, another position.
    crowded = _words([[7, 7, 7, 7, 7, 7, 7, 7], word, [3]], [[9], [10, 11]], width=11)
    vectors = encoder(crowded)
    torch.testing.assert_close(vectors[0, 1], alone, rtol=0, atol=1e-12)
    torch.testing.assert_close(encoder(_words([[3], [9, 9], word]))[0, 2], alone, rtol=0, atol=1e-12)
    other = encoder(_words([[2, 3, 4, 6]]))[0, 0]  # (a vector that can differ does: the test can fail)
    assert (other - alone).abs().max() > 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_reach_every_parameter_and_no_padding_row(kind):
    encoder = _encoder(kind)
    vectors = encoder(_words([[2, 3, 4], [5, 6]], [[7, 8, 9, 10, 11]]))
    (vectors * torch.randn_like(vectors)).sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    grad = encoder.embedding.weight.grad
    assert not grad[0].any() and not grad[1].any()  # the padding id and the unused <unk>
    assert grad[2:].abs().sum(dim=1).gt(0).all()


def test_the_lstm_vector_is_its_two_final_states():
    encoder = _encoder("lstm")
    chars = torch.tensor([[[2, 3, 4]]])
    _, (h_n, _) = encoder.rnn(encoder.embedding(chars[0]))  # one word of 3 characters, no padding
    torch.testing.assert_close(encoder(chars)[0, 0], torch.cat([h_n[0, 0], h_n[1, 0]]))


def test_a_long_word_keeps_its_first_and_last_characters():
    assert word_characters("walking") == "walking"
    long = "pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 characters
    cut = word_characters(long)
    assert len(cut) == MAX_WORD_CHARS and cut == long[:12] + long[-12:]
    assert word_characters("abcdefg", max_chars=4) == "abfg"


def test_bad_ids_and_config_are_refused_by_name():
    with pytest.raises(ValueError, match="chars must be integer ids shaped"):
        _encoder("lstm")(torch.tensor([[2, 3]]))
    with pytest.raises(ValueError, match="kind must be one of"):
        CharEncoderConfig(vocab_size=5, kind="gru")
    with pytest.raises(ValueError, match="padding_idx must be in 0..4, got 5"):
        CharEncoderConfig(vocab_size=5, padding_idx=5)


def _tagger(kind: str = "lstm") -> SequenceTagger:
    torch.manual_seed(0)
    chars = CharEncoderConfig(vocab_size=12, embedding_dim=4, hidden_size=3, kind=kind)
    config = TaggerConfig(EncoderConfig(vocab_size=6, embedding_dim=8, hidden_size=8), num_tags=3, chars=chars)
    return SequenceTagger(config).double().eval()


def test_the_tagger_reads_the_char_vectors_of_unknown_words():
    tagger = _tagger()
    assert tagger.encoder.rnn.input_size == 8 + 6  # the word embedding, then both char states
    tokens, lengths = torch.tensor([[1, 1]]), torch.tensor([2])  # two <unk> words
    spelt = tagger(tokens, lengths, chars=_words([[2, 3, 4], [5, 6]]))
    other = tagger(tokens, lengths, chars=_words([[7, 8], [9, 10, 11]]))
    assert (spelt - other).abs().max() > 1e-6  # the same word ids, told apart by their spelling
    with pytest.raises(ValueError, match="chars must be ids shaped"):
        tagger(tokens, lengths)
    with pytest.raises(ValueError, match="chars must be ids shaped"):
        tagger(tokens, lengths, chars=_words([[2, 3, 4]]))
    config = tagger.config
    assert TaggerConfig.from_dict(config.to_dict()) == config  # config.json round trip


@pytest.mark.parametrize("kind", KINDS)
def test_a_sentences_emissions_do_not_depend_on_its_batch(kind):
    tagger = _tagger(kind)
    words = [[2, 3, 4], [5], [6, 7]]
    alone = tagger(torch.tensor([[2, 3, 4]]), torch.tensor([3]), chars=_words(words))[0]
    # Beside a longer sentence of longer words: wider (W) and longer (T) padding, ids 3 in its padded steps.
    tokens, lengths = torch.tensor([[2, 3, 4, 3, 3], [5, 4, 3, 2, 5]]), torch.tensor([3, 5])
    chars = _words(words, [[9, 9, 9, 9, 9, 9, 9], [8], [7, 7], [11] * 9, [10]])
    chars[0, 3:] = 3
    torch.testing.assert_close(tagger(tokens, lengths, chars=chars)[0, :3], alone, rtol=0, atol=1e-12)


def test_a_tagger_without_a_char_encoder_refuses_chars():
    config = TaggerConfig(EncoderConfig(vocab_size=6, embedding_dim=8, hidden_size=8), num_tags=3)
    with pytest.raises(ValueError, match="no character encoder"):
        SequenceTagger(config)(torch.tensor([[2]]), torch.tensor([1]), chars=_words([[2]]))
