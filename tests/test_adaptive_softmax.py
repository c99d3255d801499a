"""The adaptive softmax against its definition: an exact distribution over the whole vocabulary whose
training loss is the target's negative log-probability under it; and the language models using it."""

import json

import pytest
import torch
from safetensors.torch import save

from lstmkit.data import stream_batches
from lstmkit.heads import EncoderConfig, LanguageModel, LanguageModelConfig, StreamLanguageModel
from lstmkit.heads.adaptive_softmax import AdaptiveSoftmax, adaptive_target_log_prob, frequency_cutoffs
from lstmkit.train.objectives import StreamLanguageModelObjective

VOCAB, HIDDEN, CUTOFFS = 30, 8, (5, 12, 20)


def _targets_in_every_cluster(count: int) -> torch.Tensor:
    targets = torch.randint(0, VOCAB, (count,))
    targets[:4] = torch.tensor([0, 7, 15, VOCAB - 1])  # the shortlist and each cluster
    return targets


@pytest.mark.parametrize("tied", [False, True])
def test_log_probabilities_are_a_distribution_and_score_the_targets(tied):
    torch.manual_seed(0)
    head = AdaptiveSoftmax(HIDDEN, VOCAB, CUTOFFS, tied_shortlist=tied)
    embedding = torch.randn(VOCAB, HIDDEN) if tied else None
    hidden = torch.randn(3, 7, HIDDEN)
    log_probs = head.log_prob(hidden, embedding)
    assert log_probs.shape == (3, 7, VOCAB)
    torch.testing.assert_close(log_probs.logsumexp(-1), torch.zeros(3, 7), atol=1e-6, rtol=0)
    targets = _targets_in_every_cluster(21).view(3, 7)
    expected = log_probs.gather(-1, targets[..., None]).squeeze(-1)
    torch.testing.assert_close(head.target_log_prob(hidden, targets, embedding), expected)
    with pytest.raises(ValueError, match="shortlist_weight"):
        head.log_prob(hidden, None if tied else torch.randn(VOCAB, HIDDEN))


def test_gradients_of_the_target_log_prob_match_finite_differences():
    torch.manual_seed(0)
    double = {"dtype": torch.float64, "requires_grad": True}
    hidden = torch.randn(6, 4, **double)
    head_weight, head_bias = torch.randn(3 + 2, 4, **double), torch.randn(5, **double)
    tails = [(torch.randn(2, 4, **double), torch.randn(n, 2, **double), torch.randn(n, **double)) for n in (4, 3)]
    targets = torch.tensor([0, 2, 3, 6, 9, 5])  # shortlist 0..2, clusters 3..6 and 7..9

    def score(hidden, head_weight, head_bias, *flat):
        tails = [tuple(flat[i : i + 3]) for i in range(0, len(flat), 3)]
        return adaptive_target_log_prob(hidden, targets, head_weight, head_bias, tails)

    assert torch.autograd.gradcheck(score, (hidden, head_weight, head_bias, *[t for tail in tails for t in tail]))


def test_frequency_cutoffs_cover_the_shares_of_the_counted_tokens():
    counts = torch.tensor([50, 20, 10, 10, 5, 3, 1, 1, 0, 0])
    assert frequency_cutoffs(counts, (0.8, 0.95)) == (3, 5)  # 80 % of 100 in ids 0..2, 95 % in 0..4
    assert frequency_cutoffs(counts, (0.5, 0.5001)) == (1, 2)
    with pytest.raises(ValueError, match="coverage"):
        frequency_cutoffs(counts, (0.99, 0.9))


def test_the_config_refuses_cutoffs_that_do_not_cut_the_vocabulary():
    encoder = EncoderConfig(vocab_size=VOCAB, embedding_dim=HIDDEN, hidden_size=HIDDEN, bidirectional=False)
    config = LanguageModelConfig(encoder, softmax="adaptive", cutoffs=[5, 12])
    assert config.cutoffs == (5, 12)
    assert LanguageModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    older = {k: v for k, v in config.to_dict().items() if k not in ("softmax", "cutoffs")}  # saved before the option
    assert LanguageModelConfig.from_dict(older).softmax == "full"
    for cutoffs in ((), (12, 5), (0, 5), (5, VOCAB)):
        with pytest.raises(ValueError, match="cutoffs"):
            LanguageModelConfig(encoder, softmax="adaptive", cutoffs=cutoffs)
    with pytest.raises(ValueError, match="cutoffs are read only with softmax='adaptive'"):
        LanguageModelConfig(encoder, cutoffs=(5,))
    with pytest.raises(ValueError, match="softmax"):
        LanguageModelConfig(encoder, softmax="sampled")


@pytest.mark.parametrize("tie", [False, True])
def test_an_adaptive_language_model_scores_as_its_full_distribution(tie):
    torch.manual_seed(0)
    encoder = EncoderConfig(vocab_size=VOCAB, embedding_dim=HIDDEN, hidden_size=HIDDEN, bidirectional=False)
    model = LanguageModel(
        LanguageModelConfig(encoder, dropout=0.0, tie_weights=tie, softmax="adaptive", cutoffs=CUTOFFS)
    )
    tokens, targets = torch.randint(0, VOCAB, (2, 9)), _targets_in_every_cluster(18).view(2, 9)
    logits, _ = model(tokens)
    log_probs, _ = model.target_log_probs(tokens, targets)
    torch.testing.assert_close(log_probs, logits.log_softmax(-1).gather(-1, targets[..., None]).squeeze(-1))
    log_probs.sum().backward()
    assert all(p.grad is not None for p in model.parameters())  # the tied shortlist's gradient reaches the embedding
    assert model.decoder_weight is None and model.decoder_bias is None
    save(model.state_dict())  # no aliased tensors (safetensors refuses them)


def test_a_tiny_adaptive_language_model_learns_a_toy_stream():
    torch.manual_seed(0)
    # A periodic stream touching every cluster: after one period each next token is determined.
    period = [0, 3, 7, 1, 15, 4, 25, 2, 9, 29]
    ids = period * 40
    encoder = EncoderConfig(vocab_size=VOCAB, embedding_dim=16, hidden_size=16, bidirectional=False)
    lm = StreamLanguageModel(encoder, dropout=0.0, tie_weights=True, softmax="adaptive", cutoffs=CUTOFFS)
    objective = StreamLanguageModelObjective()
    optimizer = torch.optim.Adam(lm.parameters(), lr=0.03)
    batches = stream_batches([ids], batch_size=4, length=20)
    first = objective.loss(lm, batches[0]).item()
    for _ in range(12):
        for batch in batches:
            loss = objective.loss(lm, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    lm.eval()
    final = sum(objective.loss(lm, batch).item() for batch in batches[1:]) / (len(batches) - 1)
    assert first > 3.0 and final < 0.3, (first, final)  # log(30) = 3.4 nats at the start
