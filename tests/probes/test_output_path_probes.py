"""Output paths that cannot be written: each is refused before any work, as one line ``error: ...``
naming the option and the path, exit code 2, nothing new written and nothing clobbered (issue 15).

A case is ``(task, args, words)``: ``RUN`` stands for the session's tiny run of ``task`` (None: no
run), ``FILE`` for an existing file, ``DIR`` for an existing folder, ``MISSING`` for a folder that
does not exist, all inside the test's folder.
"""

from __future__ import annotations

import os
import stat

import pytest
from cli_helpers import invoke
from probe import assert_refused, snapshot

TRAIN_TASKS = ("sentiment", "lm", "translate", "forecast", "tag")

CASES = [(task, ["train", task, "--out", "FILE"], ["--out", "FILE", "file"]) for task in TRAIN_TASKS]
CASES += [(task, ["train", task, "--out", "FILE/run"], ["FILE"]) for task in TRAIN_TASKS]
CASES += [
    ("forecast", ["forecast", "RUN", "--csv", "DIR"], ["--csv", "DIR", "folder"]),
    ("forecast", ["forecast", "RUN", "--csv", "MISSING/f.csv"], ["--csv", "MISSING"]),
    ("forecast", ["forecast", "RUN", "--csv", "FILE/f.csv"], ["--csv", "FILE"]),
    ("forecast", ["forecast", "RUN", "--plot", "DIR"], ["--plot", "DIR", "folder"]),
    ("forecast", ["forecast", "RUN", "--plot", "MISSING/f.png"], ["--plot", "MISSING"]),
    ("forecast", ["forecast", "RUN", "--csv", "f.csv", "--plot", "DIR"], ["--plot", "DIR"]),
    ("translate", ["translate", "RUN", "the cat", "--heatmap", "DIR"], ["--heatmap", "DIR", "folder"]),
    ("translate", ["translate", "RUN", "the cat", "--heatmap", "MISSING/a.png"], ["--heatmap", "MISSING"]),
    ("sentiment", ["evaluate", "RUN", "--plot", "DIR"], ["--plot", "DIR", "folder"]),
    ("sentiment", ["evaluate", "RUN", "--plot", "MISSING/c.png"], ["--plot", "MISSING"]),
    ("forecast", ["evaluate", "RUN", "--plot", "DIR"], ["--plot", "DIR", "folder"]),
    ("forecast", ["evaluate", "RUN", "--plot", "MISSING/c.png"], ["--plot", "MISSING"]),
    ("tag", ["evaluate", "RUN", "--plot", "DIR"], ["--plot", "DIR", "folder"]),
    ("tag", ["evaluate", "RUN", "--plot", "MISSING/c.png"], ["--plot", "MISSING"]),
    ("sentiment", ["inspect", "RUN", "很好", "--out", "FILE"], ["--out", "FILE", "file"]),
    ("sentiment", ["inspect", "RUN", "很好", "--out", "FILE/inspect"], ["--out", "FILE"]),
    (None, ["diagnose", "gradients", "--out", "FILE"], ["--out", "FILE", "file"]),
    (None, ["diagnose", "gradients", "--out", "FILE/d"], ["--out", "FILE"]),
    (None, ["diagnose", "memory", "--out", "FILE"], ["--out", "FILE", "file"]),
    ("lm", ["export", "RUN", "--out", "DIR"], ["--out", "DIR", "folder"]),
    ("translate", ["export", "RUN", "--out", "DIR"], ["--out", "DIR", "folder"]),
    ("lm", ["export", "RUN", "--out", "MISSING/lm.onnx"], ["--out", "MISSING"]),
    ("lm", ["export", "RUN", "--out", "FILE"], ["--out", "FILE", "exists", "--force"]),
    ("tag", ["export", "RUN", "--out", "FILE"], ["--out", "FILE", "exists", "--force"]),
]


def _place(tmp_path, arg: str) -> str:
    for word in ("FILE", "DIR", "MISSING"):
        arg = arg.replace(word, str(tmp_path / word.lower()))
    return arg


@pytest.mark.parametrize("task, args, words", CASES, ids=[f"{t}:{' '.join(a)}" for t, a, _ in CASES])
def test_an_output_path_that_cannot_be_written_is_refused(task, args, words, valid_data, run_of, tmp_path,
                                                          monkeypatch, request):  # fmt: skip
    run = run_of(task) if task and "RUN" in args else None
    request.getfixturevalue("no_training")
    (tmp_path / "file").write_text("keep me\n", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    data = valid_data[task] if args[0] == "train" else []
    result = invoke(*[run if a == "RUN" else _place(tmp_path, a) for a in args], *data)
    assert_refused(result, *(_place(tmp_path, w) for w in words), root=tmp_path, before=before)
    assert (tmp_path / "file").read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.parametrize("task", TRAIN_TASKS)
def test_train_into_a_read_only_folder_is_refused(task, valid_data, tmp_path, no_training):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user (root) can write into a read-only folder")
        before = snapshot(tmp_path)
        result = invoke("train", task, *valid_data[task], "--out", folder / "run")
        assert_refused(result, str(folder), root=tmp_path, before=before)
    finally:
        folder.chmod(stat.S_IRWXU)
