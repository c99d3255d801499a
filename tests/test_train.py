"""The training engine on a tiny task: checkpoints, history, seeding, resume, NaN, kill, DDP."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import matplotlib
import pytest
import torch

from lstmkit.errors import RunDirectoryError, TrainingError
from lstmkit.train import TrainConfig, evaluate_model, fit, last_checkpoint
from lstmkit.train.optim import exponential_decay, make_optimizer, slanted_triangular, warmup_cosine

sys.path.insert(0, str(Path(__file__).parent))
from toy_training import SumSign, SumSignObjective, loaders  # noqa: E402

SCRIPT = Path(__file__).parent / "toy_training.py"


def _fit(run_dir, epochs=3, seed=0, resume=False, objective=None, **overrides):
    torch.manual_seed(seed)
    model = SumSign()
    train, val = loaders()
    config = TrainConfig(epochs=epochs, lr=0.02, patience=None, progress=False, seed=seed, **overrides)
    result = fit(model, objective or SumSignObjective(), train, val, config, run_dir, resume=resume)
    return model, result


def test_fit_learns_and_writes_checkpoints_history_and_curves(tmp_path):
    model, result = _fit(tmp_path, epochs=4)
    assert (tmp_path / "checkpoints" / "best.ckpt").is_file()
    assert last_checkpoint(tmp_path).is_file()
    assert (tmp_path / "history.csv").read_text().count("\n") == 5  # header + 4 epochs
    assert (tmp_path / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.epochs == 4
    _, val = loaders()
    metrics = evaluate_model(model, SumSignObjective(), val)
    assert metrics["accuracy"] == pytest.approx(result.best_score)  # the model holds the best epoch
    assert metrics["accuracy"] > 0.8
    assert not list(tmp_path.rglob("*.tmp"))


def test_every_epoch_leaves_a_line_in_the_log_and_on_stderr_without_a_progress_bar(tmp_path, capsys):
    _fit(tmp_path, epochs=3)
    lines = (tmp_path / "train.log").read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("train_loss" in line and "val_accuracy" in line and line.endswith(" s") for line in lines)
    assert capsys.readouterr().err.count("epoch ") == 3  # progress=False: the lines go to stderr too
    logged = list((tmp_path / "logs").rglob("metrics.csv"))
    assert len(logged) == 1 and "val_accuracy" in logged[0].read_text(encoding="utf-8").splitlines()[0]


def test_seeded_runs_are_reproducible(tmp_path):
    a, _ = _fit(tmp_path / "a", epochs=2, seed=3)
    b, _ = _fit(tmp_path / "b", epochs=2, seed=3)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def _weights(checkpoint: Path) -> dict:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    return {name.removeprefix("model."): tensor for name, tensor in state.items()}


@pytest.mark.parametrize("restore", ["best", "last"])
def test_the_run_ends_with_the_weights_restore_names(tmp_path, restore):
    # monitor the loss upwards, so that the "best" epoch is the first (worst) one and differs from the last.
    model, result = _fit(tmp_path, epochs=4, restore=restore, monitor="loss", monitor_mode="max")
    best, last = _weights(result.best_checkpoint), _weights(result.last_checkpoint)
    assert any(not torch.equal(best[name], last[name]) for name in best)
    assert torch.load(result.last_checkpoint, weights_only=True)["epoch"] == 3  # the last epoch, not the best
    kept = best if restore == "best" else last
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, kept[name]), name


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    _fit(tmp_path, epochs=2)
    _, result = _fit(tmp_path, epochs=4, resume=True)
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]


def test_resume_continues_from_the_last_epoch_even_when_it_did_not_validate_best(tmp_path):
    _, first = _fit(tmp_path, epochs=2, monitor="loss", monitor_mode="max")  # epoch 1 stays the best
    _, result = _fit(tmp_path, epochs=3, resume=True, monitor="loss", monitor_mode="max")
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.history[:2] == first.history  # epoch 2 was not trained again


def _process_state() -> tuple:
    loggers = {
        name: logging.getLogger(name).level for name in ("", "lightning", "lightning.pytorch", "lightning.fabric")
    }
    # dict.items reads the stored values: RcParams' own lookup of "backend" would resolve (and so change) it.
    settings = {key: value for key, value in dict.items(matplotlib.rcParams) if key != "backend"}
    return loggers, list(warnings.filters), settings, matplotlib.rcParams._get_backend_or_none()


def test_fit_is_quiet_yet_leaves_logger_levels_warning_filters_and_matplotlib_as_they_were(tmp_path, capfd):
    lightning_logger = logging.getLogger("lightning.pytorch")
    previous = lightning_logger.level
    lightning_logger.setLevel(logging.INFO)  # as a user who wants Lightning's messages elsewhere
    try:
        before = _process_state()
        _fit(tmp_path, epochs=1)  # draws learning_curves.png too
        assert _process_state() == before
    finally:
        lightning_logger.setLevel(previous)
    assert "GPU available" not in capfd.readouterr().err  # Lightning's start-up lines stay silent during fit


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(RunDirectoryError, match="no checkpoint"):
        _fit(tmp_path, resume=True)


def test_non_finite_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path):
    steps_per_epoch = len(loaders()[0])
    with pytest.raises(TrainingError, match="loss became nan"):
        _fit(tmp_path, epochs=5, objective=SumSignObjective(nan_after_steps=2 * steps_per_epoch + 3))
    state = torch.load(last_checkpoint(tmp_path), map_location="cpu", weights_only=False)
    assert state["epoch"] == 1  # epochs 0 and 1 finished; the NaN came in epoch 2
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values())


def test_warmup_cosine_schedule_shape():
    values = [warmup_cosine(step, 100, 0.1) for step in range(100)]
    assert values[0] == pytest.approx(0.1) and values[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(values[10:], values[11:]))
    assert values[-1] < 0.01


def test_exponential_decay_is_flat_within_an_epoch_and_falls_by_the_factor_between_epochs():
    values = [exponential_decay(step, 10, 0.8) for step in range(30)]
    assert values[:10] == [1.0] * 10 and values[10:20] == [pytest.approx(0.8)] * 10
    assert values[29] == pytest.approx(0.64)


def test_the_exponential_schedule_multiplies_the_rate_by_lr_decay_after_each_epoch(tmp_path):
    _, result = _fit(tmp_path, epochs=2, schedule="exponential", lr_decay=0.5)
    rates = [row["lr"] for row in result.history]  # each read at its epoch's end, after the epoch's last step
    assert rates == [pytest.approx(0.02 * 0.5**epoch) for epoch in (1, 2)]


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_steps_are_fused_on_the_cpu_and_equal_the_per_tensor_steps(name):
    torch.manual_seed(0)
    weights = [torch.randn(7, 3), torch.randn(5)]
    fused_params = [w.clone().requires_grad_() for w in weights]
    plain_params = [w.clone().requires_grad_() for w in weights]
    config = TrainConfig(optimizer=name, lr=0.1, weight_decay=0.1)
    groups = [{"params": fused_params[:1], "lr": 0.05}, {"params": fused_params[1:]}]
    fused = make_optimizer(groups, config)
    plain_class = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    plain = plain_class([{"params": plain_params[:1], "lr": 0.05}, {"params": plain_params[1:]}], lr=0.1,
                        weight_decay=0.1, foreach=False)  # fmt: skip
    assert all(group["fused"] for group in fused.param_groups)
    for _ in range(3):
        grads = [torch.randn_like(w) for w in weights]
        for params, optimizer in ((fused_params, fused), (plain_params, plain)):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
    for a, b, start in zip(fused_params, plain_params, weights):
        assert not torch.equal(a, start)
        torch.testing.assert_close(a, b)


def test_slanted_triangular_schedule_shape():
    # Howard & Ruder's shape: from 1/32 up to 1 over the first 10 % of the steps, then down to 1/32.
    values = [slanted_triangular(step, 200) for step in range(201)]
    assert values[0] == pytest.approx(1 / 32) and values[20] == pytest.approx(1.0) and max(values) == values[20]
    assert all(a < b for a, b in zip(values[:20], values[1:21]))
    assert all(a > b for a, b in zip(values[20:-1], values[21:]))
    assert values[-1] == pytest.approx(1 / 32)
    assert values[110] == pytest.approx((1 + 0.5 * 31) / 32)  # halfway down


def test_gradual_unfreezing_hook_trains_one_more_level_from_the_top_each_epoch(tmp_path):
    from torch.utils.data import DataLoader

    from lstmkit.heads import ClassifierConfig, EncoderConfig, SequenceClassifier, gradual_unfreezing
    from lstmkit.train.objectives import ClassificationObjective

    torch.manual_seed(0)
    encoder = EncoderConfig(vocab_size=12, embedding_dim=4, hidden_size=4, num_layers=2, bidirectional=False)
    model = SequenceClassifier(ClassifierConfig(encoder, num_classes=2, pooling="mean"))
    tokens = torch.randint(1, 12, (32, 5))
    batches = [{"tokens": t, "lengths": torch.full((8,), 5), "labels": t[:, 0] % 2} for t in tokens.split(8)]
    snapshots = []

    def hook(model, epoch):
        snapshots.append({name: p.detach().clone() for name, p in model.named_parameters()})
        gradual_unfreezing(model, epoch)

    config = TrainConfig(epochs=5, lr=0.05, weight_decay=0.1, patience=None, progress=False, schedule="none")
    loader = DataLoader(batches, batch_size=None)
    fit(model, ClassificationObjective(2), loader, loader, config, tmp_path, epoch_start=hook)

    def level(name):  # "output.weight" -> "head", "encoder.rnn.weight_hh_l1" -> "rnn_l1", ...
        return "head" if name.startswith("output") else "rnn_" + name[-2:] if ".rnn." in name else "embedding"

    def trained_in(epoch):
        before, after = snapshots[epoch], snapshots[epoch + 1]
        return {level(name) for name in before if not torch.equal(before[name], after[name])}

    assert trained_in(0) == {"head"}
    assert trained_in(1) == {"head", "rnn_l1"}
    assert trained_in(2) == {"head", "rnn_l1", "rnn_l0"}
    assert trained_in(3) == {"head", "rnn_l1", "rnn_l0", "embedding"}


def test_a_killed_run_leaves_no_partial_file_and_resumes(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(SCRIPT), str(tmp_path), "--epochs", "6", "--sleep", "0.02"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not last_checkpoint(tmp_path).is_file() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # kill somewhere in a later epoch, possibly while a checkpoint is being written
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "result.json").exists()
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".tmp"]
    for leftover in leftovers:  # a temp file may remain from the instant of the kill, never a target name
        assert leftover.name.startswith(".")
    torch.load(last_checkpoint(tmp_path), map_location="cpu", weights_only=False)  # complete and loadable
    finished = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert [row["epoch"] for row in result["history"]] == [1, 2, 3, 4, 5, 6]


def test_two_process_ddp_on_cpu(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--devices", "2", "--epochs", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["epochs"] == 2
    assert 0.5 < result["best_score"] <= 1.0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": float("nan")}, "lr must be a positive number, got nan"),
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"weight_decay": -0.1}, "weight_decay must be a number >= 0"),
        ({"clip_norm": -1.0}, "clip_norm must be a positive number"),
        ({"clip_norm": float("inf")}, "clip_norm must be a positive number"),
        ({"patience": 0}, "patience must be at least 1"),
        ({"momentum": 1.5}, "momentum must be in"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"lr_decay": 0.0}, r"lr_decay must be a factor in \(0, 1\] \(applied after each epoch\), got 0.0"),
        ({"lr_decay": 1.5}, "lr_decay must be a factor in"),
        ({"restore": "final"}, r"restore must be one of \('best', 'last'\), got 'final'"),
    ],
)
def test_train_config_refuses_values_that_cannot_train(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**overrides)
