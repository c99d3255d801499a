"""ONNX export (lstmkit.export): every exported file is run in onnxruntime and compared with PyTorch."""

from __future__ import annotations

import pytest
import torch
from cli_helpers import invoke

import lstmkit
from lstmkit.export import ExportError, export_layer, require_onnx
from lstmkit.export.tasks import export_run, metadata_path
from lstmkit.io import read_json
from lstmkit.tasks.runner import load_run

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TOLERANCE = 1e-5
LENGTHS = [9, 1, 5, 7]  # a batch mixing lengths, unsorted


def run_onnx(path, feeds: dict) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [torch.from_numpy(a) for a in session.run(None, {k: v.numpy() for k, v in feeds.items()})]


def max_difference(got: list, want: list) -> float:
    return max(float((a - b.detach()).abs().max()) for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_layer_matches_pytorch_on_mixed_lengths(tmp_path, cell, bidirectional, num_layers):
    torch.manual_seed(num_layers)
    batch_first = num_layers == 2  # both layouts, without doubling the cases
    layer = getattr(lstmkit, cell)(3, 4, num_layers, bidirectional=bidirectional, batch_first=batch_first).eval()
    path = export_layer(layer, tmp_path / "layer.onnx")
    # Longer and wider than the example the exporter traced (T=3, B=2): both axes must be dynamic.
    steps, batch = max(LENGTHS), len(LENGTHS)
    x = torch.randn((batch, steps, 3) if batch_first else (steps, batch, 3))
    x_padded = x.clone()
    lengths = torch.tensor(LENGTHS)
    for b, n in enumerate(LENGTHS):  # garbage in the padding must change nothing
        (x_padded[b, n:] if batch_first else x_padded[n:, b]).fill_(1e3)
    states = tuple(torch.randn(shape) for shape in layer._state_shapes(batch))
    output, final = layer(x, layer.cell_kind.as_hx(states), lengths=lengths)
    want = [output, *layer.cell_kind.as_states(final)]
    names = ["h0", "c0"][: len(states)]
    got = run_onnx(path, {"input": x_padded, "lengths": lengths, **dict(zip(names, states))})
    assert max_difference(got, want) < TOLERANCE
    assert got[0].abs().max() > 0.01  # a real output, not zeros that happen to match padding


@pytest.mark.parametrize(
    "make",
    [
        lambda: lstmkit.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True),
        lambda: lstmkit.GRU(3, 4, 2, bias=False, bidirectional=True),
        lambda: lstmkit.LSTM(3, 4, 2, bias=False),
    ],
    ids=["rnn-relu", "gru-no-bias", "lstm-no-bias"],
)
def test_layer_variants_match_pytorch(tmp_path, make):
    torch.manual_seed(0)
    layer = make().eval()
    path = export_layer(layer, tmp_path / "layer.onnx")
    x, lengths = torch.randn(7, 3, 3), torch.tensor([7, 2, 4])
    states = tuple(torch.randn(shape) for shape in layer._state_shapes(3))
    output, final = layer(x, layer.cell_kind.as_hx(states), lengths=lengths)
    names = dict(zip(["h0", "c0"], states))
    got = run_onnx(path, {"input": x, "lengths": lengths, **names})
    assert max_difference(got, [output, *layer.cell_kind.as_states(final)]) < TOLERANCE


def test_layer_without_lengths_and_initial_state(tmp_path):
    torch.manual_seed(0)
    layer = lstmkit.LSTM(3, 4, 2, bidirectional=True).eval()
    path = export_layer(layer, tmp_path / "layer.onnx", lengths=False)
    x = torch.randn(6, 5, 3)
    output, (h_n, c_n) = layer(x)
    zeros = torch.zeros(4, 5, 4)
    assert max_difference(run_onnx(path, {"input": x, "h0": zeros, "c0": zeros}), [output, h_n, c_n]) < TOLERANCE


@pytest.mark.parametrize(
    "layer, option",
    [
        (lambda: lstmkit.LSTM(3, 4, layer_norm=True), "layer_norm"),
        (lambda: lstmkit.LSTM(3, 4, zoneout=0.1), "zoneout"),
        (lambda: lstmkit.LSTM(3, 4, proj_size=2), "proj_size"),
        (lambda: lstmkit.GRU(3, 4, reset_after=False), "reset_after"),
        (lambda: lstmkit.LSTM(3, 4, dtype=torch.float64), "float64.*float32"),
    ],
)
def test_options_onnx_cannot_express_are_refused_by_name(tmp_path, layer, option):
    with pytest.raises(ExportError, match=option):
        export_layer(layer(), tmp_path / "layer.onnx")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_missing_package_is_named():
    with pytest.raises(ExportError, match="'no_such_onnx_package'.*lstmkit\\[export\\]"):
        require_onnx("no_such_onnx_package")


TEXTS = ["很好这个东西", "太差", "我们买了一天用手机书质量服务快递价格推荐", "失望了"]  # mixed lengths


def test_sentiment_run_matches_predict_proba(tmp_path, sentiment_run):
    exported = export_run(sentiment_run, tmp_path / "sentiment.onnx")
    run = load_run(sentiment_run)
    ids = run.text_encoder.encode(TEXTS)
    pad = read_json(exported.metadata)["preprocessing"]["padding_id"]
    tokens = torch.tensor([row + [pad] * (max(map(len, ids)) - len(row)) for row in ids])
    (probabilities,) = run_onnx(exported.path, {"tokens": tokens, "lengths": torch.tensor([len(r) for r in ids])})
    want = torch.from_numpy(run.predict_proba(TEXTS))
    assert len(set(map(len, ids))) > 2
    assert float((probabilities.double() - want).abs().max()) < TOLERANCE
    metadata = read_json(exported.metadata)
    assert metadata["labels"] == run.labels and [i["name"] for i in metadata["inputs"]] == ["tokens", "lengths"]
    assert metadata["preprocessing"]["vocabulary"] == list(run.text_encoder.vocab.tokens)


def test_lm_run_steps_reproduce_greedy_generate(tmp_path, lm_run):
    exported = export_run(lm_run, tmp_path / "lm.onnx")
    run = load_run(lm_run)
    metadata = read_json(exported.metadata)
    vocab, banned = metadata["preprocessing"]["vocabulary"], metadata["preprocessing"]["never_sample_ids"]
    prime = "the lord"
    states = {i["name"]: torch.zeros([1 if d == "batch" else d for d in i["shape"]]) for i in metadata["inputs"][1:]}
    tokens = torch.tensor([[vocab.index(ch) for ch in prime]])
    text = prime
    for _ in range(12):  # the prime at once, then one character per step, the state fed back
        logits, *new_states = run_onnx(exported.path, {"tokens": tokens, **states})
        states = dict(zip(states, new_states))
        scores = logits[0, -1].clone()
        scores[banned] = float("-inf")
        token = int(scores.argmax())
        text += vocab[token]
        tokens = torch.tensor([[token]])
    assert text == run.generate(prime, temperature=0, chars=12)


def test_export_refuses_existing_file_and_unknown_format(tmp_path, lm_run):
    out = tmp_path / "lm.onnx"
    out.write_text("keep me")
    with pytest.raises(ExportError, match="--out .*exists.*--force"):
        export_run(lm_run, out)
    assert out.read_text() == "keep me" and not metadata_path(out).exists()
    with pytest.raises(ExportError, match="--format must be one of"):
        export_run(lm_run, out, fmt="tflite")
    assert export_run(lm_run, out, force=True).path.stat().st_size > 1000


def test_cli_exports_a_run_and_says_what_it_wrote(tmp_path, sentiment_run):
    out = tmp_path / "model.onnx"
    result = invoke("export", str(sentiment_run), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and out.exists() and metadata_path(out).exists()
    again = invoke("export", str(sentiment_run), "--out", str(out))
    assert again.exit_code == 2 and again.output.count("\n") == 1 and "--force" in again.output


def test_fused_sentiment_run_says_what_it_leaves_to_the_caller(tmp_path):
    from tiny_data import write_reviews

    from lstmkit.tasks import sentiment
    from lstmkit.train import TrainConfig

    config = sentiment.SentimentConfig(
        data=str(write_reviews(tmp_path / "reviews.csv")), embedding_dim=8, hidden_size=8, min_freq=1,
        baselines=False, fusion=True, train=TrainConfig(epochs=1, batch_size=16, progress=False),
    )  # fmt: skip
    run_dir = sentiment.train(config, tmp_path / "run").run_dir
    exported = export_run(run_dir, tmp_path / "fused.onnx")
    run = load_run(run_dir)
    fusion = read_json(exported.metadata)["fusion"]
    assert fusion["recurrent_weight"] == run.fusion.recurrent_weight and "linear" in fusion["left_to_caller"]
    assert any("fusion" in note for note in exported.notes)
    ids = run.text_encoder.encode(TEXTS[:1])
    (probabilities,) = run_onnx(exported.path, {"tokens": torch.tensor(ids), "lengths": torch.tensor([len(ids[0])])})
    assert float((probabilities.double() - torch.from_numpy(run.recurrent_proba(TEXTS[:1]))).abs().max()) < TOLERANCE


def test_forecast_run_matches_predict_windows(tmp_path, forecast_run):
    import numpy as np

    from lstmkit.tasks.forecast.data import make_features
    from lstmkit.tasks.forecast.dataset import series_pairs, window_arrays

    exported = export_run(forecast_run, tmp_path / "forecast.onnx")
    run = load_run(forecast_run)
    series = run.load_series()
    origins = np.array([len(series) - 20, len(series) - 9, len(series) - 6])
    pairs = series_pairs(series.targets.shape[1], origins)
    arrays = window_arrays(make_features(series, run.layout, run.scalers), pairs[:, 0], pairs[:, 1], run.layout, 1)
    feeds = {k: torch.from_numpy(np.ascontiguousarray(arrays[k])) for k in ("past", "future", "base")}
    (forecast,) = run_onnx(exported.path, {**feeds, "series": torch.from_numpy(pairs[:, 0])})
    want = torch.from_numpy(run.predict_windows(series, origins)).reshape(forecast.shape)
    assert float(((forecast.double() - want).abs() / want.abs().clamp(min=1)).max()) < TOLERANCE
    assert [i["name"] for i in read_json(exported.metadata)["inputs"]] == ["past", "future", "base", "series"]


def test_translate_run_greedy_steps_reproduce_translate(tmp_path, translate_run):
    exported = export_run(translate_run, tmp_path / "translate.onnx")
    run = load_run(translate_run)
    metadata = read_json(exported.metadata)
    encoder, step = exported.files
    texts = ["the cat eats fish", "the dog", "the big red dog sees the cat"]  # mixed lengths
    ids = [run.source.encode(text) for text in texts]
    width = max(map(len, ids))
    source = torch.tensor([row + [0] * (width - len(row)) for row in ids])
    lengths = torch.tensor([len(row) for row in ids])
    given = dict(zip(metadata["encoder"]["outputs"], run_onnx(encoder, {"source": source, "lengths": lengths})))
    tokens = torch.full((len(texts),), metadata["preprocessing"]["target"]["bos_id"])
    eos, chosen = metadata["preprocessing"]["target"]["eos_id"], []
    with torch.no_grad():  # PyTorch's own steps beside, fed the same tokens
        encoded = run.model.encode(source, lengths)
        state = run.model.initial_state(encoded)
    for _ in range(min(run.config.max_pair_tokens + 10, 2 * width + 10)):
        inputs = {name: given[name] for name in metadata["decoder_step"]["inputs"][1:]}
        results = dict(zip(metadata["decoder_step"]["outputs"], run_onnx(step, {"tokens": tokens, **inputs})))
        given.update({name: results[name + "_n"] for name in ("h", "c", "feed") if name + "_n" in results})
        with torch.no_grad():
            log_probs, state, weights = run.model.step(tokens, encoded, state)
        assert max_difference([results["log_probs"], results["attention"]], [log_probs, weights]) < TOLERANCE
        tokens = results["log_probs"].argmax(-1)
        chosen.append(tokens)
    steps = torch.stack(chosen, 1).tolist()
    found = [row[: row.index(eos)] if eos in row else row for row in steps]
    want = [t.target_tokens for t in run.translate(texts, beam_size=1)]
    assert [run.target.vocab.decode(row, skip_specials=False) for row in found] == want
    assert len(chosen) > 10  # the steps ran on past EOS, states carried all along


def test_deploy_docs_script_reproduces_predict(tmp_path, sentiment_run, capsys, monkeypatch):
    import re
    from pathlib import Path

    (tmp_path / "runs").mkdir()
    export_run(sentiment_run, tmp_path / "runs" / "sentiment.onnx")
    docs = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text(encoding="utf-8")
    (script,) = [block for block in re.findall(r"```python\n(.*?)```", docs, flags=re.S) if "onnxruntime" in block]
    monkeypatch.chdir(tmp_path)  # the script names runs/sentiment.onnx, relative
    exec(compile(script, "docs/deploy.md python block", "exec"), {})
    texts = re.search(r"texts = (\[.*?\])", script).group(1)
    predictions = load_run(sentiment_run).predict(eval(texts))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[p.text, p.label] for p in predictions]
    assert [float(line.split()[2]) for line in lines] == pytest.approx([p.probability for p in predictions], abs=1e-5)


def test_the_dynamo_exporter_is_refused_not_given_zeros():
    pytest.importorskip("onnxscript")  # torch's dynamo exporter needs it
    from lstmkit.export import exportable

    with pytest.raises(Exception, match=r"dynamo=False"):  # torch wraps the ExportError in its own
        torch.onnx.export(exportable(lstmkit.LSTM(3, 4)), (torch.randn(5, 2, 3),), dynamo=True)
