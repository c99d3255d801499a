"""One option vocabulary: every train command takes the shared options, with its config's defaults."""

import dataclasses

import pytest
import typer.main

from lstmkit.cli import app
from lstmkit.tasks.registry import TASK_NAMES, task_named
from lstmkit.tasks.runner import Task

# Options every `lstmkit train <task>` command has, under these names.
TRAIN_OPTIONS = {
    "out", "epochs", "batch_size", "optimizer", "lr", "weight_decay", "schedule", "lr_decay", "clip_norm", "patience",
    "seed", "devices", "num_nodes", "accelerator", "progress", "resume", "force", "as_json",
}  # fmt: skip


def _command(*path: str):
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def _converted_tasks() -> list[str]:
    return [name for name in TASK_NAMES if isinstance(task_named(name), Task)]


@pytest.mark.parametrize("name", _converted_tasks())
def test_train_command_has_the_shared_options(name):
    params = {p.name for p in _command("train", name).params}
    assert TRAIN_OPTIONS <= params, f"train {name} lacks {sorted(TRAIN_OPTIONS - params)}"


@pytest.mark.parametrize("name", _converted_tasks())
def test_every_train_option_defaults_to_the_task_config(name):
    config = task_named(name).config_class()
    # a field declared None (its default filled in from others, e.g. the forecast protocol's) is None on the
    # command line too, which then passes only the options given
    declared = {f.name: f.default for f in dataclasses.fields(config) if f.default is not dataclasses.MISSING}
    fields = {f.name for f in dataclasses.fields(config)} - {"train"}
    train_fields = {f.name for f in dataclasses.fields(config.train)}
    checked = 0
    for param in _command("train", name).params:
        if param.name in fields:
            expected = declared.get(param.name, getattr(config, param.name))
        elif param.name in train_fields:
            expected = getattr(config.train, param.name)
        else:
            continue
        # 0 on the command line stands for an optional limit turned off (None in the config).
        assert param.default == expected or (expected is None and param.default == 0), (
            f"train {name} --{param.name.replace('_', '-')}: command line {param.default!r}, config {expected!r}"
        )
        checked += 1
    assert checked >= len(TRAIN_OPTIONS - {"out", "resume", "force", "as_json"})


def test_no_command_uses_a_retired_option_name():
    # Each concept has one name: --hidden-size (not --hidden), --out is a directory everywhere.
    retired = {"hidden", "length", "train_steps", "step"}
    found = []
    commands = [("train", name) for name in _converted_tasks()]
    commands += [("diagnose", name) for name in _command("diagnose").commands]
    for path in commands:
        found += [f"{' '.join(path)} --{p.name}" for p in _command(*path).params if p.name in retired]
    found += [f"{name} --{p.name}" for name in ("generate",) for p in _command(name).params if p.name in retired]
    assert not found, found


@pytest.mark.parametrize("name", _converted_tasks())
@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "nan"], "--lr must be a positive number, got nan"),
        (["--clip-norm", "-1"], "--clip-norm must be a positive number"),
        (["--optimizer", "adamx"], "--optimizer must be one of"),
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--weight-decay", "-0.5"], "--weight-decay must be a number >= 0"),
    ],
)
def test_a_bad_training_option_is_one_line_naming_it_and_nothing_is_written(name, args, message, tmp_path):
    from cli_helpers import invoke

    result = invoke("train", name, "--out", tmp_path / "run", *args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["sentiment", "--cell", "lstmx"], "--cell must be one of ('lstm', 'gru', 'rnn'), got 'lstmx'"),
        (["sentiment", "--dropout", "2"], "--dropout must be a probability in [0, 1), got 2.0"),
        (["sentiment", "--max-length", "0"], "--max-length must be a positive int, got 0"),
        (["sentiment", "--language", "fr"], "--language must be one of"),
        (["sentiment", "--pooling", "foo"], "--pooling must be one of"),
        (["sentiment", "--tokenizer", "xx"], "--tokenizer must be one of"),
        (["sentiment", "--label-smoothing", "1.5"], "--label-smoothing must be a probability"),
        (["sentiment", "--accelerator", "tpu9"], "--accelerator must be one of"),
        (["sentiment", "--weight-drop", "1"], "--weight-drop must be a probability in [0, 1), got 1.0"),
        (["sentiment", "--input-dropout", "1"], "--input-dropout must be a probability in [0, 1), got 1.0"),
        (["sentiment", "--dropout-kind", "gal"], "--dropout-kind must be one of ('standard', 'locked'), got 'gal'"),
        (
            ["sentiment", "--adversarial", "-1"],
            "--adversarial must be a finite perturbation norm >= 0 (0: off), got -1.0",
        ),
        (["lm", "--sequence-length", "1"], "--sequence-length must be at least 2, got 1"),
        (["lm", "--weight-drop", "-0.1"], "--weight-drop must be a probability in [0, 1), got -0.1"),
        (["lm", "--dropout-kind", "per-step"], "--dropout-kind must be one of"),
        (["lm", "--hidden-size", "64", "--tie-weights"], "--tie-weights needs embedding_dim == hidden_size"),
        (["translate", "--attention", "foo"], "attention"),
        (["forecast", "--horizon", "0"], "horizon"),
        (["forecast", "--quantiles", "0.1,2"], "quantiles"),
    ],
)
def test_a_bad_task_option_is_one_line_and_nothing_is_written(args, message, tmp_path):
    from cli_helpers import invoke

    result = invoke("train", *args, "--out", tmp_path / "run")
    assert result.exit_code == 2, (result.output, result.exception)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []
