"""lstmkit.heads: masked pooling, losses, encoder and task models, configs, ULMFiT fine-tuning helpers."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file, save_file

import lstmkit
from lstmkit.heads import (
    DECODERS,
    POOLING_MODES,
    ClassifierConfig,
    EncoderConfig,
    ForwardBackwardClassifier,
    LanguageModel,
    LanguageModelConfig,
    SequenceClassifier,
    SequencePooling,
    SequenceTagger,
    TaggerConfig,
    attention_pool,
    freeze_encoder_layers,
    last_pool,
    lm_loss,
    make_recurrent_layer,
    mask_from_lengths,
    masked_cross_entropy,
    max_pool,
    mean_pool,
    parameter_groups,
)

VOCAB = 13
LENGTHS = torch.tensor([5, 2, 4])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def tokens_and_padded_variant(steps: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token ids for LENGTHS, and a copy whose padded ids are different (never the padding id)."""
    tokens = torch.randint(1, VOCAB, (len(LENGTHS), steps))
    mask = mask_from_lengths(LENGTHS, steps)
    tokens = tokens.masked_fill(~mask, 0)
    other = torch.where(mask, tokens, torch.randint(1, VOCAB, tokens.shape))
    assert not torch.equal(tokens, other)
    return tokens, other


def encoder_config(**overrides) -> EncoderConfig:
    settings = {"vocab_size": VOCAB, "embedding_dim": 6, "hidden_size": 6, "num_layers": 2}
    return EncoderConfig(**{**settings, **overrides})


# -- masks and pooling functions ------------------------------------------------------------------


def test_mask_from_lengths():
    expected = torch.tensor([[True, True, False], [True, True, True], [True, False, False]])
    assert torch.equal(mask_from_lengths(torch.tensor([2, 3, 1]), 3), expected)


def test_last_pool_unidirectional_picks_each_last_real_step():
    outputs = torch.arange(12.0).view(2, 3, 2)
    pooled = last_pool(outputs, torch.tensor([2, 3]))
    assert torch.equal(pooled, torch.tensor([[2.0, 3.0], [10.0, 11.0]]))


def test_last_pool_bidirectional_takes_forward_at_last_step_and_backward_at_step_0():
    outputs = torch.arange(24.0).view(2, 3, 4)  # features [fwd, fwd, bwd, bwd]
    pooled = last_pool(outputs, torch.tensor([2, 3]), num_directions=2)
    assert torch.equal(pooled, torch.tensor([[4.0, 5.0, 2.0, 3.0], [20.0, 21.0, 14.0, 15.0]]))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_last_pool_equals_the_layers_final_hidden_state(bidirectional):
    lstm = lstmkit.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=bidirectional)
    outputs, (h_n, _) = lstm(torch.randn(3, 5, 3), lengths=LENGTHS)
    directions = 2 if bidirectional else 1
    expected = torch.cat(list(h_n[-directions:]), dim=-1)
    torch.testing.assert_close(last_pool(outputs, LENGTHS, num_directions=directions), expected)


def test_mean_pool_hand_computed():
    outputs = torch.tensor([[[1.0, 2.0], [3.0, 6.0], [100.0, 100.0]], [[1.0, -1.0], [2.0, -2.0], [3.0, -6.0]]])
    pooled = mean_pool(outputs, torch.tensor([2, 3]))
    assert torch.equal(pooled, torch.tensor([[2.0, 4.0], [2.0, -3.0]]))


def test_max_pool_padding_never_wins_over_negative_values():
    outputs = torch.tensor([[[-3.0, -1.0], [-2.0, -5.0], [0.0, 0.0]]])
    assert torch.equal(max_pool(outputs, torch.tensor([2])), torch.tensor([[-2.0, -1.0]]))


def test_attention_pool_hand_computed():
    outputs = torch.tensor([[[4.0, 0.0], [0.0, 8.0], [1000.0, 1000.0]]])
    scores = torch.tensor([[0.0, math.log(3.0), 50.0]])
    pooled, weights = attention_pool(outputs, torch.tensor([2]), scores)
    torch.testing.assert_close(weights, torch.tensor([[0.25, 0.75, 0.0]]))
    torch.testing.assert_close(pooled, torch.tensor([[1.0, 6.0]]))


def test_attention_weights_sum_to_one_over_real_steps_and_vanish_on_padding():
    pooling = SequencePooling("attention", 4, attention_size=5)
    pooling(torch.randn(3, 5, 4), LENGTHS)
    weights = pooling.attention_weights
    mask = mask_from_lengths(LENGTHS, 5)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)


@pytest.mark.parametrize("mode", POOLING_MODES)
def test_pooling_ignores_padded_values_even_nan(mode):
    pooling = SequencePooling(mode, 4, num_directions=2)
    outputs = torch.randn(3, 5, 4)
    padding = ~mask_from_lengths(LENGTHS, 5)
    garbage = outputs.masked_fill(padding.unsqueeze(-1), float("nan"))
    huge = outputs.masked_fill(padding.unsqueeze(-1), 1e6)
    expected = pooling(outputs, LENGTHS)
    assert expected.shape == (3, pooling.output_size)
    torch.testing.assert_close(pooling(garbage, LENGTHS), expected)
    torch.testing.assert_close(pooling(huge, LENGTHS), expected)


def test_no_lengths_means_every_step_is_real():
    outputs = torch.randn(2, 4, 3)
    full = torch.tensor([4, 4])
    for pool in (last_pool, mean_pool, max_pool):
        assert torch.equal(pool(outputs, None), pool(outputs, full))
    torch.testing.assert_close(mean_pool(outputs, None), outputs.mean(dim=1))


def test_output_size_per_mode():
    assert SequencePooling("concat", 8).output_size == 24
    assert SequencePooling("attention", 8).output_size == 8


# -- losses ---------------------------------------------------------------------------------------


def test_masked_cross_entropy_reads_real_positions_only():
    logits = torch.randn(3, 5, 4)
    targets = torch.randint(0, 4, (3, 5))
    mask = mask_from_lengths(LENGTHS, 5)
    expected = torch.nn.functional.cross_entropy(logits[mask], targets[mask])
    padded_garbage = targets.masked_fill(~mask, 10**6)  # out of range: would raise if it were read
    torch.testing.assert_close(masked_cross_entropy(logits, padded_garbage, LENGTHS), expected)


def test_lm_loss_equals_manual_cross_entropy():
    logits = torch.randn(2, 4, 3)
    tokens = torch.tensor([[0, 2, 1, 1], [1, 0, 2, 2]])
    lengths = torch.tensor([4, 2])
    log_probs = logits.log_softmax(dim=-1)
    # sequence 0 predicts tokens 1..3 from positions 0..2; sequence 1 predicts token 1 from position 0
    picked = [log_probs[0, 0, 2], log_probs[0, 1, 1], log_probs[0, 2, 1], log_probs[1, 0, 0]]
    expected = -torch.stack(picked).mean()
    torch.testing.assert_close(lm_loss(logits, tokens, lengths), expected)


def test_lm_loss_ignores_padded_logits_and_tokens():
    logits = torch.randn(3, 5, 4)
    tokens = torch.randint(0, 4, (3, 5))
    mask = mask_from_lengths(LENGTHS, 5)
    other_logits = logits.masked_fill(~mask.unsqueeze(-1), float("nan"))
    other_tokens = tokens.masked_fill(~mask, 3)
    torch.testing.assert_close(lm_loss(other_logits, other_tokens, LENGTHS), lm_loss(logits, tokens, LENGTHS))


def test_lm_loss_needs_something_to_predict():
    with pytest.raises(ValueError, match="at least one real position"):
        lm_loss(torch.randn(2, 3, 4), torch.zeros(2, 3, dtype=torch.long), torch.tensor([1, 1]))


# -- models ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("pooling", ["concat", "attention"])
def test_classifier_shape_and_padded_tokens_are_irrelevant(cell, pooling):
    model = SequenceClassifier(ClassifierConfig(encoder_config(cell=cell), num_classes=3, pooling=pooling)).eval()
    tokens, other = tokens_and_padded_variant()
    logits = model(tokens, LENGTHS)
    assert logits.shape == (3, 3)
    torch.testing.assert_close(model(other, LENGTHS), logits)
    assert not torch.allclose(model(other, None), model(tokens, None))  # the check can fail


def test_tagger_shape_and_padded_tokens_are_irrelevant():
    model = SequenceTagger(TaggerConfig(encoder_config(), num_tags=4)).eval()
    tokens, other = tokens_and_padded_variant()
    logits = model(tokens, LENGTHS)
    assert logits.shape == (3, 5, 4)
    mask = mask_from_lengths(LENGTHS, 5)
    torch.testing.assert_close(model(other, LENGTHS)[mask], logits[mask])


def test_language_model_shape_state_and_padded_tokens_are_irrelevant():
    model = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False))).eval()
    tokens, other = tokens_and_padded_variant()
    logits, (h_n, c_n) = model(tokens, LENGTHS)
    assert logits.shape == (3, 5, VOCAB)
    assert h_n.shape == c_n.shape == (2, 3, 6)
    mask = mask_from_lengths(LENGTHS, 5)
    torch.testing.assert_close(model(other, LENGTHS)[0][mask], logits[mask])


def test_language_model_runs_statefully_in_chunks():
    model = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False, cell="gru"))).eval()
    tokens = torch.randint(0, VOCAB, (2, 7))
    whole, _ = model(tokens)
    first, state = model(tokens[:, :3])
    second, _ = model(tokens[:, 3:], state=lstmkit.detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_tied_language_model_reuses_the_embedding_and_saves_without_aliases(tmp_path):
    model = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False), tie_weights=True))
    assert model.decoder_weight is None
    logits, _ = model(torch.randint(0, VOCAB, (2, 4)))
    logits[..., 5].sum().backward()
    assert model.encoder.embedding.weight.grad[5].abs().sum() > 0  # reached through the output layer only
    save_file(model.state_dict(), str(tmp_path / "lm.safetensors"))
    assert set(load_file(str(tmp_path / "lm.safetensors"))) == set(model.state_dict())


def test_untied_language_model_has_its_own_output_matrix():
    model = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False, hidden_size=5), tie_weights=False))
    assert model.decoder_weight.shape == (VOCAB, 5)
    assert model(torch.randint(0, VOCAB, (2, 4)))[0].shape == (2, 4, VOCAB)


def test_language_model_encoder_loads_into_classifier():
    lm = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False)))
    classifier = SequenceClassifier(ClassifierConfig(encoder_config(bidirectional=False), num_classes=2))
    assert "encoder.embedding.weight" in classifier.state_dict()
    assert "encoder.rnn.weight_ih_l1" in classifier.state_dict()
    assert list(lm.encoder.state_dict()) == list(classifier.encoder.state_dict())
    tokens = torch.randint(0, VOCAB, (3, 5))
    before = classifier.encoder(tokens, LENGTHS)[0]
    classifier.encoder.load_state_dict(lm.encoder.state_dict())
    after = classifier.encoder(tokens, LENGTHS)[0]
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, lm.encoder(tokens, LENGTHS)[0])


def test_embedding_dropout_is_active_only_in_training():
    encoder = lstmkit.heads.RecurrentEncoder(encoder_config(embedding_dropout=0.5))
    tokens = torch.randint(0, VOCAB, (3, 5))
    assert not torch.allclose(encoder(tokens)[0], encoder(tokens)[0])
    encoder.eval()
    assert torch.equal(encoder(tokens)[0], encoder(tokens)[0])


def test_input_dropout_drops_elements_of_the_embedding_and_the_extra_features_only_in_training():
    encoder = lstmkit.heads.RecurrentEncoder(encoder_config(input_dropout=0.5), extra_input_size=4)
    tokens = (torch.randperm(VOCAB - 1) + 1)[:12].view(3, 4)  # (each id once: its gradient is one step's)
    for training in (True, False):
        encoder.train(training)
        encoder.zero_grad()
        extra = torch.randn(3, 4, 4, requires_grad=True)
        encoder(tokens, extra=extra)[0].sum().backward()
        # A dropped element passes no gradient back; without dropout every one of them does.
        dropped_extra = (extra.grad == 0).float().mean().item()
        dropped_embedding = (encoder.embedding.weight.grad[tokens] == 0).float().mean().item()
        if training:
            assert 0.3 < dropped_extra < 0.7 and 0.3 < dropped_embedding < 0.7
        else:
            assert dropped_extra == 0 and dropped_embedding == 0
    with pytest.raises(ValueError, match=r"input_dropout must be a probability in \[0, 1\), got 1.0"):
        encoder_config(input_dropout=1.0)


def test_make_recurrent_layer_maps_cells():
    assert isinstance(make_recurrent_layer("lstm", 3, 4, layer_norm=True), lstmkit.LSTM)
    assert isinstance(make_recurrent_layer("gru", 3, 4, layer_norm=False), lstmkit.GRU)
    rnn = make_recurrent_layer("rnn", 3, 4, batch_first=True)
    assert isinstance(rnn, lstmkit.RNN) and rnn.nonlinearity == "tanh" and rnn.batch_first


# -- fine-tuning helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("tied", [False, True])
def test_parameter_groups_cover_every_parameter_once_with_decreasing_lr(tied):
    if tied:
        model = LanguageModel(LanguageModelConfig(encoder_config(bidirectional=False, num_layers=3)))
    else:
        model = SequenceClassifier(ClassifierConfig(encoder_config(num_layers=3), num_classes=2, pooling="attention"))
    groups = parameter_groups(model, base_lr=1e-2)
    assert [g["name"] for g in groups] == ["head", "rnn_l2", "rnn_l1", "rnn_l0", "embedding"]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in model.parameters()}
    lrs = [g["lr"] for g in groups]
    assert lrs[0] == 1e-2 and all(a > b for a, b in zip(lrs, lrs[1:]))
    torch.testing.assert_close(torch.tensor(lrs[1]), torch.tensor(1e-2 / 2.6))
    torch.optim.AdamW(groups)  # accepted as optimizer parameter groups


def test_parameter_groups_put_reverse_direction_with_its_layer():
    model = SequenceTagger(TaggerConfig(encoder_config(num_layers=2, bidirectional=True), num_tags=2))
    top = {id(p) for p in parameter_groups(model, 1.0)[1]["params"]}
    assert id(model.encoder.rnn.weight_hh_l1_reverse) in top
    assert id(model.encoder.rnn.weight_hh_l0_reverse) not in top


def test_freeze_encoder_layers_unfreezes_from_the_top():
    model = SequenceClassifier(ClassifierConfig(encoder_config(num_layers=2), num_classes=2))
    rnn = model.encoder.rnn
    freeze_encoder_layers(model, 0)
    assert all(p.requires_grad for p in model.output.parameters())
    assert not any(p.requires_grad for p in model.encoder.parameters())
    freeze_encoder_layers(model, 1)
    assert rnn.weight_ih_l1.requires_grad and rnn.weight_ih_l1_reverse.requires_grad
    assert not rnn.weight_ih_l0.requires_grad and not model.encoder.embedding.weight.requires_grad
    freeze_encoder_layers(model, 3)
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="n_trainable_from_top must be an int in 0..3"):
        freeze_encoder_layers(model, 4)


@torch.no_grad()
def test_forward_backward_ensemble_averages_a_forward_and_a_reversed_reading():
    model = ForwardBackwardClassifier(ClassifierConfig(encoder_config(bidirectional=False), num_classes=3)).eval()
    tokens = torch.randint(2, VOCAB, (3, 5))
    tokens[1, 2:] = 0  # padding after each length
    tokens[2, 4:] = 0
    forward, backward = model.member_logits(tokens, LENGTHS)
    torch.testing.assert_close(forward, model.forward_model(tokens, LENGTHS))
    # The backward member reads each text reversed within its length: text 1 is [b, a] for [a, b].
    alone = model.backward_model(tokens[1:2, :2].flip(1), torch.tensor([2]))
    torch.testing.assert_close(backward[1:2], alone)
    mean = (forward.softmax(-1) + backward.softmax(-1)) / 2
    torch.testing.assert_close(model(tokens, LENGTHS).softmax(-1), mean)
    groups = parameter_groups(model, 1.0)  # the members' levels joined: one optimizer group per level
    assert [g["name"] for g in groups] == ["head", "rnn_l1", "rnn_l0", "embedding"]
    assert {id(p) for g in groups for p in g["params"]} == {id(p) for p in model.parameters()}
    with pytest.raises(ValueError, match="unidirectional"):
        ForwardBackwardClassifier(ClassifierConfig(encoder_config(bidirectional=True), num_classes=3))


# -- configs and errors ---------------------------------------------------------------------------


def test_config_dict_round_trip_through_json():
    config = ClassifierConfig(encoder_config(cell="gru", padding_idx=None), num_classes=5, pooling="max")
    data = json.loads(json.dumps(config.to_dict()))
    assert data["encoder"]["cell"] == "gru"
    assert ClassifierConfig.from_dict(data) == config
    lm_config = LanguageModelConfig(encoder_config(bidirectional=False), tie_weights=False)
    assert LanguageModelConfig.from_dict(json.loads(json.dumps(lm_config.to_dict()))) == lm_config


def test_from_dict_names_unknown_fields():
    with pytest.raises(ValueError, match="hiden_size: EncoderConfig has no such field; its fields are"):
        EncoderConfig.from_dict({"vocab_size": 5, "hiden_size": 3})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: LanguageModelConfig(encoder_config(bidirectional=True)), "unidirectional encoder"),
        (lambda: LanguageModelConfig(encoder_config(bidirectional=False, hidden_size=8)), "hidden_size == embedding"),
        (lambda: encoder_config(cell="lstmm"), "cell must be one of"),
        (lambda: ClassifierConfig(encoder_config(), num_classes=2, pooling="sum"), "pooling must be one of"),
        (lambda: SequencePooling("sum", 4), "mode must be one of"),
        (lambda: make_recurrent_layer("gru", 3, 4, layer_norm=True), "layer_norm=True is only implemented"),
        (lambda: encoder_config(padding_idx=VOCAB), "padding_idx must be None or in"),
        (lambda: mean_pool(torch.randn(2, 3, 4), torch.tensor([1, 4])), r"lengths must lie in 1..3"),
        (lambda: last_pool(torch.randn(2, 3, 5), None, num_directions=2), "do not split into 2 directions"),
        (lambda: SequencePooling("mean", 4)(torch.randn(2, 3, 5)), "feature size mismatch"),
    ],
)
def test_clear_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_float_tokens_are_rejected():
    model = SequenceTagger(TaggerConfig(encoder_config(), num_tags=2))
    with pytest.raises(TypeError, match="tokens must hold integer token ids"):
        model(torch.zeros(2, 3))


def test_hashed_ngrams_stay_inside_each_sequence():
    from lstmkit.heads.ngrams import hashed_ngrams

    tokens = torch.tensor([[5, 6, 7, 8], [5, 6, 0, 0]])
    codes, mask = hashed_ngrams(tokens, torch.tensor([4, 2]), order=2, buckets=1000)
    assert codes.shape == (2, 3)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert codes[0, 0] == codes[1, 0]  # the same bigram hashes to the same bucket
    assert int(codes.max()) < 1000


def test_classifier_with_ngram_branch_ignores_padding():
    torch.manual_seed(0)
    config = ClassifierConfig(
        EncoderConfig(vocab_size=30, embedding_dim=8, hidden_size=6), num_classes=3, ngram_buckets=97
    )
    model = SequenceClassifier(config).eval()
    tokens = torch.randint(2, 30, (3, 7))
    lengths = torch.tensor([7, 3, 1])
    noisy = tokens.clone()
    noisy[1, 3:] = 9
    noisy[2, 1:] = 4
    torch.testing.assert_close(model(tokens, lengths), model(noisy, lengths))
    assert ClassifierConfig.from_dict(config.to_dict()) == config


def test_classifier_bigram_embedding_is_read_beside_the_tokens_and_padding_stays_irrelevant():
    torch.manual_seed(0)
    encoder = EncoderConfig(vocab_size=30, embedding_dim=8, hidden_size=6, embedding_dropout=0.5)
    config = ClassifierConfig(encoder, num_classes=3, pooling="max", bigram_vocab_size=40, bigram_dim=5)
    model = SequenceClassifier(config).eval()
    assert model.encoder.rnn.weight_ih_l0.shape[1] == 8 + 5
    tokens, lengths = torch.randint(2, 30, (3, 7)), torch.tensor([7, 3, 1])
    bigrams = torch.randint(2, 40, (3, 7)).masked_fill(~mask_from_lengths(lengths, 7), 0)
    logits = model(tokens, lengths, bigrams=bigrams)
    noisy = bigrams.masked_fill(~mask_from_lengths(lengths, 7), 9)
    torch.testing.assert_close(model(tokens, lengths, bigrams=noisy), logits)
    assert not torch.allclose(model(tokens, lengths, bigrams=(bigrams + 1) % 40), logits)  # the bigrams are read
    inputs = model.recurrent_input(tokens, bigrams)
    torch.testing.assert_close(inputs[..., 8:], model.bigram_embedding(bigrams))
    torch.testing.assert_close(inputs[..., :8], model.encoder.embedding(tokens))
    model.train()(tokens, lengths, bigrams=bigrams).sum().backward()
    assert model.bigram_embedding.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"bigrams must be ids shaped like tokens \(3, 7\), got None"):
        model(tokens, lengths)
    with pytest.raises(ValueError, match=r"bigram_vocab_size and bigram_dim must both be 0 .* got bigram_vocab_size=4"):
        ClassifierConfig(encoder, num_classes=3, bigram_vocab_size=4)
    assert ClassifierConfig.from_dict(config.to_dict()) == config
    old = {k: v for k, v in config.to_dict().items() if not k.startswith("bigram")}  # a run from before bigrams
    assert ClassifierConfig.from_dict(old).bigram_dim == 0


# -- tagger decoders: CRF and the softmax ablation ------------------------------------------------


def tagging_batch(size: int, steps: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokens 1..5, lengths 3..steps, tag = (token + previous token) mod 3; padded tags are -100."""
    lengths = torch.randint(3, steps + 1, (size,))
    tokens = torch.randint(1, 6, (size, steps))
    previous = torch.cat([torch.zeros(size, 1, dtype=torch.long), tokens[:, :-1]], dim=1)
    mask = mask_from_lengths(lengths, steps)
    return tokens.masked_fill(~mask, 0), lengths, ((tokens + previous) % 3).masked_fill(~mask, -100)


def tag_accuracy(paths: list[list[int]], tags: torch.Tensor) -> float:
    pairs = [(p, t) for path, row in zip(paths, tags.tolist()) for p, t in zip(path, row)]
    return sum(p == t for p, t in pairs) / len(pairs)


def tagger(decoder: str, **overrides) -> SequenceTagger:
    encoder = EncoderConfig(vocab_size=6, embedding_dim=8, hidden_size=16)
    return SequenceTagger(TaggerConfig(encoder, num_tags=3, dropout=0.0, decoder=decoder, **overrides))


@pytest.mark.parametrize("decoder", DECODERS)
def test_tagger_learns_a_tag_of_token_and_previous_token(decoder):
    model = tagger(decoder)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    test_tokens, test_lengths, test_tags = tagging_batch(200)
    before = tag_accuracy(model.eval().decode(test_tokens, test_lengths), test_tags)
    model.train()
    for _ in range(60):
        tokens, lengths, tags = tagging_batch(32)
        optimizer.zero_grad()
        model.loss(tokens, lengths, tags).backward()
        optimizer.step()
    assert before < 0.6
    assert tag_accuracy(model.eval().decode(test_tokens, test_lengths), test_tags) > 0.97


@pytest.mark.parametrize("decoder", DECODERS)
def test_tagger_padded_batch_decodes_and_scores_as_one_at_a_time(decoder):
    model = tagger(decoder).eval()
    tokens, lengths, tags = tagging_batch(5)
    paths = model.decode(tokens, lengths)
    assert [len(path) for path in paths] == lengths.tolist()
    for b, length in enumerate(lengths.tolist()):
        assert model.decode(tokens[b : b + 1, :length]) == [paths[b]]
    other_tags = tags.masked_fill(tags == -100, 2)  # padded tags never count, whatever their value
    torch.testing.assert_close(model.loss(tokens, lengths, other_tags), model.loss(tokens, lengths, tags))


def test_tagger_crf_loss_is_the_mean_negative_log_likelihood_and_obeys_constraints():
    allowed = [[True, False, True], [True, True, True], [False, True, True]]
    model = tagger("crf", allowed_transitions=allowed, allowed_start=[True, False, True]).eval()
    tokens, lengths, tags = tagging_batch(4)
    emissions = model(tokens, lengths)
    expected = -model.crf.log_likelihood(emissions, tags, lengths).mean()
    torch.testing.assert_close(model.loss(tokens, lengths, tags), expected)
    for path in model.decode(tokens, lengths):
        assert path[0] != 1 and all(allowed[a][b] for a, b in zip(path, path[1:]))
    assert tagger("softmax").crf is None


def test_tagger_bigram_embedding_feeds_the_encoder():
    model = tagger("crf", bigram_vocab_size=20, bigram_dim=4).eval()
    assert model.encoder.rnn.weight_ih_l0.shape[1] == 8 + 4
    tokens, lengths, tags = tagging_batch(3)
    bigrams = torch.randint(1, 20, tokens.shape)
    emissions = model(tokens, lengths, bigrams)
    assert emissions.shape == (3, 8, 3)
    assert not torch.allclose(model(tokens, lengths, (bigrams + 1) % 20), emissions)  # bigrams are read
    model.loss(tokens, lengths, tags, bigrams).backward()
    assert model.bigram_embedding.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"bigrams must be ids shaped like tokens \(3, 8\), got None"):
        model(tokens, lengths)
    with pytest.raises(ValueError, match=r"this model has no bigrams embedding \(bigram_dim=0"):
        tagger("crf")(tokens, lengths, bigrams)


def test_tagger_dictionary_embedding_feeds_the_encoder_after_the_bigrams():
    model = tagger("crf", bigram_vocab_size=20, bigram_dim=4, dictionary_patterns=9, dictionary_dim=2).eval()
    assert model.encoder.rnn.weight_ih_l0.shape[1] == 8 + 4 + 2
    tokens, lengths, tags = tagging_batch(3)
    bigrams, dictionary = torch.randint(1, 20, tokens.shape), torch.randint(1, 9, tokens.shape)
    emissions = model(tokens, lengths, bigrams, dictionary=dictionary)
    assert not torch.allclose(
        model(tokens, lengths, bigrams, dictionary=dictionary % 8 + 1), emissions
    )  # patterns are read
    model.loss(tokens, lengths, tags, bigrams, dictionary=dictionary).backward()
    assert model.dictionary_embedding.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"dictionary must be ids shaped like tokens \(3, 8\), got None"):
        model(tokens, lengths, bigrams)
    with pytest.raises(ValueError, match=r"this model has no dictionary embedding \(dictionary_dim=0 in its config\)"):
        tagger("crf")(tokens, lengths, dictionary=dictionary)


def test_tagger_config_round_trip_keeps_constraints_and_bigrams():
    config = TaggerConfig(
        encoder_config(),
        num_tags=2,
        decoder="softmax",
        allowed_transitions=torch.tensor([[True, False], [True, True]]),
        allowed_end=[False, True],
        bigram_vocab_size=30,
        bigram_dim=5,
    )
    assert config.allowed_transitions == ((True, False), (True, True))
    assert TaggerConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"decoder": "hmm"}, r"decoder must be one of \('crf', 'softmax'\), got 'hmm'"),
        ({"allowed_transitions": [[True, True]]}, "allowed_transitions must be 2 rows of 2 bools"),
        ({"allowed_transitions": [[True, 1], [True, True]]}, r"allowed_transitions\[0\] must be 2 bools"),
        ({"allowed_start": [True]}, r"allowed_start must be 2 bools \(True = permitted\), got \[True\]"),
        ({"bigram_dim": 4}, "both be 0 .* got bigram_vocab_size=0, bigram_dim=4"),
        ({"bigram_vocab_size": -1}, "bigram_vocab_size must be an int >= 0"),
        ({"dictionary_patterns": 9}, "both be 0 .* got dictionary_patterns=9, dictionary_dim=0"),
    ],
)
def test_tagger_config_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        TaggerConfig(encoder_config(), num_tags=2, **overrides)
