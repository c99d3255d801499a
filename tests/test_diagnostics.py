"""Diagnostics: the memory tasks' generators, gradient profiles, gate recorders, the HTML report, the CLI."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from cli_helpers import invoke, run_cli

import lstmkit
from lstmkit import functional as LF
from lstmkit.diagnostics import gradients as G
from lstmkit.diagnostics import memory as M
from lstmkit.diagnostics import memory_tasks as MT
from lstmkit.diagnostics.recorder import most_active_units, record_layer, record_text
from lstmkit.diagnostics.report import html_report, inspect_run
from lstmkit.errors import DataError, RunDirectoryError
from lstmkit.tasks import sentiment


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _assert_one_line_error(out, pattern):
    """``out``: a finished subprocess or a typer ``CliRunner`` result."""
    code = getattr(out, "returncode", getattr(out, "exit_code", None))
    assert code == 2, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:") and pattern in out.stderr.replace("\n", " "), out.stderr
    assert "Traceback" not in out.stderr


# -- data generators ----------------------------------------------------------------------------------


def test_adding_batch_marks_one_value_in_each_half_and_sums_them():
    inputs, targets = M.adding_batch(40, 500, _gen())
    assert inputs.shape == (40, 500, 2) and targets.shape == (500,)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert (markers.sum(0) == 1 + 1).all()
    assert (markers[:20].sum(0) == 1).all() and (markers[20:].sum(0) == 1).all()
    torch.testing.assert_close(targets, (values * markers).sum(0))
    # The baseline the docs quote: always predicting 1 has MSE Var(U + U) = 1/6.
    _, many = M.adding_batch(10, 20000, _gen(1))
    assert float(((many - 1) ** 2).mean()) == pytest.approx(1 / 6, abs=0.01)
    assert M.TASKS["adding"].baseline == pytest.approx(0.1667, abs=1e-4)


def test_generators_are_pure_functions_of_their_generator():
    for task in M.TASKS.values():
        a, b = task.make_batch(12, 8, _gen(3)), task.make_batch(12, 8, _gen(3))
        assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
        c = task.make_batch(12, 8, _gen(4))
        assert not torch.equal(a.inputs, c.inputs)


def test_copy_batch_repeats_the_symbols_after_the_go_marker():
    length, k = 15, MT.COPY_SYMBOLS
    inputs, targets = M.copy_batch(length, 6, _gen())
    steps = length + 2 * k
    assert inputs.shape == (steps, 6, MT.COPY_ALPHABET + 2) and targets.shape == (steps, 6)
    tokens = inputs.argmax(-1)
    assert ((tokens[:k] >= 1) & (tokens[:k] <= MT.COPY_ALPHABET)).all()
    go = k + length - 1
    assert (tokens[go] == MT.COPY_ALPHABET + 1).all()
    assert (tokens[k:go] == 0).all() and (tokens[go + 1 :] == 0).all()
    assert torch.equal(targets[-k:], tokens[:k]) and (targets[:-k] == 0).all()


def test_recall_batch_states_the_class_once_at_the_start():
    inputs, targets = M.recall_batch(30, 200, _gen())
    tokens = inputs.argmax(-1)
    assert torch.equal(tokens[0], targets)
    assert (tokens[1:] >= MT.RECALL_CLASSES).all()
    assert set(targets.tolist()) == set(range(MT.RECALL_CLASSES))


@pytest.mark.parametrize("make", [M.adding_batch, M.copy_batch, M.recall_batch])
def test_generators_reject_bad_lengths(make):
    with pytest.raises(ValueError, match="length"):
        make(0, 4, _gen())


def test_recall_is_learned_at_a_short_length_and_the_result_is_scored_against_the_baseline():
    torch.set_num_threads(1)
    config = M.MemoryConfig(hidden_size=16, steps=300, batch_size=32, lr=1e-2, eval_every=50, test_size=200)
    result = M.train_memory("recall", "lstm", 5, config)
    assert result.success and result.error < 0.05 < result.baseline
    assert result.steps < 300  # stopped early once the validation error met the criterion
    assert result.curve and result.curve[-1][1] < 0.05


def test_memory_config_rejects_bad_values():
    with pytest.raises(ValueError, match="steps"):
        M.MemoryConfig(steps=0)
    with pytest.raises(ValueError, match="cells"):
        M.memory_study("adding", ["lstm", "transformer"], [10])


# -- gradient profiles --------------------------------------------------------------------------------


def test_decay_lag():
    assert G.decay_lag([1.0, 1e-3, 1e-7, 1e-9]) == 2
    assert G.decay_lag([2.0, 1.0, 0.5]) is None
    with pytest.raises(ValueError):
        G.decay_lag([0.0, 1.0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradient_profile_matches_autograd_through_the_layer(cell):
    """The step-by-step unroll from lstmkit.functional gives the gradients of the layer itself."""
    torch.manual_seed(0)
    model = M.MemoryModel(cell, 2, 8, 1, lstm_init="chrono", max_steps=12).double()
    inputs, targets = M.adding_batch(12, 5, _gen())
    profile = G.gradient_profile(model, inputs, targets)
    x = inputs.double().requires_grad_(True)
    loss = ((model(x)[-1].squeeze(-1) - targets.double()) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, x)
    expected = [float(g.norm(dim=1).mean()) for g in grad.flip(0)]
    np.testing.assert_allclose(profile.inputs, expected, rtol=1e-10)
    assert len(profile.hidden) == 12 and (len(profile.cell_state) == 12) == (cell == "lstm")


def test_lstm_gradients_decay_slower_than_rnn_at_initialisation_and_scaled_rnn_explodes():
    torch.set_num_threads(1)
    config = G.GradientConfig(length=120, hidden_size=32, batch_size=8, train_steps=0)
    profiles = {p.cell: p for p in G.gradient_study(["rnn", "lstm"], config)}
    rnn, lstm = G.decay_lag(profiles["rnn"].inputs), G.decay_lag(profiles["lstm"].inputs)
    assert rnn is not None and (lstm is None or lstm > 2 * rnn)
    result = G.exploding_demo("rnn", 3.0, config, steps=30, length=30, lr=0.05, clip_norms=(0.0, 1.0))
    assert max(result.profile.relative()) > 1e3
    unclipped, clipped = result.runs
    assert max(clipped.loss) < 10 < max(unclipped.loss)


# -- recorders ----------------------------------------------------------------------------------------


def _recompute_lstm(layer, x, suffix, reverse):
    """Gates of one direction by looping lstm_cell_gates over ``x (T, I)``, the equations themselves."""
    w = [getattr(layer, f"{n}{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h = x.new_zeros(1, layer.hidden_size)
    c = x.new_zeros(1, layer.hidden_size)
    steps = list(range(x.shape[0]))[::-1] if reverse else range(x.shape[0])
    records = {name: [None] * x.shape[0] for name in ("input", "forget", "cell", "output", "cell_state", "hidden")}
    for t in steps:
        s = LF.lstm_cell_gates(x[t : t + 1], (h, c), *w)
        h, c = s.h, s.c
        for name, value in zip(records, (s.i, s.f, s.g, s.o, s.c, s.h)):
            records[name][t] = value[0]
    return {name: torch.stack(values) for name, values in records.items()}


def test_recorded_lstm_gates_equal_a_recomputation_from_the_equations():
    torch.manual_seed(0)
    layer = lstmkit.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True, forget_bias=1.0).double()
    x = torch.randn(1, 9, 5, dtype=torch.double)
    trace = record_layer(layer, x)
    assert set(trace) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    for suffix, reverse in (("_l0", False), ("_l0_reverse", True)):
        expected = _recompute_lstm(layer, x[0], suffix, reverse)
        for name, value in expected.items():
            torch.testing.assert_close(trace[suffix[1:]][name][0], value, msg=f"{suffix} {name}")
    assert layer.training  # the recorder restores the mode it found


def test_recorded_gru_gates_equal_a_recomputation_from_the_equations():
    torch.manual_seed(1)
    layer = lstmkit.GRU(4, 3).double()
    x = torch.randn(7, 1, 4, dtype=torch.double)
    trace = record_layer(layer, x)["l0"]
    w = [getattr(layer, f"{n}_l0") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h = x.new_zeros(1, 3)
    for t in range(7):
        s = LF.gru_cell_gates(x[t], h, *w)
        h = s.h
        for name, value in zip(("reset", "update", "new", "hidden"), s):
            torch.testing.assert_close(trace[name][t], value)


def test_most_active_units_ranks_by_variation_over_the_tokens():
    state = np.zeros((4, 5))
    state[:, 3] = [0, 1, 0, 1]
    state[:, 1] = [0, 0.5, 0, 0.5]
    assert most_active_units({"cell_state": state, "hidden": np.zeros((4, 5))}, 2) == [3, 1]
    with pytest.raises(ValueError):
        most_active_units({"hidden": state}, 0)


# -- inspect a trained text model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory):
    """A tiny sentiment run on synthetic Chinese reviews (keywords decide the label)."""
    import random

    from lstmkit.train import TrainConfig

    root = tmp_path_factory.mktemp("inspect")
    rng = random.Random(0)
    rows = ["text,label"]
    for i in range(120):
        label = "positive" if i % 2 else "negative"
        word = rng.choice(["很好", "喜欢"] if i % 2 else ["太差", "失望"])
        rows.append("".join(rng.choices(list("这个东西手机质量服务"), k=rng.randint(2, 6))) + word + f",{label}")
    (root / "reviews.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    train = TrainConfig(epochs=1, batch_size=16, lr=0.01, patience=None, progress=False)
    config = sentiment.SentimentConfig(
        data=str(root / "reviews.csv"),
        train=train,
        embedding_dim=8,
        hidden_size=8,
        baselines=False,
        min_freq=1,
        ngram_buckets=0,
    )
    sentiment.train(config, root / "run")
    return root / "run"


def test_record_text_follows_the_runs_tokenizer_and_encoder(sentiment_run):
    model = sentiment.load(sentiment_run)
    recording = record_text(model, "这个手机很好")
    assert recording.tokens == list("这个手机很好")  # Chinese: one token per character
    assert set(recording.layers) == {"l0", "l0_reverse"}
    assert recording.layers["l0"]["forget"].shape == (6, 8)
    assert recording.label == model.predict(["这个手机很好"])[0].label
    # The recorded forward cell state is the encoder's own output path: h = o * tanh(c).
    l0 = recording.layers["l0"]
    np.testing.assert_allclose(l0["hidden"], l0["output"] * np.tanh(l0["cell_state"]), atol=1e-6)
    with pytest.raises(DataError, match="empty"):
        record_text(model, "   ")


def test_html_report_is_self_contained(sentiment_run):
    recording = record_text(sentiment.load(sentiment_run), "服务太差，失望 </script>")
    page = html_report(recording, units=4)
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.count("</script>") == 2  # the text's own "</script>" was escaped inside the data
    data = page.split('id="recording">', 1)[1].split("</script>", 1)[0]
    payload = json.loads(data)
    assert payload["tokens"] == recording.tokens
    assert len(payload["units"]["l0"]) == 4
    assert payload["layers"]["l0"]["forget"][0][0] == pytest.approx(recording.layers["l0"]["forget"][0, 0], abs=1e-5)
    legend = page.split('<div class="legend">', 1)[1].split('<div id="heatmaps">', 1)[0]
    assert "gates (input, forget, output, reset, update)" in legend and "&minus;max" in legend and "+max" in legend


def test_inspect_rejects_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(RunDirectoryError):
        inspect_run(tmp_path, "很好")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (.ci/run installs it)")
def test_inspect_html_renders_in_headless_chromium_without_errors(sentiment_run, tmp_path):
    page = inspect_run(sentiment_run, "这个手机很好，喜欢", tmp_path / "out", units=6)["html"]
    screenshot = tmp_path / "shot.png"
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1000,800",
        f"--screenshot={screenshot}",
        page.resolve().as_uri(),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert screenshot.is_file(), out.stderr
    # Chromium logs every console message (errors, uncaught exceptions) as ":CONSOLE"; the page logs none.
    console = [line for line in out.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    from PIL import Image

    pixels = np.asarray(Image.open(screenshot).convert("L"), dtype=float)
    assert pixels.std() > 5  # not a blank page: heat maps were drawn
    assert (pixels < 200).mean() > 0.02


# -- command line -------------------------------------------------------------------------------------


def test_cli_diagnose_gradients_writes_figures_and_the_table(tmp_path):
    out = invoke(
        "diagnose", "gradients", "--sequence-length", 40, "--hidden-size", 8, "--batch-size", 4, "--updates", 3,
        "--sgd-updates", 5, "--out", tmp_path,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "lag at which" in out.stdout and "lstm" in out.stdout
    summary = json.loads((tmp_path / "gradients.json").read_text(encoding="utf-8"))
    assert {(r["cell"], r["stage"]) for r in summary["rows"]} == {
        (c, s) for c in ("rnn", "lstm", "gru") for s in ("init", "trained")
    }
    for name in ("gradients.png", "exploding.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_diagnose_memory_writes_results_and_a_plot(tmp_path):
    out = invoke(
        "diagnose", "memory", "--task", "recall", "--lengths", "5,8", "--cells", "lstm",
        "--hidden-size", 8, "--updates", 20, "--out", tmp_path,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    saved = json.loads((tmp_path / "memory_recall.json").read_text(encoding="utf-8"))
    assert [(r["cell"], r["length"]) for r in saved["results"]] == [("lstm", 5), ("lstm", 8)]
    assert saved["criterion"].startswith("test error rate < 0.05")
    assert (tmp_path / "memory_recall.png").is_file()


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["diagnose", "memory", "--task", "sorting"], "--task must be one of"),
        (["diagnose", "memory", "--cells", "lstm,transformer"], "--cells"),
        (["diagnose", "memory", "--lengths", "10,x"], "--lengths"),
        (["diagnose", "memory", "--updates", "0"], "--updates must be a positive int"),
        (["diagnose", "gradients", "--sequence-length", "1"], "--sequence-length must be an int of at least 2"),
        (["diagnose", "gradients", "--batch-size", "0"], "--batch-size must"),
        (["inspect", ".", "很好"], "config.json"),
    ],
)
def test_cli_bad_options_give_one_line_errors(args, pattern, tmp_path):
    _assert_one_line_error(invoke(*args, "--out", tmp_path), pattern)


def test_cli_inspect_writes_html_and_heatmaps(sentiment_run, tmp_path):
    out = run_cli("inspect", sentiment_run, "质量很好，喜欢", "--out", tmp_path, "--units", 4)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "inspect.html").is_file()
    assert (tmp_path / "gates_l0.png").is_file() and (tmp_path / "gates_l0_reverse.png").is_file()
    assert "html:" in out.stdout


def test_chrono_initialisation_spreads_forget_biases_up_to_the_length():
    from lstmkit.init import chrono_

    layer = lstmkit.LSTM(2, 500)
    chrono_(layer, 100, generator=_gen())
    hidden = 500
    forget = layer.bias_ih_l0.detach()[hidden : 2 * hidden]
    assert float(forget.min()) >= 0 and float(forget.max()) <= np.log(99) + 1e-6
    assert float(forget.max()) > np.log(80)  # spread over the whole range
    torch.testing.assert_close(layer.bias_ih_l0.detach()[:hidden], -forget)
    assert float(layer.bias_hh_l0.detach()[: 2 * hidden].abs().max()) == 0
    with pytest.raises(ValueError, match="LSTM"):
        chrono_(lstmkit.GRU(2, 4), 100)
