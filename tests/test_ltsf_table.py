"""benchmarks/ltsf_table.py end to end on a small synthetic CSV: one CSV row per run, resumed, and its table."""

import importlib.util
import pathlib
import sys

import numpy as np
import pandas as pd
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("ltsf_table", ROOT / "benchmarks" / "ltsf_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_runs_every_model_once_and_resumes(tmp_path, monkeypatch):
    steps = np.arange(1100)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=len(steps), freq="h").astype(str),
            "load": np.sin(2 * np.pi * steps / 24),
            "OT": np.cos(2 * np.pi * steps / 24) + steps / 1000,
        }
    )
    frame.to_csv(tmp_path / "toy.csv", index=False)
    table = _load_benchmark()
    argv = ["ltsf_table.py", "--data", str(tmp_path / "toy.csv"), "--horizons", "24", "--epochs", "1", "--hidden-size",
            "8", "--csv", str(tmp_path / "runs.csv"), "--markdown", str(tmp_path / "table.md")]  # fmt: skip
    threads = torch.get_num_threads()
    try:
        monkeypatch.setattr(sys, "argv", argv)
        table.main()
        rows = table.read_rows(tmp_path / "runs.csv")
        assert sorted(row["model"] for row in rows) == sorted(table.MODELS)
        assert all(int(row["horizon"]) == 24 and float(row["mse"]) >= 0 for row in rows)
        table.main()  # every run is in the CSV already: nothing runs again
        assert len(table.read_rows(tmp_path / "runs.csv")) == len(rows)
    finally:
        torch.set_num_threads(threads)  # the benchmark pins one thread for the whole process
    markdown = (tmp_path / "table.md").read_text(encoding="utf-8")
    assert "| toy | M | 96 | 24 | segment_gru | epochs=1 " in markdown and "| SegRNN | 0.278 / 0.335 |" in markdown
