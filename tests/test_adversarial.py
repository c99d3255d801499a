"""Adversarial training on embedded tokens (lstmkit.functional.adversarial and ClassificationObjective),
checked against Miyato, Dai & Goodfellow's definition."""

import csv
import json
import random

import pytest
import torch
import torch.nn.functional as F

from lstmkit.functional import adversarial_perturbation, sequence_l2_normalize
from lstmkit.heads import ClassifierConfig, EncoderConfig, ForwardBackwardClassifier, SequenceClassifier
from lstmkit.tasks import sentiment
from lstmkit.train import TrainConfig
from lstmkit.train.objectives import VIRTUAL_ADVERSARIAL_PROBE, ClassificationObjective

LENGTHS = torch.tensor([5, 3, 1])


def _text_norms(r: torch.Tensor) -> torch.Tensor:
    return r.flatten(1).norm(dim=1)


def _padding(r: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Every entry of ``r (B, T, E)`` at padded steps."""
    return torch.cat([r[b, int(n) :].flatten() for b, n in enumerate(lengths)])


def test_the_perturbation_has_norm_eps_per_text_along_the_gradient_and_leaves_padding_alone():
    gradient = torch.randn(3, 5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    r = adversarial_perturbation(gradient, LENGTHS, 2.5)
    torch.testing.assert_close(_text_norms(r), torch.full((3,), 2.5, dtype=torch.float64))
    assert _padding(r, LENGTHS).abs().max() == 0
    for b, n in enumerate(LENGTHS.tolist()):  # the direction of the gradient over the text's real steps
        real = gradient[b, :n]
        torch.testing.assert_close(r[b, :n], 2.5 * real / real.norm())
    # The gradient at padded steps (not a real token) does not change the result.
    moved = gradient.clone()
    moved[1, 3:] += 100.0
    torch.testing.assert_close(adversarial_perturbation(moved, LENGTHS, 2.5), r)


def test_tiny_and_zero_gradients_normalise_without_underflow_or_nan():
    gradient = 1e-30 * torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1))  # float32: squares underflow
    gradient[2] = 0.0
    r = adversarial_perturbation(gradient, LENGTHS, 1.0)
    torch.testing.assert_close(_text_norms(r)[:2], torch.ones(2))
    assert r[2].abs().max() == 0 and torch.isfinite(r).all()
    assert adversarial_perturbation(gradient, LENGTHS, 0.0).abs().max() == 0
    with pytest.raises(ValueError, match="eps must be a number >= 0, got -1"):
        adversarial_perturbation(gradient, LENGTHS, -1)
    with pytest.raises(ValueError, match=r"lengths \(batch,\), got x \(3, 5, 4\), lengths \(2,\)"):
        sequence_l2_normalize(gradient, LENGTHS[:2])


def _model() -> SequenceClassifier:
    """A small classifier with every dropout the sentiment default has (whole words, weight drop, output)."""
    torch.manual_seed(0)
    encoder = EncoderConfig(vocab_size=20, embedding_dim=6, hidden_size=5, bidirectional=True,
                            embedding_dropout=0.2, weight_drop=0.5)  # fmt: skip
    return SequenceClassifier(ClassifierConfig(encoder, num_classes=3, pooling="max", dropout=0.3)).train()


def _batch() -> dict:
    tokens = torch.randint(1, 20, (3, 5), generator=torch.Generator().manual_seed(2))
    tokens[1, 3:] = tokens[2, 1:] = 0
    return {"tokens": tokens, "lengths": LENGTHS, "labels": torch.tensor([0, 2, 1])}


def _perturbations_seen(model: torch.nn.Module) -> list:
    """The ``perturbation`` of each forward call of ``model`` from now on."""
    seen = []
    model.register_forward_pre_hook(lambda _, args, kwargs: seen.append(kwargs.get("perturbation")), with_kwargs=True)
    return seen


def _seeded(seed, f, *args, **kwargs):
    torch.manual_seed(seed)
    return f(*args, **kwargs)


def test_off_is_the_plain_cross_entropy_in_one_forward_pass():
    model, batch = _model(), _batch()
    seen = _perturbations_seen(model)
    loss = _seeded(5, ClassificationObjective(3, adversarial=0.0).loss, model, batch)
    expected = F.cross_entropy(_seeded(5, model, batch["tokens"], batch["lengths"]), batch["labels"])
    assert loss.item() == expected.item() and seen == [None, None]


def test_adversarial_loss_is_the_clean_loss_plus_the_loss_at_the_perturbed_embeddings():
    model, batch, eps = _model(), _batch(), 0.7
    tokens, lengths, labels = batch["tokens"], batch["lengths"], batch["labels"]
    seen = _perturbations_seen(model)
    loss = _seeded(3, ClassificationObjective(3, adversarial=eps).loss, model, batch)
    after = torch.rand(1)  # the random stream goes on from the clean pass's draws
    # The definition, by hand: g from the clean pass, then the pass at eps * g / ||g|| with the same dropout masks.
    origin = torch.zeros(3, 5, 6, requires_grad=True)
    clean = F.cross_entropy(_seeded(3, model, tokens, lengths, perturbation=origin), labels)
    assert torch.rand(1).item() == after.item()
    (g,) = torch.autograd.grad(clean, origin)
    g = g * (torch.arange(5) < lengths[:, None])[..., None]
    r_adv = eps * g / g.flatten(1).norm(dim=1)[:, None, None]
    adversarial = F.cross_entropy(_seeded(3, model, tokens, lengths, perturbation=r_adv), labels)
    torch.testing.assert_close(loss, clean + adversarial)
    torch.testing.assert_close(_text_norms(seen[1]), torch.full((3,), eps))
    assert _padding(seen[1], lengths).abs().max() == 0 and seen[0].abs().max() == 0
    # The perturbed pass redraws the clean pass's masks: a vanishing step gives back the clean loss.
    tiny = _seeded(3, ClassificationObjective(3, adversarial=1e-9).loss, model, batch)
    torch.testing.assert_close(tiny, 2 * clean)


def test_virtual_adversarial_adds_a_label_free_kl_at_norm_eps():
    model, batch, eps = _model(), _batch(), 1.5
    seen = _perturbations_seen(model)
    objective = ClassificationObjective(3, virtual_adversarial=eps)
    loss = _seeded(4, objective.loss, model, batch)
    clean = F.cross_entropy(_seeded(4, model, batch["tokens"], batch["lengths"]), batch["labels"])
    assert len(seen) == 4  # clean, probe, perturbed (+ the clean pass below)
    torch.testing.assert_close(_text_norms(seen[1]), torch.full((3,), VIRTUAL_ADVERSARIAL_PROBE))
    torch.testing.assert_close(_text_norms(seen[2]), torch.full((3,), eps))
    assert _padding(seen[2], batch["lengths"]).abs().max() == 0
    kl = loss - clean
    assert kl.item() > 0
    # The definition, by hand: a random probe of norm xi per text, the KL's gradient at it, then the KL at
    # eps times that gradient normalised; every pass with the clean pass's dropout masks.
    tokens, lengths = batch["tokens"], batch["lengths"]
    clean_log_probs = F.log_softmax(_seeded(4, model, tokens, lengths).detach(), -1)
    d = torch.randn(3, 5, 6) * (torch.arange(5) < lengths[:, None])[..., None]  # drawn after the clean pass
    probe = (VIRTUAL_ADVERSARIAL_PROBE * d / d.flatten(1).norm(dim=1)[:, None, None]).requires_grad_(True)

    def kl_at(r: torch.Tensor) -> torch.Tensor:  # KL(clean || perturbed), the mean over texts
        log_q = F.log_softmax(_seeded(4, model, tokens, lengths, perturbation=r), -1)
        return (clean_log_probs.exp() * (clean_log_probs - log_q)).sum(1).mean()

    (g,) = torch.autograd.grad(kl_at(probe), probe)
    torch.testing.assert_close(kl, kl_at(eps * g / g.flatten(1).norm(dim=1)[:, None, None]))
    relabelled = {**batch, "labels": torch.tensor([2, 0, 0])}
    relabelled_clean = F.cross_entropy(_seeded(4, model, batch["tokens"], batch["lengths"]), relabelled["labels"])
    torch.testing.assert_close(_seeded(4, objective.loss, model, relabelled) - relabelled_clean, kl)


def test_validation_and_the_eval_mode_model_are_unaffected():
    model, batch = _model(), _batch()
    model.eval()
    plain = ClassificationObjective(3).eval_sums(model, batch)
    adversarial = ClassificationObjective(3, adversarial=2.0, virtual_adversarial=2.0).eval_sums(model, batch)
    assert plain.keys() == adversarial.keys()
    for name in plain:
        assert torch.equal(plain[name], adversarial[name]), name


def test_refused_settings_name_the_value():
    with pytest.raises(ValueError, match="adversarial must be a finite perturbation norm >= 0.*got -0.5"):
        ClassificationObjective(2, adversarial=-0.5)
    with pytest.raises(ValueError, match="virtual_adversarial must be a finite.*got nan"):
        sentiment.SentimentConfig(virtual_adversarial=float("nan"))
    with pytest.raises(ValueError, match="adversarial=1.0.*needs forward_backward=False"):
        sentiment.SentimentConfig(adversarial=1.0, bidirectional=False, forward_backward=True)
    encoder = EncoderConfig(vocab_size=20, embedding_dim=6, hidden_size=5, bidirectional=False)
    ensemble = ForwardBackwardClassifier(ClassifierConfig(encoder, num_classes=3))
    with pytest.raises(ValueError, match="ForwardBackwardClassifier has several members.*got 1.0 and 0.0"):
        ClassificationObjective(3, adversarial=1.0).loss(ensemble, _batch())


def test_a_sentiment_run_trains_with_both_and_records_them(tmp_path):
    rng = random.Random(0)
    data = tmp_path / "reviews.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(60):
            word = "很好" if i % 2 else "太差"
            writer.writerow(["".join(rng.choices("这个东西手机质量", k=rng.randint(2, 8))) + word + str(i), i % 2])
    train = TrainConfig(epochs=1, batch_size=16, lr=0.01, patience=None, progress=False)
    config = sentiment.SentimentConfig(data=str(data), train=train, embedding_dim=8, hidden_size=8, baselines=False,
                                       min_freq=1, adversarial=1.0, virtual_adversarial=0.5)  # fmt: skip
    result = sentiment.train(config, tmp_path / "run")
    assert 0 <= result.metrics["model"]["accuracy"] <= 1
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))["config"]
    assert (saved["adversarial"], saved["virtual_adversarial"]) == (1.0, 0.5)
