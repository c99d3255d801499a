"""The sentiment task on data as users have it: validation/test files of their own, a split column,
pretrained word vectors; each end to end through the command line on tiny files, and each bad input
a one-line error that leaves no run behind."""

import csv
import json
import random

import pytest
import torch
from cli_helpers import invoke
from safetensors.torch import load_file

from lstmkit.tasks import sentiment

POSITIVE = ["很好", "喜欢", "满意"]
NEGATIVE = ["太差", "失望", "难用"]
FILLER = list("这个东西我们买了一天用手机")
TINY = ["--epochs", "1", "--hidden-size", "8", "--batch-size", "16", "--min-freq", "1", "--no-baselines",
        "--no-progress", "--members", "1"]  # fmt: skip


def _reviews(n: int, seed: int, labels=("positive", "negative")) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        keyword = rng.choice(POSITIVE if label == "positive" else NEGATIVE if label == "negative" else ["一般"])
        rows.append(("".join(rng.choices(FILLER, k=rng.randint(2, 8))) + keyword + f"{seed}-{i}", label))
    return rows


def _write(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _trained(out) -> tuple[dict, dict]:
    """(metrics.json, config.json) of a finished run."""
    return tuple(json.loads((out / name).read_text(encoding="utf-8")) for name in ("metrics.json", "config.json"))


def test_validation_and_test_files_of_their_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths, as a user types them
    _write(tmp_path / "train.csv", _reviews(48, seed=1))
    _write(tmp_path / "dev.csv", _reviews(12, seed=2))
    _write(tmp_path / "test.csv", _reviews(14, seed=3))
    out = invoke("train", "sentiment", "--data", "train.csv", "--val-data", "dev.csv", "--test-data", "test.csv",
                 "--out", "run", "--embedding-dim", "8", *TINY)  # fmt: skip
    assert out.exit_code == 0, out.output
    metrics, config = _trained(tmp_path / "run")
    # The whole training file trains; nothing is carved out of it.
    assert [metrics["data"][part] for part in ("train", "val", "test")] == [48, 12, 14]
    files = {"train": "train.csv", "val": "dev.csv", "test": "test.csv"}
    assert metrics["data"]["sources"] == {part: str(tmp_path / name) for part, name in files.items()}
    assert config["config"]["val_data"] == str(tmp_path / "dev.csv")  # absolute, for evaluate from anywhere
    assert f"val part (12 texts): {tmp_path / 'dev.csv'}" in " ".join(out.output.split())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scores = sentiment.load(tmp_path / "run").evaluate()
    assert scores["data"] == str(tmp_path / "test.csv") and scores["size"] == 14
    assert scores["accuracy"] == pytest.approx(metrics["model"]["accuracy"])


def test_a_split_column_in_one_table(tmp_path):
    rows = [(*row, "train") for row in _reviews(40, seed=1)] + [(*row, "dev") for row in _reviews(10, seed=2)]
    rows += [(*row, "Test") for row in _reviews(6, seed=3)]
    random.Random(0).shuffle(rows)
    data = _write(tmp_path / "all.csv", rows, header=("text", "label", "split"))
    out = invoke("train", "sentiment", "--data", data, "--split-column", "split", "--out", tmp_path / "run",
                 "--embedding-dim", "8", *TINY)  # fmt: skip
    assert out.exit_code == 0, out.output
    metrics, _ = _trained(tmp_path / "run")
    assert [metrics["data"][part] for part in ("train", "val", "test")] == [40, 10, 6]
    assert metrics["data"]["sources"]["test"] == f"{data}, rows with split test"


def _vector_file(path, tokens, dim: int, seed: int = 0) -> dict[str, list[float]]:
    """A fastText-style .vec file (header, trailing spaces) of random vectors for ``tokens``."""
    rng = random.Random(seed)
    vectors = {token: [round(rng.gauss(0, 0.5), 4) for _ in range(dim)] for token in tokens}
    lines = [f"{len(vectors)} {dim}"] + [f"{t} " + " ".join(map(str, v)) + " " for t, v in vectors.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vectors


def test_word_vectors_initialise_the_embedding_and_report_coverage(tmp_path):
    data = _write(tmp_path / "train.csv", _reviews(60, seed=1))
    # Vectors for most characters of the texts (not 喜欢满意失望难用), and some the vocabulary lacks.
    vectors = _vector_file(tmp_path / "zh.vec", FILLER + list("很好太差0123456789-") + list("飞机火车"), dim=6)
    # A learning rate that leaves the embedding as it was initialised.
    out = invoke("train", "sentiment", "--data", data, "--embeddings", tmp_path / "zh.vec", "--out", tmp_path / "run",
                 "--lr", "1e-7", *TINY)  # fmt: skip
    assert out.exit_code == 0, out.output
    metrics, config = _trained(tmp_path / "run")
    tokens = json.loads((tmp_path / "run" / "vocab.json").read_text(encoding="utf-8"))["vocab"]["tokens"]
    words = tokens[2:]  # after <pad>, <unk>
    found = [t for t in words if t in vectors]
    assert 0 < len(found) < len(words)
    assert metrics["embeddings"]["found"] == len(found) and metrics["embeddings"]["vocabulary"] == len(words)
    assert metrics["embeddings"]["coverage"] == pytest.approx(len(found) / len(words), abs=1e-4)
    assert config["embeddings"] == metrics["embeddings"] and config["model"]["encoder"]["embedding_dim"] == 6
    printed = " ".join(out.output.split())
    assert f"embeddings: {len(found)} of {len(words)} vocabulary tokens" in printed, printed
    weight = load_file(tmp_path / "run" / "model.safetensors")["encoder.embedding.weight"]
    for token in found:
        assert torch.allclose(weight[tokens.index(token)], torch.tensor(vectors[token]), atol=1e-3), token


@pytest.mark.parametrize(
    "options, message",
    [
        (["--val-data", "missing.csv"], "--val-data 'missing.csv': no such file or folder"),
        (["--test-data", "empty.csv"], "empty.csv: the file is empty"),
        (["--test-data", "neutral.csv"], "neutral.csv: line 4 has label 'neutral', which the training part does not"),
        (["--embeddings", "missing.vec"], "--embeddings 'missing.vec': no such file or folder"),
        (["--embeddings", "bad.vec"], "bad.vec: line 3 has 3 values, expected 4 (the header's dimension)"),
        (["--embeddings", "good.vec", "--embedding-dim", "16"], "--embedding-dim 16 does not match the 4 dimensions"),
        (["--split-column", "split", "--val-data", "empty.csv"], "--split-column 'split': the parts come from"),
    ],
)
def test_bad_user_data_is_one_line_and_leaves_no_run(tmp_path, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "train.csv", _reviews(30, seed=1))
    _write(tmp_path / "neutral.csv", _reviews(6, seed=2, labels=("positive", "negative", "neutral")))
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    _vector_file(tmp_path / "good.vec", FILLER, dim=4)
    (tmp_path / "bad.vec").write_text("2 4\n这 1 2 3 4\n个 1 2 3\n", encoding="utf-8")
    out = invoke("train", "sentiment", "--data", "train.csv", "--out", "run", *options, *TINY)
    lines = [line for line in out.output.splitlines() if line.strip()]
    assert out.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error:"), out.output
    assert message in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir() if "run" in p.name) in ([], [".run.lock"])
