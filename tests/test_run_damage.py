"""Damaged run directories, through the command line: every damage is one line ``error: ...``, exit
code 2, no traceback, and nothing written into the run.

One tiny finished run per task is trained once per session; each case copies it, damages the copy
(a field of ``config.json`` of the wrong type or out of range, a JSON list, a missing section, a
damaged vocabulary, weights or checkpoint) and runs the command a user would (``generate``,
``predict``, ``translate``, ``forecast``, ``evaluate``, ``train --resume``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import accelerator_available, invoke

TASKS = ("lm", "sentiment", "translate", "forecast")


@pytest.fixture(scope="module")
def runs(request) -> dict[str, Path]:
    """One finished run per task (the suite's tiny runs, tests/conftest.py): the cases copy it before
    damaging it."""
    return {task: request.getfixturevalue(f"{task}_run") for task in TASKS}


# The command that loads each task's run, as a user would.
USE = {
    "lm": lambda run: ["generate", run, "--prime", "the", "--chars", "3"],
    "sentiment": lambda run: ["predict", run, "good"],
    "translate": lambda run: ["translate", run, "i love tea"],
    "forecast": lambda run: ["forecast", run],
}


# -- damages: each changes a copied run in place -----------------------------------------------------


def _edit_config(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
        replaced = change(saved)
        (run / "config.json").write_text(json.dumps(saved if replaced is None else replaced), encoding="utf-8")

    return damage


def _model_field(name: str, value) -> Callable[[Path], None]:
    """Set ``name`` wherever the ``model`` section has it (an encoder's or the model's own)."""

    def change(saved: dict) -> None:
        sections = [saved["model"], *(v for v in saved["model"].values() if isinstance(v, dict))]
        if not any(name in section for section in sections):
            pytest.skip(f"this task's model has no {name}")
        for section in sections:
            if name in section:
                section[name] = value
                if name == "hidden_size" and "embedding_dim" in section and isinstance(value, int):
                    section["embedding_dim"] = value  # tied LM weights: sized alike, so only the size is wrong

    return _edit_config(change)


def _drop(key: str) -> Callable[[Path], None]:
    def change(saved: dict) -> None:
        del saved[key]

    return _edit_config(change)


def _set(key: str, value) -> Callable[[Path], None]:
    return _edit_config(lambda saved: saved.__setitem__(key, value))


def _config_field(path: str, value) -> Callable[[Path], None]:
    def change(saved: dict) -> None:
        *parents, last = path.split(".")
        section = saved["config"]
        for parent in parents:
            section = section[parent]
        section[last] = value

    return _edit_config(change)


def _write(name: str, content: bytes | str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (run / name).write_bytes(data)

    return damage


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: len(data) // 2])

    return damage


def _remove(name: str) -> Callable[[Path], None]:
    return lambda run: (run / name).unlink()


def _side_file(run: Path) -> str:
    return "scalers.json" if (run / "scalers.json").is_file() else "vocab.json"


def _side(damage_of_name: Callable[[str], Callable[[Path], None]]) -> Callable[[Path], None]:
    """A damage of the run's vocabulary (``scalers.json`` for a forecast run)."""
    return lambda run: damage_of_name(_side_file(run))(run)


def _nan_weights(run: Path) -> None:
    from safetensors.torch import load_file, save_file

    weights = load_file(str(run / "model.safetensors"))
    name = next(iter(weights))
    weights[name].view(-1)[0] = float("nan")
    save_file(weights, str(run / "model.safetensors"))


# (case id, damage, the words the one-line error must hold)
CONFIG_DAMAGE = [
    ("format_version_string", _set("format_version", "1"), "format_version must be an int >= 0, got '1'"),
    ("format_version_null", _set("format_version", None), "format_version must be an int >= 0, got None"),
    ("format_version_bool", _set("format_version", True), "format_version must be an int >= 0, got True"),
    ("format_version_newer", _set("format_version", 99), "newer than this lstmkit reads"),
    ("task_missing", _drop("task"), "task: expected a task name"),
    ("task_number", _set("task", 3), "task: expected a task name"),
    ("config_missing", _drop("config"), "config: expected an object of settings, got nothing"),
    ("model_missing", _drop("model"), "model: expected an object of settings, got nothing"),
    ("model_a_list", _set("model", [1, 2]), "model: expected an object of settings, got [1, 2]"),
    ("config_a_string", _set("config", "big"), "config: expected an object of settings, got 'big'"),
    ("whole_file_a_list", _edit_config(lambda saved: [saved]), "expected a JSON object, got a list"),
    ("not_json", _write("config.json", '{"task": "lm", '), "is not valid UTF-8 JSON"),
    ("not_utf8", _write("config.json", b"\xff\xfe{}"), "is not valid UTF-8 JSON"),
    ("empty_file", _write("config.json", ""), "is not valid UTF-8 JSON"),
    ("config_removed", _remove("config.json"), "missing file"),
    ("hidden_size_string", _model_field("hidden_size", "big"), "hidden_size: expected int, got 'big'"),
    ("hidden_size_float", _model_field("hidden_size", 8.5), "hidden_size: expected int, got 8.5"),
    ("num_layers_bool", _model_field("num_layers", True), "num_layers: expected int, got True"),
    ("num_layers_float", _model_field("num_layers", 1.0), "num_layers: expected int, got 1.0"),
    ("hidden_size_negative", _model_field("hidden_size", -8), "got -8"),
    ("hidden_size_zero", _model_field("hidden_size", 0), "got 0"),
    ("hidden_size_absurd", _model_field("hidden_size", 10**12), "config.json"),
    ("hidden_size_huge", _model_field("hidden_size", 10**6), "the model expects"),
    ("hidden_size_other", _model_field("hidden_size", 12), "the model expects"),
    ("dropout_string", _model_field("dropout", "lots"), "dropout: expected float, got 'lots'"),
    ("dropout_out_of_range", _model_field("dropout", 2.0), "dropout"),
    ("model_unknown_field", _edit_config(lambda saved: saved["model"].update(gates=5)), "gates: "),
    ("cell_unknown", _model_field("cell", "lstmx"), "lstmx"),
    ("train_epochs_float", _config_field("train.epochs", 2.5), "train.epochs: expected int, got 2.5"),
    ("train_a_string", _config_field("train", "fast"), "train: expected TrainConfig, got 'fast'"),
    ("train_lr_negative", _config_field("train.lr", -1), "lr must be a positive number"),
    ("config_hidden_size_bool", _config_field("hidden_size", False), "hidden_size: expected int, got False"),
    ("config_dropout_too_big", _config_field("dropout", 3.0), "dropout"),
]

FILE_DAMAGE = [
    ("vocab_a_list", _side(lambda name: _write(name, "[1, 2]")), ".json"),
    ("vocab_not_json", _side(_truncate), "is not valid UTF-8 JSON"),
    ("vocab_removed", _side(_remove), "missing file"),
    ("vocab_empty_object", _side(lambda name: _write(name, "{}")), ".json"),
    ("weights_truncated", _truncate("model.safetensors"), "model.safetensors"),
    ("weights_random_bytes", _write("model.safetensors", os.urandom(256)), "model.safetensors"),
    ("weights_empty", _write("model.safetensors", b""), "model.safetensors"),
    ("weights_removed", _remove("model.safetensors"), "has no model.safetensors: training did not finish"),
    ("weights_nan", _nan_weights, "hold NaN or infinite values"),
]


def _snapshot(run: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(run)): (p.stat().st_size, p.stat().st_mtime_ns) for p in run.rglob("*")}


def _assert_refused(result, words: str, run: Path, before: dict) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr[-2000:], result.exception)
    assert "Traceback" not in result.output + result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert words in lines[0], (words, lines[0])
    assert _snapshot(run) == before, "the command changed the run directory"


def _damaged_copy(runs: dict[str, Path], task: str, damage, tmp_path: Path) -> tuple[Path, dict]:
    run = tmp_path / "run"
    shutil.copytree(runs[task], run)
    damage(run)
    return run, _snapshot(run)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(("damage", "words"), [case[1:] for case in CONFIG_DAMAGE + FILE_DAMAGE],
                         ids=[case[0] for case in CONFIG_DAMAGE + FILE_DAMAGE])  # fmt: skip
def test_a_damaged_run_is_one_line_error_and_left_untouched(runs, task, damage, words, tmp_path):
    run, before = _damaged_copy(runs, task, damage, tmp_path)
    started = time.perf_counter()
    _assert_refused(invoke(*USE[task](run)), words, run, before)
    assert time.perf_counter() - started < 10  # refused before any absurd size is allocated


@pytest.mark.parametrize("task", TASKS)
def test_evaluate_refuses_the_same_damage(runs, task, tmp_path):
    run, before = _damaged_copy(runs, task, _model_field("hidden_size", "big"), tmp_path)
    _assert_refused(invoke("evaluate", run), "hidden_size: expected int, got 'big'", run, before)


@pytest.mark.parametrize(
    ("damage", "words"),
    [(_write("metrics.json", "[]"), "metrics.json"), (_truncate("metrics.json"), "metrics.json is not valid")],
    ids=["metrics_a_list", "metrics_not_json"],
)
def test_a_damaged_metrics_file_is_refused_where_it_is_read(runs, damage, words, tmp_path):
    run, before = _damaged_copy(runs, "lm", damage, tmp_path)  # evaluate reads the LM's baselines from it
    _assert_refused(invoke("evaluate", run), words, run, before)


def test_a_run_without_format_version_still_loads(runs, tmp_path):
    """Runs older than the field have none: a missing ``format_version`` is version 0, not damage."""
    run, _ = _damaged_copy(runs, "lm", _drop("format_version"), tmp_path)
    assert invoke(*USE["lm"](run)).exit_code == 0


# -- train --resume from a damaged run ---------------------------------------------------------------

RESUME = {
    "lm": ["train", "lm"],
    "sentiment": ["train", "sentiment"],
    "translate": ["train", "translate"],
    "forecast": ["train", "forecast"],
}


def _copy_checkpoint_of(other: str, runs: dict[str, Path]) -> Callable[[Path], None]:
    return lambda run: shutil.copy(runs[other] / "checkpoints" / "last.ckpt", run / "checkpoints" / "last.ckpt")


RESUME_DAMAGE = [
    ("checkpoint_truncated", _truncate("checkpoints/last.ckpt"), "cannot resume from"),
    ("checkpoint_random_bytes", _write("checkpoints/last.ckpt", os.urandom(512)), "cannot resume from"),
    ("checkpoint_empty", _write("checkpoints/last.ckpt", b""), "cannot resume from"),
    (
        "checkpoint_a_tensor_file",
        lambda run: shutil.copy(run / "model.safetensors", run / "checkpoints" / "last.ckpt"),
        "cannot resume from",
    ),  # fmt: skip
    ("checkpoint_removed", _remove("checkpoints/last.ckpt"), "nothing to resume"),
    ("config_a_list", _edit_config(lambda saved: [saved]), "expected a JSON object"),
    ("config_epochs_string", _config_field("train.epochs", "many"), "train.epochs: expected int"),
    ("config_hidden_size_absurd", _config_field("hidden_size", 10**12), "config.json"),
    *[
        (f"saved_accelerator_{name}", _config_field("train.accelerator", name), "--accelerator")
        for name in ("gpu", "tpu")
        if not accelerator_available(name)
    ],  # a run started on a machine with an accelerator this one lacks
]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(("damage", "words"), [case[1:] for case in RESUME_DAMAGE], ids=[c[0] for c in RESUME_DAMAGE])
def test_resume_from_a_damaged_run_is_one_line_error(runs, task, damage, words, tmp_path):
    run, before = _damaged_copy(runs, task, damage, tmp_path)
    started = time.perf_counter()
    _assert_refused(invoke(*RESUME[task], "--out", run, "--resume"), words, run, before)
    assert time.perf_counter() - started < 20


@pytest.mark.parametrize(("task", "other"), [("lm", "sentiment"), ("translate", "lm"), ("forecast", "translate")])
def test_resume_from_another_tasks_checkpoint_is_refused(runs, task, other, tmp_path):
    run, before = _damaged_copy(runs, task, _copy_checkpoint_of(other, runs), tmp_path)
    _assert_refused(invoke(*RESUME[task], "--out", run, "--resume"), "does not match the model", run, before)
