"""An ensemble of recurrent networks (``members``): the head averages its members' probabilities, each member
trains as it would alone, and every output of a run names the ensemble and its size."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from cli_helpers import invoke
from ensemble_training import train_as_the_engine
from tiny_data import write_reviews

from lstmkit.heads import ClassifierConfig, ClassifierEnsemble, EncoderConfig, SequenceClassifier
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.model import build_classifier, classifier_probabilities, predictor_name
from lstmkit.train import TrainConfig
from lstmkit.train.module import TrainingModule
from lstmkit.train.objectives import ClassificationObjective

LENGTHS = torch.tensor([5, 2, 4])


def _config(dropout: float = 0.3, **encoder) -> ClassifierConfig:
    encoder = {"vocab_size": 13, "embedding_dim": 6, "hidden_size": 5, "padding_idx": 0, **encoder}
    return ClassifierConfig(EncoderConfig(**encoder), num_classes=3, pooling="max", dropout=dropout, lexicon_classes=4,
                            lexicon_dim=3)  # fmt: skip


def _batch(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, 13, (3, 5), generator=generator)
    lexicon = torch.randint(1, 4, (3, 5), generator=generator)
    for b, n in enumerate(LENGTHS.tolist()):
        tokens[b, n:] = 0
        lexicon[b, n:] = 0
    return {"tokens": tokens, "lengths": LENGTHS, "lexicon": lexicon, "labels": torch.tensor([0, 2, 1])}


@torch.no_grad()
def test_the_ensemble_averages_its_members_probabilities_and_member_0_starts_as_a_lone_network():
    torch.manual_seed(7)
    lone = SequenceClassifier(_config())
    torch.manual_seed(7)
    model = ClassifierEnsemble(_config(), members=3).eval()
    assert len(model.members) == 3 and model.config == _config()
    for name, value in lone.state_dict().items():  # member 0 is the network one seed gives alone
        torch.testing.assert_close(model.members[0].state_dict()[name], value)
    first, second = (dict(m.named_parameters())["output.weight"] for m in model.members[:2])
    assert not torch.equal(first, second)  # the others start elsewhere
    batch = _batch()
    logits = model.member_logits(batch["tokens"], batch["lengths"], lexicon=batch["lexicon"])
    for member, got in zip(model.members, logits):  # each member reads the tokens and the lexicon classes
        torch.testing.assert_close(got, member(batch["tokens"], batch["lengths"], lexicon=batch["lexicon"]))
    mean = torch.stack([x.softmax(-1) for x in logits]).mean(0)
    torch.testing.assert_close(model(batch["tokens"], batch["lengths"], lexicon=batch["lexicon"]).softmax(-1), mean)
    for bad in (1, 0, 2.0, True):
        with pytest.raises(ValueError, match=f"members must be an integer >= 2.*got {bad!r}"):
            ClassifierEnsemble(_config(), members=bad)


def _train_steps(model, members: tuple, steps: int = 5, clip: float = 0.26) -> None:
    """AdamW steps on :func:`_batch` batches, the ensemble's loss and clipping as the engine makes them."""
    train_as_the_engine(model, (_batch(step) for step in range(steps)), ensemble=bool(members), clip=clip)


def test_each_member_trains_as_it_would_alone_its_gradient_clipped_on_its_own():
    # Without dropout the members' only link is the shared batches: the mean of their losses gives each
    # 1/n of its own gradient, clipped at clip/n on its own, which AdamW follows as it would the whole.
    config = _config(dropout=0.0, embedding_dropout=0.0)
    torch.manual_seed(3)
    lone = SequenceClassifier(config).double()
    torch.manual_seed(3)
    ensemble = ClassifierEnsemble(config, members=2).double()
    start = {name: p.detach().clone() for name, p in lone.named_parameters()}
    _train_steps(lone, ())
    _train_steps(ensemble, ensemble.members)
    moved = max(float((p.detach() - start[name]).abs().max()) for name, p in lone.named_parameters())
    assert moved > 0.01
    # The clip (0.26) bites in some steps and not in others (the lone network's gradient norms are 0.21-0.31),
    # so a member clipped otherwise (at clip, or with the whole ensemble) would move otherwise.
    for name, p in lone.named_parameters():
        torch.testing.assert_close(dict(ensemble.members[0].named_parameters())[name], p, rtol=1e-6, atol=1e-7)


def test_the_clip_is_each_members_own():
    model = ClassifierEnsemble(_config(), members=2)
    for member, scale in zip(model.members, (100.0, 1e-4)):
        for p in member.parameters():
            p.grad = torch.full_like(p, scale)
    small = [p.grad.clone() for p in model.members[1].parameters()]
    TrainingModule(model, ClassificationObjective(3), TrainConfig()).configure_gradient_clipping(None, 1.0, "norm")
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.members[0].parameters()]))
    assert float(norm) == pytest.approx(0.5, rel=1e-5)  # clip / members
    for p, before in zip(model.members[1].parameters(), small):  # under its own clip: untouched
        torch.testing.assert_close(p.grad, before)


def test_an_ensemble_is_refused_where_it_cannot_be_trained_from_scratch_or_perturbed():
    with pytest.raises(ValueError, match="members=2.*trained from scratch.*got pretrain_lm=True"):
        sentiment.SentimentConfig(members=2, pretrain_lm=True)
    with pytest.raises(ValueError, match="members=3.*needs virtual_adversarial=0, got 1.0"):
        sentiment.SentimentConfig(members=3, virtual_adversarial=1.0)
    with pytest.raises(ValueError, match="members must be a positive int, got 0"):
        sentiment.SentimentConfig(members=0)
    out = invoke("train", "sentiment", "--members", "0")
    assert out.exit_code == 2 and "members" in out.output and "Traceback" not in out.output, out.output


def test_the_default_is_an_ensemble_where_the_networks_train_from_scratch_else_one_network():
    assert sentiment.SentimentConfig().members is None  # auto
    assert sentiment.SentimentConfig().resolve_members() == sentiment.DEFAULT_MEMBERS == 3
    for one in ({"pretrain_lm": True}, {"forward_backward": True, "bidirectional": False}, {"adversarial": 1.0},
                {"virtual_adversarial": 2.0}, {"members": 1}):  # fmt: skip
        assert sentiment.SentimentConfig(**one).resolve_members() == 1, one  # auto never refuses an option
    assert sentiment.SentimentConfig(members=2).resolve_members() == 2
    # A run saved before members existed trained one network; a run saved with auto reads it back as auto.
    saved = sentiment.SentimentConfig().to_dict()
    assert sentiment.SentimentConfig.from_dict(saved).resolve_members() == 3
    del saved["members"]
    assert sentiment.SentimentConfig.from_dict(saved).resolve_members() == 1
    model = build_classifier(sentiment.SentimentConfig(), _config())
    assert isinstance(model, ClassifierEnsemble) and len(model.members) == 3
    assert predictor_name(sentiment.SentimentConfig()) == "ensemble"
    assert predictor_name(sentiment.SentimentConfig(pretrain_lm=True)) == "recurrent"


def test_an_ensemble_run_names_itself_everywhere(tmp_path):
    data = write_reviews(tmp_path / "reviews.csv")
    out = invoke("train", "sentiment", "--data", str(data), "--out", str(tmp_path / "run"), "--members", "2",
                 "--embedding-dim", "8", "--hidden-size", "8", "--min-freq", "1", "--epochs", "1", "--batch-size",
                 "16", "--no-baselines", "--no-progress")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "an ensemble of 2 recurrent networks averaged" in out.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["model"]["name"] == "ensemble" and metrics["model"]["members"] == 2
    model = sentiment.load(tmp_path / "run")
    assert isinstance(model.model, ClassifierEnsemble) and len(model.model.members) == 2
    assert model.predictor == "ensemble" and model.model_name == "an ensemble of 2 recurrent networks averaged"
    assert model.predict("东西很好").model == "ensemble"
    assert model.encoder is model.model.members[0].encoder  # gates and inputs are the first member's
    scores = model.evaluate()
    assert scores["model"] == "ensemble" and scores["members"] == 2
    out = invoke("evaluate", tmp_path / "run")
    assert out.exit_code == 0 and "an ensemble of 2 recurrent networks averaged" in out.output, out.output
    out = invoke("inspect", tmp_path / "run", "东西很好", "--out", str(tmp_path / "inspect"))
    assert out.exit_code == 0, out.output
    page = (tmp_path / "inspect" / "inspect.html").read_text(encoding="utf-8")
    assert "an ensemble of 2 recurrent networks averaged" in page and "first of the 2 networks" in page


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    config = sentiment.SentimentConfig(
        data=str(write_reviews(root / "reviews.csv")), embedding_dim=8, hidden_size=8, min_freq=1, members=2,
        baselines=False, train=TrainConfig(epochs=1, batch_size=16, lr=0.01, patience=None, progress=False),
    )  # fmt: skip
    return sentiment.train(config, root / "run").run_dir


def _run_exported(path, feeds: dict) -> torch.Tensor:
    if path.suffix == ".pt2":
        with torch.no_grad():
            return torch.export.load(path).module()(*feeds.values())
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {name: value.numpy() for name, value in feeds.items()})[0])


@pytest.mark.parametrize("fmt", ["onnx", "torch-export"])
def test_an_exported_ensemble_gives_the_averaged_probabilities(tmp_path, ensemble_run, fmt):
    from lstmkit.export.tasks import export_run
    from lstmkit.io import read_json

    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    exported = export_run(ensemble_run, tmp_path / ("ensemble.onnx" if fmt == "onnx" else "ensemble.pt2"), fmt=fmt)
    metadata = read_json(exported.metadata)
    assert metadata["model"] == "ensemble" and metadata["members"] == 2
    assert any("2 networks' averaged probabilities" in note for note in exported.notes)
    run = sentiment.load(ensemble_run)
    texts = ["很好这个东西", "太差", "我们买了一天用手机书质量服务快递价格推荐"]
    inputs = run.text_encoder.inputs(texts)
    pad = run.text_encoder.vocab.pad_index
    padded = {name: torch.tensor([r + [pad] * (max(map(len, rows)) - len(r)) for r in rows])
              for name, rows in inputs.items()}  # fmt: skip
    feeds = {"tokens": padded.pop("tokens"), "lengths": torch.tensor([len(r) for r in inputs["tokens"]]), **padded}
    want = torch.from_numpy(run.predict_proba(texts))
    assert float((_run_exported(exported.path, feeds).double() - want).abs().max()) < 1e-5
    first = classifier_probabilities(run.first_network, inputs, pad)  # not the first member's alone
    assert float((torch.from_numpy(first) - want).abs().max()) > 1e-4


def test_a_served_ensemble_answers_as_predict_and_names_itself(ensemble_run):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lstmkit.serve import load_runs
    from lstmkit.serve.app import create_app

    texts = ["很好这个东西", "太差"]
    with TestClient(create_app(load_runs({"reviews": ensemble_run}))) as client:
        answer = client.post("/v1/reviews/predict", json={"texts": texts}).json()
    run = sentiment.load(ensemble_run)
    assert answer["predictions"] == [p.__dict__ for p in run.predict(texts)]
    assert {p["model"] for p in answer["predictions"]} == {"ensemble"}
    assert answer["model"].endswith("an ensemble of 2 recurrent networks averaged")


def test_resume_keeps_the_runs_members_and_refuses_others_by_name(ensemble_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(ensemble_run, run)
    out = invoke("train", "sentiment", "--out", str(run), "--resume", "--members", "3")
    assert out.exit_code == 2 and "Traceback" not in out.output, out.output
    assert "--members 3 differs from the 2 the run was started with" in " ".join(out.output.split())


def test_resume_compares_automatic_members_as_what_they_resolved_to():
    from lstmkit.errors import ResumedSettingError
    from lstmkit.tasks.runner import _refuse_changed_settings
    from lstmkit.tasks.sentiment.config import DEFAULT_MEMBERS

    saved = sentiment.SentimentConfig()  # members=None: DEFAULT_MEMBERS networks trained from scratch
    _refuse_changed_settings(dataclasses.replace(saved, members=DEFAULT_MEMBERS), saved, ["members"])
    with pytest.raises(ResumedSettingError, match=f"1 differs from the {DEFAULT_MEMBERS} \\(automatic\\) the run"):
        _refuse_changed_settings(dataclasses.replace(saved, members=1), saved, ["members"])
