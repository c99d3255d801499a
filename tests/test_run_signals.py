"""Runs under crashes and races, through the real command line: two writers on one ``--out``, a
``--force`` retrain killed half-way, and ``--resume`` after SIGKILL at several points of a run.

Each test starts ``lstmkit train lm`` processes on a small text (a few seconds of training each); the
runs that need no signal run in this process, to spare the interpreter start-ups.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from cli_helpers import invoke, start_cli


def _text(tmp_path: Path, repeats: int) -> Path:
    path = tmp_path / "text.txt"
    path.write_text("and it was so. " * repeats, encoding="utf-8")
    return path


def _train_args(text: Path, run: Path, hidden: int, epochs: int) -> list:
    return [
        "train", "lm", "--data", text, "--out", run, "--epochs", epochs, "--hidden-size", hidden,
        "--embedding-dim", hidden, "--sequence-length", "32", "--max-chars", "0", "--no-progress", "--patience", "0",
    ]  # fmt: skip


def _wait_for(path: Path, process, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)


def _hidden_sizes(run: Path) -> tuple[int, int]:
    """The hidden size ``config.json`` states, and the one its weights have (read from the file)."""
    from lstmkit.io import weight_shapes

    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    weights = weight_shapes(run / "model.safetensors")
    return saved["model"]["encoder"]["hidden_size"], weights["encoder.rnn.weight_hh_l0"][1]


def test_two_concurrent_writers_on_one_out_one_wins_the_other_is_refused(tmp_path):
    """The second writer runs in this process (no second interpreter start: the test stays short),
    started while the first, a separate process, is writing the run."""
    import lstmkit.cli
    import lstmkit.tasks.lm  # noqa: F401 (imported now, so that the second writer reaches the lock at once)

    text, run = _text(tmp_path, 3000), tmp_path / "run"
    first = start_cli(*_train_args(text, run, 8, 2))
    _wait_for(tmp_path / ".run.partial", first)  # the first writer holds the lock from before this appears
    second = invoke(*_train_args(text, run, 12, 1))
    refused = second.stderr.strip().splitlines()
    assert second.exit_code == 2 and len(refused) == 1, second.stderr
    assert refused[0].startswith("error: another process is writing") and "choose another --out" in refused[0]
    assert first.wait(timeout=600) == 0, first.communicate()[1][-2000:]
    assert _hidden_sizes(run) == (8, 8)  # the finished run is the first writer's, whole
    assert invoke("generate", run, "--prime", "and", "--chars", "5").exit_code == 0


def test_a_force_retrain_killed_half_way_leaves_the_old_run_whole_and_served(tmp_path):
    text, run = _text(tmp_path, 500), tmp_path / "run"
    assert invoke(*_train_args(text, run, 8, 1)).exit_code == 0
    old = {name: (run / name).read_bytes() for name in ("config.json", "vocab.json", "model.safetensors")}
    retrain = start_cli(*_train_args(text, run, 12, 50), "--force")
    _wait_for(tmp_path / ".run.partial" / "config.json", retrain)  # the new run's files are being written
    _kill(retrain)
    assert {name: (run / name).read_bytes() for name in old} == old
    assert _hidden_sizes(run) == (8, 8)
    served = invoke("generate", run, "--prime", "and", "--chars", "5", "--seed", "0")
    assert served.exit_code == 0 and served.stdout.startswith("and")


def test_sigkill_then_resume_at_each_point_of_a_run(tmp_path):
    text, run = _text(tmp_path, 4000), tmp_path / "run"
    args = _train_args(text, run, 8, 2)
    partial = tmp_path / ".run.partial"
    checkpoint = partial / "checkpoints" / "last.ckpt"

    # Before anything was written: nothing to resume, said in one line.
    nothing = invoke(*args, "--resume")
    assert nothing.exit_code == 2 and nothing.stderr.strip().startswith("error: nothing to resume at")

    # After the run wrote its config, before its first checkpoint: resume says to start over.
    process = start_cli(*args)
    _wait_for(partial / "config.json", process)
    _kill(process)
    if not checkpoint.exists():  # (on a very fast machine the first epoch may already have ended)
        early = invoke(*args, "--resume")
        lines = early.stderr.strip().splitlines()
        assert early.exit_code == 2 and len(lines) == 1, early.stderr
        assert lines[0].startswith("error: nothing to resume: no epoch had finished") and "--force" in lines[0]

    # After the first checkpoint: resume continues from it, and no temporary file is left behind.
    process = start_cli(*args, "--force")
    _wait_for(checkpoint, process)
    _kill(process)
    assert not run.exists()
    resumed = invoke(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    assert not partial.exists() and not list(run.rglob("*.tmp"))
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    history = (run / "history.csv").read_text(encoding="utf-8").strip().splitlines()
    assert metrics["epochs"] == 2 and len(history) == 1 + 2  # a header, then one row per epoch
    assert _hidden_sizes(run) == (8, 8)
