"""Export (lstmkit.export): every exported file is run, an ONNX file in onnxruntime and a torch.export
program loaded with ``torch.export.load``, and compared with PyTorch on batches wider and longer than
the example it was traced on (batch 3, time 5)."""

from __future__ import annotations

import functools
from importlib.util import find_spec
from pathlib import Path

import pytest
import torch
from cli_helpers import invoke

import lstmkit
from lstmkit.export import ExportError, export_layer, require_onnx
from lstmkit.export.tasks import export_run, metadata_path
from lstmkit.heads.crf import crf_viterbi
from lstmkit.heads.pooling import mask_from_lengths
from lstmkit.io import read_json
from lstmkit.tasks.runner import load_run

TOLERANCE = 1e-5
LENGTHS = [9, 1, 5, 7]  # a batch mixing lengths, unsorted
needs_onnx = pytest.mark.skipif(
    find_spec("onnx") is None or find_spec("onnxruntime") is None, reason="needs pip install 'lstmkit[export]'"
)
FORMATS = [pytest.param("onnx", marks=needs_onnx), "torch-export"]
SUFFIX = {"onnx": ".onnx", "torch-export": ".pt2"}


@functools.cache
def _loaded(path: str, modified: int):
    """An onnxruntime session or a loaded program, once per file version (loops call it every step)."""
    if path.endswith(".pt2"):
        return torch.export.load(path).module()
    import onnxruntime

    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def run_file(path, feeds: dict) -> list:
    """The outputs of an exported file on ``feeds`` (input name -> tensor, in the file's input order)."""
    loaded = _loaded(str(path), Path(path).stat().st_mtime_ns)
    if str(path).endswith(".pt2"):
        with torch.no_grad():
            results = loaded(*feeds.values())
        return list(results) if isinstance(results, tuple | list) else [results]
    return [torch.from_numpy(a) for a in loaded.run(None, {k: v.numpy() for k, v in feeds.items()})]


def max_difference(got: list, want: list) -> float:
    return max(float((a - b.detach()).abs().max()) for a, b in zip(got, want, strict=True))


def check_layer_on_mixed_lengths(layer, path: Path, fmt: str) -> None:
    """``layer`` exported to ``path`` in ``fmt`` answers as the layer does on LENGTHS, padding filled with garbage."""
    path = export_layer(layer, path, fmt=fmt)
    # Longer and wider than the example the exporter traced (T=5, B=3): both axes must be dynamic.
    steps, batch, batch_first, dtype = max(LENGTHS), len(LENGTHS), layer.batch_first, layer.weight_ih_l0.dtype
    x = torch.randn((batch, steps, layer.input_size) if batch_first else (steps, batch, layer.input_size), dtype=dtype)
    x_padded = x.clone()
    lengths = torch.tensor(LENGTHS)
    for b, n in enumerate(LENGTHS):  # garbage in the padding must change nothing
        (x_padded[b, n:] if batch_first else x_padded[n:, b]).fill_(1e3)
    states = tuple(torch.randn(shape, dtype=dtype) for shape in layer._state_shapes(batch))
    with torch.no_grad():
        output, final = layer(x, layer.cell_kind.as_hx(states), lengths=lengths)
    want = [output, *layer.cell_kind.as_states(final)]
    names = ["h0", "c0"][: len(states)]
    got = run_file(path, {"input": x_padded, "lengths": lengths, **dict(zip(names, states))})
    assert max_difference(got, want) < TOLERANCE
    assert got[0].abs().max() > 0.01  # a real output, not zeros that happen to match padding


@needs_onnx
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_layer_matches_pytorch_on_mixed_lengths(tmp_path, cell, bidirectional, num_layers):
    torch.manual_seed(num_layers)
    batch_first = num_layers == 2  # both layouts, without doubling the cases
    layer = getattr(lstmkit, cell)(3, 4, num_layers, bidirectional=bidirectional, batch_first=batch_first).eval()
    check_layer_on_mixed_lengths(layer, tmp_path / "layer.onnx", "onnx")


@pytest.mark.parametrize(
    "make",
    [
        # Options ONNX refuses among them: the program runs the reference path, which has them all.
        lambda: lstmkit.LSTM(3, 6, bidirectional=True, proj_size=2, layer_norm=True, zoneout=0.2),
        lambda: lstmkit.GRU(3, 4, 2, bidirectional=True, batch_first=True, reset_after=False, dtype=torch.float64),
    ],
    ids=["lstm-bidirectional-proj-layer-norm-zoneout", "gru-two-layers-batch-first-reset-before-float64"],
)
def test_layer_program_matches_pytorch_on_mixed_lengths(tmp_path, make):
    torch.manual_seed(0)
    check_layer_on_mixed_lengths(make().eval(), tmp_path / "layer.pt2", "torch-export")


@needs_onnx
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
    got = run_file(path, {"input": x, "lengths": lengths, **names})
    assert max_difference(got, [output, *layer.cell_kind.as_states(final)]) < TOLERANCE


@needs_onnx
def test_layer_without_lengths_and_initial_state(tmp_path):
    torch.manual_seed(0)
    layer = lstmkit.LSTM(3, 4, 2, bidirectional=True).eval()
    path = export_layer(layer, tmp_path / "layer.onnx", lengths=False)
    x = torch.randn(6, 5, 3)
    output, (h_n, c_n) = layer(x)
    zeros = torch.zeros(4, 5, 4)
    assert max_difference(run_file(path, {"input": x, "h0": zeros, "c0": zeros}), [output, h_n, c_n]) < TOLERANCE


@needs_onnx
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


@pytest.mark.parametrize("fmt", FORMATS)
def test_sentiment_run_matches_predict_proba(tmp_path, sentiment_run, fmt):
    exported = export_run(sentiment_run, tmp_path / f"sentiment{SUFFIX[fmt]}", fmt=fmt)
    run = load_run(sentiment_run)
    feeds = _sentiment_feeds(run, TEXTS, read_json(exported.metadata)["preprocessing"]["padding_id"])
    (probabilities,) = run_file(exported.path, feeds)
    want = torch.from_numpy(run.predict_proba(TEXTS))
    assert len(set(feeds["lengths"].tolist())) > 2
    assert float((probabilities.double() - want).abs().max()) < TOLERANCE
    metadata = read_json(exported.metadata)
    assert metadata["format"] == fmt and exported.path.suffix == SUFFIX[fmt]
    # The default Chinese run reads each character's lexicon class (hownet) beside it.
    assert metadata["labels"] == run.labels and [i["name"] for i in metadata["inputs"]] == [
        "tokens",
        "lengths",
        "lexicon",
    ]
    assert metadata["preprocessing"]["vocabulary"] == list(run.text_encoder.vocab.tokens)


def _sentiment_feeds(run, texts: list[str], pad: int) -> dict[str, torch.Tensor]:
    """The exported sentiment file's inputs for ``texts``, made by ``run``'s own encoder (tokens, lengths and
    each per-step input it reads), right-padded with ``pad``."""
    inputs = run.text_encoder.inputs(texts)
    feeds = {
        name: torch.tensor([row + [pad] * (max(map(len, rows)) - len(row)) for row in rows])
        for name, rows in inputs.items()
    }
    return {"tokens": feeds.pop("tokens"), "lengths": torch.tensor([len(r) for r in inputs["tokens"]]), **feeds}


def _exported_step_input(run_dir, tmp_path, name: str, fmt: str):
    """A sentiment run that reads the per-step input ``name``, exported: the file, the loaded run, the JSON's
    preprocessing, and :data:`TEXTS` as the run's tokens and as token ids made from the JSON."""
    exported = export_run(run_dir, tmp_path / f"{name}{SUFFIX[fmt]}", fmt=fmt)
    run, metadata = load_run(run_dir), read_json(exported.metadata)
    assert [i["name"] for i in metadata["inputs"]] == ["tokens", "lengths", name]
    preprocessing = metadata["preprocessing"]
    vocab, chars = preprocessing["vocabulary"], [run.text_encoder.tokens(text) for text in TEXTS]
    ids = [[vocab.index(c) if c in vocab else preprocessing["unknown_token_id"] for c in row] for row in chars]
    return exported, run, preprocessing, chars, ids


def _check_step_input(path, run, pad: int, ids, name: str, step_ids, neutral: int) -> None:
    """The exported sentiment file fed ``ids`` and the per-step input ``name`` (``step_ids``, made by the
    caller from the JSON) gives ``run``'s probabilities of :data:`TEXTS`; with every step's id set to
    ``neutral`` (unknown bigram, no lexicon word) it gives others: the input is read."""

    def padded(rows):
        return torch.tensor([row + [pad] * (max(map(len, rows)) - len(row)) for row in rows])

    feeds = {"tokens": padded(ids), "lengths": torch.tensor([len(r) for r in ids]), name: padded(step_ids)}
    (probabilities,) = run_file(path, feeds)
    want = torch.from_numpy(run.predict_proba(TEXTS))
    assert float((probabilities.double() - want).abs().max()) < TOLERANCE
    feeds[name] = torch.where(feeds[name] == pad, pad, neutral)
    (without,) = run_file(path, feeds)
    assert float((without.double() - want).abs().max()) > 1e-4


@pytest.mark.parametrize("fmt", FORMATS)
def test_sentiment_run_with_bigrams_takes_bigram_ids_and_matches_predict_proba(tmp_path, bigram_sentiment_run, fmt):
    from lstmkit.data.bigrams import bigrams_of

    exported, run, preprocessing, chars, ids = _exported_step_input(bigram_sentiment_run, tmp_path, "bigrams", fmt)
    assert preprocessing["bigrams"]["vocabulary"] == list(run.text_encoder.bigram_vocab.tokens)
    # The caller's side, from the JSON alone: characters, then each with the next (the end marker last).
    bigram_vocab, pad = preprocessing["bigrams"]["vocabulary"], preprocessing["padding_id"]
    unknown = preprocessing["bigrams"]["unknown_token_id"]
    bigrams = [[bigram_vocab.index(b) if b in bigram_vocab else unknown for b in bigrams_of(row)] for row in chars]
    assert bigrams_of(["a", "b"])[-1] == "b" + preprocessing["bigrams"]["end_marker"]

    _check_step_input(exported.path, run, pad, ids, "bigrams", bigrams, neutral=unknown)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sentiment_run_with_a_lexicon_takes_class_ids_made_from_its_json(tmp_path, lexicon_sentiment_run, fmt):
    from lstmkit.data.lexicons import OUTSIDE
    from lstmkit.data.tokenize import load_jieba

    exported, run, preprocessing, chars, ids = _exported_step_input(lexicon_sentiment_run, tmp_path, "lexicon", fmt)
    # The caller's side, from the JSON alone: jieba's words, each character taking its word's class.
    words, classes = preprocessing["lexicon"]["words"], preprocessing["lexicon"]["vocabulary"]
    pad = preprocessing["padding_id"]
    steps = [
        [classes.index(words.get(word, OUTSIDE)) for word in load_jieba().lcut("".join(row)) for _ in word]
        for row in chars
    ]
    assert any(classes[i] != OUTSIDE for row in steps for i in row)  # the texts hold lexicon words

    _check_step_input(exported.path, run, pad, ids, "lexicon", steps, neutral=classes.index(OUTSIDE))


@pytest.mark.parametrize("fmt", FORMATS)
def test_lm_run_steps_reproduce_greedy_generate(tmp_path, lm_run, fmt):
    exported = export_run(lm_run, tmp_path / f"lm{SUFFIX[fmt]}", fmt=fmt)
    run = load_run(lm_run)
    metadata = read_json(exported.metadata)
    vocab, banned = metadata["preprocessing"]["vocabulary"], metadata["preprocessing"]["never_sample_ids"]
    prime = "the lord"
    states = {i["name"]: torch.zeros([1 if d == "batch" else d for d in i["shape"]]) for i in metadata["inputs"][1:]}
    tokens = torch.tensor([[vocab.index(ch) for ch in prime]])
    text = prime
    for _ in range(12):  # the prime at once, then one character per step, the state fed back
        logits, *new_states = run_file(exported.path, {"tokens": tokens, **states})
        states = dict(zip(states, new_states))
        scores = logits[0, -1].clone()
        scores[banned] = float("-inf")
        token = int(scores.argmax())
        text += vocab[token]
        tokens = torch.tensor([[token]])
    assert text == run.generate(prime, temperature=0, chars=12)


@needs_onnx
def test_export_refuses_existing_file_and_unknown_format(tmp_path, lm_run):
    out = tmp_path / "lm.onnx"
    out.write_text("keep me")
    with pytest.raises(ExportError, match="--out .*exists.*--force"):
        export_run(lm_run, out)
    assert out.read_text() == "keep me" and not metadata_path(out).exists()
    with pytest.raises(ExportError, match="--format must be one of onnx, torch-export, got 'tflite'"):
        export_run(lm_run, out, fmt="tflite")
    assert export_run(lm_run, out, force=True).path.stat().st_size > 1000


@needs_onnx
def test_cli_exports_a_run_and_says_what_it_wrote(tmp_path, sentiment_run):
    out = tmp_path / "model.onnx"
    result = invoke("export", str(sentiment_run), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and out.exists() and metadata_path(out).exists()
    again = invoke("export", str(sentiment_run), "--out", str(out))
    assert again.exit_code == 2 and again.output.count("\n") == 1 and "--force" in again.output


@pytest.mark.parametrize("fmt", FORMATS)
def test_fused_sentiment_run_says_what_it_leaves_to_the_caller(tmp_path, fused_sentiment_run, fmt):
    exported = export_run(fused_sentiment_run, tmp_path / f"fused{SUFFIX[fmt]}", fmt=fmt)
    run = load_run(fused_sentiment_run)
    fusion = read_json(exported.metadata)["fusion"]
    assert fusion["recurrent_weight"] == run.fusion.recurrent_weight and "linear" in fusion["left_to_caller"]
    assert any("fusion" in note for note in exported.notes)
    (probabilities,) = run_file(exported.path, _sentiment_feeds(run, TEXTS[:1], run.text_encoder.vocab.pad_index))
    assert float((probabilities.double() - torch.from_numpy(run.recurrent_proba(TEXTS[:1]))).abs().max()) < TOLERANCE


@pytest.mark.parametrize("fmt", FORMATS)
def test_forecast_run_matches_predict_windows(tmp_path, forecast_run, fmt):
    import numpy as np

    from lstmkit.tasks.forecast.data import make_features
    from lstmkit.tasks.forecast.dataset import series_pairs, window_arrays

    exported = export_run(forecast_run, tmp_path / f"forecast{SUFFIX[fmt]}", fmt=fmt)
    run = load_run(forecast_run)
    series = run.load_series()
    origins = np.array([len(series) - 20, len(series) - 9, len(series) - 7, len(series) - 6])  # not 3 (traced)
    pairs = series_pairs(series.targets.shape[1], origins)
    arrays = window_arrays(make_features(series, run.layout, run.scalers), pairs[:, 0], pairs[:, 1], run.layout, 1)
    feeds = {k: torch.from_numpy(np.ascontiguousarray(arrays[k])) for k in ("past", "future", "base")}
    (forecast,) = run_file(exported.path, {**feeds, "series": torch.from_numpy(pairs[:, 0])})
    want = torch.from_numpy(run.predict_windows(series, origins)).reshape(forecast.shape)
    assert float(((forecast.double() - want).abs() / want.abs().clamp(min=1)).max()) < TOLERANCE
    assert [i["name"] for i in read_json(exported.metadata)["inputs"]] == ["past", "future", "base", "series"]


def _ltsf_windows(run, ends: list[int]):
    """``(len(ends), L, C)``: the run's columns over the ``L`` rows before each of ``ends``, original scale."""
    import numpy as np

    from lstmkit.tasks.forecast.ltsf_run import ltsf_columns

    values, _ = ltsf_columns(run.load_series(), run.config.features)
    return np.stack([values[end - run.ltsf["lookback"] : end] for end in ends]).astype(np.float32)


def _check_ltsf_export(run_dir: Path, path: Path, fmt: str) -> None:
    """The exported file forecasts as the run's network in PyTorch (scaled in float64 around it) on 2 and
    5 windows (traced on 3), and its last window as ``forecast()`` does."""
    import numpy as np

    exported = export_run(run_dir, path, fmt=fmt)
    run = load_run(run_dir)
    length = len(run.load_series())
    for ends in ([length - 30, length], [length - 100, length - 50, length - 7, length - 1, length]):
        past = _ltsf_windows(run, ends)
        (forecast,) = run_file(exported.path, {"past": torch.from_numpy(past)})
        with torch.no_grad():
            scaled = run.model(torch.from_numpy(run.scaler.transform(past).astype(np.float32))).double().numpy()
        scaled = np.sort(scaled, axis=-1) if scaled.ndim == 4 else scaled
        quantiles_first = np.moveaxis(scaled, -1, 0) if scaled.ndim == 4 else scaled  # inverse maps the last axis
        want = run.scaler.inverse(quantiles_first)
        want = torch.from_numpy(np.moveaxis(want, 0, -1) if scaled.ndim == 4 else want)
        assert forecast.shape == want.shape == (len(ends), run.ltsf["horizon"], 2, *([3] if run.quantiles else []))
        assert float(((forecast.double() - want).abs() / want.abs().clamp(min=1)).max()) < TOLERANCE
    last = forecast[-1] if not run.quantiles else forecast[-1, ..., 1]  # (H, C), the median of 0.1, 0.5, 0.9
    key = "q0.5" if run.quantiles else "forecast"
    assert [row[key] for row in run.forecast()] == pytest.approx(last.T.flatten().tolist(), rel=TOLERANCE)
    metadata = read_json(exported.metadata)
    assert [i["name"] for i in metadata["inputs"]] == ["past"] and metadata["model"] == run.name


@pytest.mark.parametrize("fmt", FORMATS)
def test_ltsf_run_matches_its_network_and_its_forecast(tmp_path, ltsf_run, fmt):
    _check_ltsf_export(ltsf_run, tmp_path / f"ltsf{SUFFIX[fmt]}", fmt)


@needs_onnx
def test_ltsf_direct_quantile_run_matches_its_network(tmp_path, ltsf_direct_run):
    _check_ltsf_export(ltsf_direct_run, tmp_path / "ltsf-direct.onnx", "onnx")


@pytest.mark.parametrize("fmt", FORMATS)
def test_translate_run_greedy_steps_reproduce_translate(tmp_path, translate_run, fmt):
    exported = export_run(translate_run, tmp_path / f"translate{SUFFIX[fmt]}", fmt=fmt)
    run = load_run(translate_run)
    metadata = read_json(exported.metadata)
    encoder, step = exported.files
    texts = ["the cat eats fish", "the dog", "the big red dog sees the cat", "cat"]  # mixed lengths, not 3 (traced)
    ids = [run.source.encode(text) for text in texts]
    width = max(map(len, ids))
    source = torch.tensor([row + [0] * (width - len(row)) for row in ids])
    lengths = torch.tensor([len(row) for row in ids])
    given = dict(zip(metadata["encoder"]["outputs"], run_file(encoder, {"source": source, "lengths": lengths})))
    tokens = torch.full((len(texts),), metadata["preprocessing"]["target"]["bos_id"])
    eos, chosen = metadata["preprocessing"]["target"]["eos_id"], []
    with torch.no_grad():  # PyTorch's own steps beside, fed the same tokens
        encoded = run.model.encode(source, lengths)
        state = run.model.initial_state(encoded)
    for _ in range(min(run.config.max_pair_tokens + 10, 2 * width + 10)):
        inputs = {name: given[name] for name in metadata["decoder_step"]["inputs"][1:]}
        results = dict(zip(metadata["decoder_step"]["outputs"], run_file(step, {"tokens": tokens, **inputs})))
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


# 10, 1, 7 and 16 characters: a batch mixing lengths, wider and longer than the traced one (3 x 5)
TAG_TEXTS = ["我们喜欢中国的手机。", "好", "北京人民买了书", "图书馆很好。我们喜欢北京的人民。"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_tag_run_emissions_match_the_tagger_and_decode_to_its_tags(tmp_path, tag_bigrams_run, fmt):
    exported = export_run(tag_bigrams_run, tmp_path / f"tag{SUFFIX[fmt]}", fmt=fmt)
    tagger, metadata = load_run(tag_bigrams_run), read_json(exported.metadata)
    batch = tagger.inputs.batch([list(text) for text in TAG_TEXTS])
    lengths = batch["lengths"]
    real = mask_from_lengths(lengths, int(lengths.max()))
    names = [entry["name"] for entry in metadata["inputs"]]
    assert names == ["tokens", "lengths", "bigrams"]
    # Ids of real characters and bigrams in the padding, where the batch has the padding id: nothing may change.
    feeds = {name: lengths if name == "lengths" else batch[name].masked_fill(~real, 3) for name in names}
    (emissions,) = run_file(exported.path, feeds)
    with torch.no_grad():
        want = tagger.model(batch["tokens"], lengths, batch["bigrams"])
    assert max_difference([emissions[real]], [want[real]]) < TOLERANCE
    assert not emissions[~real].any()  # padded steps are zero
    decoder = metadata["decoder"]
    scores = [torch.tensor(decoder[name]) for name in ("transitions", "start", "end")]
    decoded = [[metadata["tag_names"][k] for k in path] for path in crf_viterbi(emissions, lengths, *scores)]
    expected = [result["tags"] for result in tagger.tag(TAG_TEXTS)]
    assert decoded == expected and len({tag for tags in expected for tag in tags}) > 1
    preprocessing = metadata["preprocessing"]
    assert preprocessing["vocabulary"] == list(tagger.inputs.vocab.tokens)
    assert preprocessing["bigrams"]["vocabulary"] == list(tagger.inputs.bigram_vocab.tokens)
    assert metadata["tag_names"] == tagger.tag_names and metadata["scheme"] == "bmes" and decoder["kind"] == "crf"
    assert any("decoder is exported as data" in note for note in exported.notes)


def dictionary_ids_from_json(text: str, dictionary: dict) -> list[int]:
    """A text's dictionary pattern ids made from the exported JSON's ``preprocessing.dictionary`` alone."""
    words, ids = set(dictionary["words"]), [0] * len(text)
    for k in range(2, dictionary["max_word_length"] + 1):
        start_bit, end_bit, inside_bit = 3 * (k - 2), 3 * (k - 2) + 1, 3 * (k - 2) + 2
        for s in (s for s in range(len(text) - k + 1) if text[s : s + k] in words):
            ids[s] |= 1 << start_bit
            ids[s + k - 1] |= 1 << end_bit
            for inside in range(s + 1, s + k - 1):
                ids[inside] |= 1 << inside_bit
    return [1 + bits for bits in ids]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_dictionary_run_takes_pattern_ids_made_from_its_json_alone(tmp_path, tag_dictionary_run, fmt):
    exported = export_run(tag_dictionary_run, tmp_path / f"tag{SUFFIX[fmt]}", fmt=fmt)
    tagger, metadata = load_run(tag_dictionary_run), read_json(exported.metadata)
    assert [entry["name"] for entry in metadata["inputs"]] == ["tokens", "lengths", "bigrams", "dictionary"]
    dictionary = metadata["preprocessing"]["dictionary"]
    assert dictionary["words"] == sorted(tagger.inputs.dictionary) and dictionary["padding_id"] == 0
    batch = tagger.inputs.batch([list(text) for text in TAG_TEXTS])
    lengths = batch["lengths"]
    ids = torch.full_like(batch["tokens"], dictionary["padding_id"])
    for row, text in enumerate(TAG_TEXTS):
        ids[row, : len(text)] = torch.tensor(dictionary_ids_from_json(text, dictionary))
    assert torch.equal(ids, batch["dictionary"]) and 1 < int(ids.max()) < dictionary["num_patterns"]  # words found
    feeds = {"tokens": batch["tokens"], "lengths": lengths, "bigrams": batch["bigrams"], "dictionary": ids}
    (emissions,) = run_file(exported.path, feeds)
    real = mask_from_lengths(lengths, int(lengths.max()))
    with torch.no_grad():
        want = tagger.model(batch["tokens"], lengths, batch["bigrams"], dictionary=ids)
    assert max_difference([emissions[real]], [want[real]]) < TOLERANCE
    scores = [torch.tensor(metadata["decoder"][name]) for name in ("transitions", "start", "end")]
    decoded = [[metadata["tag_names"][k] for k in path] for path in crf_viterbi(emissions, lengths, *scores)]
    assert decoded == [result["tags"] for result in tagger.tag(TAG_TEXTS)]
    (silent,) = run_file(exported.path, {**feeds, "dictionary": ids.masked_fill(real, dictionary["no_word_id"])})
    assert max_difference([silent[real]], [emissions[real]]) > 1e-3  # the file reads the ids


# Words of a character run: unseen ones among them, words longer than the traced 4 characters, 7, 2, 5, 9 words
CHAR_TEXTS = [
    "kanrness tivring boring loudly . ok fast",
    "quickly x",
    "a bb ccc dddd eeeee",
    "y " * 8 + "wonderfulness",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_word_run_with_a_char_encoder_exports_word_and_char_ids(tmp_path, tag_chars_run, fmt):
    exported = export_run(tag_chars_run, tmp_path / f"tag{SUFFIX[fmt]}", fmt=fmt)
    tagger, metadata = load_run(tag_chars_run), read_json(exported.metadata)
    batch = tagger.inputs.batch([text.split() for text in CHAR_TEXTS])
    lengths = batch["lengths"]
    assert [entry["name"] for entry in metadata["inputs"]] == ["tokens", "lengths", "chars"]
    assert batch["chars"].shape[2] > 5 and len(CHAR_TEXTS) > 3  # wider and longer than the traced example
    real = mask_from_lengths(lengths, int(lengths.max()))
    # Ids of real words and characters in the padded steps: nothing at a real step may change.
    feeds = {"tokens": batch["tokens"].masked_fill(~real, 3), "lengths": lengths,
             "chars": batch["chars"].masked_fill(~real.unsqueeze(2), 3)}  # fmt: skip
    (emissions,) = run_file(exported.path, feeds)
    with torch.no_grad():
        want = tagger.model(batch["tokens"], lengths, chars=batch["chars"])
    assert max_difference([emissions[real]], [want[real]]) < TOLERANCE
    decoder = metadata["decoder"]
    scores = [torch.tensor(decoder[name]) for name in ("transitions", "start", "end")]
    decoded = [[metadata["tag_names"][k] for k in path] for path in crf_viterbi(emissions, lengths, *scores)]
    assert decoded == [result["tags"] for result in tagger.tag(CHAR_TEXTS)]
    chars = metadata["preprocessing"]["chars"]
    assert chars["vocabulary"] == list(tagger.inputs.char_vocab.tokens) and chars["max_word_chars"] == 24
    assert metadata["model"] == "bilstm-crf+chars" and metadata["preprocessing"]["bigrams"] is None


@needs_onnx
def test_a_softmax_tag_run_exports_emissions_whose_argmax_are_its_tags(tmp_path, tag_softmax_run):
    exported = export_run(tag_softmax_run, tmp_path / "tag.onnx")
    tagger, metadata = load_run(tag_softmax_run), read_json(exported.metadata)
    assert metadata["decoder"]["kind"] == "softmax" and "transitions" not in metadata["decoder"]
    batch = tagger.inputs.batch([list(text) for text in TAG_TEXTS])
    (emissions,) = run_file(exported.path, {"tokens": batch["tokens"], "lengths": batch["lengths"]})
    decoded = [
        [metadata["tag_names"][k] for k in row[:n]] for row, n in zip(emissions.argmax(2).tolist(), batch["lengths"])
    ]
    assert decoded == [result["tags"] for result in tagger.tag(TAG_TEXTS)]


def deploy_docs_block(words: str) -> str:
    """The one python block of docs/deploy.md that holds ``words``."""
    import re

    docs = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text(encoding="utf-8")
    (block,) = [block for block in re.findall(r"```python\n(.*?)```", docs, flags=re.S) if words in block]
    return block


@needs_onnx
def test_deploy_docs_script_reproduces_predict(tmp_path, sentiment_run, capsys, monkeypatch):
    import re

    (tmp_path / "runs").mkdir()
    export_run(sentiment_run, tmp_path / "runs" / "sentiment.onnx")
    script = deploy_docs_block('"runs/sentiment.onnx"')
    monkeypatch.chdir(tmp_path)  # the script names runs/sentiment.onnx, relative
    exec(compile(script, "docs/deploy.md python block", "exec"), {})
    texts = re.search(r"texts = (\[.*?\])", script).group(1)
    predictions = load_run(sentiment_run).predict(eval(texts))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[p.text, p.label] for p in predictions]
    assert [float(line.split()[2]) for line in lines] == pytest.approx([p.probability for p in predictions], abs=1e-5)


@needs_onnx
@pytest.mark.parametrize("run_fixture", ["tag_bigrams_run", "tag_dictionary_run"])
def test_deploy_docs_viterbi_script_prints_what_lstmkit_tag_prints(tmp_path, run_fixture, request, capsys, monkeypatch):
    run_dir = request.getfixturevalue(run_fixture)
    (tmp_path / "runs").mkdir()
    export_run(run_dir, tmp_path / "runs" / "tag.onnx")
    monkeypatch.chdir(tmp_path)  # the script names runs/tag.onnx, relative
    namespace: dict = {}
    exec(compile(deploy_docs_block("runs/tag.onnx.json"), "docs/deploy.md Viterbi block", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    tagged = invoke("tag", run_dir, *namespace["texts"])
    assert tagged.exit_code == 0, tagged.output
    assert printed == tagged.output.splitlines()
    assert len({len(text) for text in namespace["texts"]}) > 2
    assert any(len(word) > 1 for line in printed for word in line.split())  # words, not only single characters


def searching_copy(run_dir: Path, folder: Path) -> Path:
    """A copy of the tiny translate run with its weights shaken (seeded) and EOS made likelier: the
    trained one says EOS at once, this one's beams end at EOS after 0 to 9 tokens or run to the step
    limit, so a search has choices to get wrong."""
    import shutil

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    copy = shutil.copytree(run_dir, folder / "run")
    with safe_open(run_dir / "model.safetensors", "pt") as saved:
        header = saved.metadata()
    generator = torch.Generator().manual_seed(0)
    weights = {
        k: v + 0.5 * torch.randn(v.shape, generator=generator) for k, v in load_file(copy / "model.safetensors").items()
    }
    weights["output.bias"][load_run(run_dir).target.vocab.eos_index] += 1.0
    save_file(weights, copy / "model.safetensors", metadata=header)
    return copy


@needs_onnx
def test_deploy_docs_beam_search_script_reproduces_translate(tmp_path, translate_run, capsys, monkeypatch):
    run_dir = searching_copy(translate_run, tmp_path)
    (tmp_path / "runs").mkdir()
    export_run(run_dir, tmp_path / "runs" / "translate.onnx")
    monkeypatch.chdir(tmp_path)  # the script names runs/translate.*.onnx, relative
    namespace: dict = {}
    exec(compile(deploy_docs_block("runs/translate.onnx.json"), "docs/deploy.md beam search block", "exec"), namespace)
    assert len(capsys.readouterr().out.splitlines()) == len(namespace["texts"])
    run, lengths = load_run(run_dir), set()
    for text in ["the cat eats fish", "the big red dog sees the cat", "dog"]:
        for beam in (1, 2, 3):
            want = run.translate(text, beam_size=beam)
            tokens, score = namespace["translate"](text, beam)
            assert tokens == want.target_tokens and score == pytest.approx(want.score, abs=1e-5), (text, beam)
            lengths.add(len(tokens))
    assert len(lengths) > 2  # searches that ended at EOS early, late, and at the step limit


@needs_onnx
def test_the_dynamo_exporter_is_refused_not_given_zeros():
    pytest.importorskip("onnxscript")  # torch's dynamo exporter needs it
    from lstmkit.export import exportable

    with pytest.raises(Exception, match=r"dynamo=False"):  # torch wraps the ExportError in its own
        torch.onnx.export(exportable(lstmkit.LSTM(3, 4)), (torch.randn(5, 2, 3),), dynamo=True)
