"""The scripts in examples/ run end to end with --smoke and write what their docstrings promise."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args) -> subprocess.CompletedProcess:
    # src/ on the path lets a plain checkout run the scripts; an editable install works either way.
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(ROOT / "examples" / script), "--smoke", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_sentiment_example_trains_both_languages_and_predicts(tmp_path):
    out = _ok(_run("sentiment_chinese_english.py", "--out", tmp_path))
    for language, labels in (("zh", {"negative", "positive"}), ("en", {"negative", "neutral", "positive"})):
        metrics = json.loads((tmp_path / language / "metrics.json").read_text(encoding="utf-8"))
        assert 0.0 <= metrics["model"]["accuracy"] <= 1.0
        assert set(metrics["labels"]) == labels
    predictions = [line.split() for line in out.splitlines() if line.strip().startswith("predict:")]
    assert len(predictions) == 6
    assert all(p[1] in {"negative", "neutral", "positive"} and 0.0 < float(p[2]) <= 1.0 for p in predictions)
    assert "物流太慢了，包装也破了，很失望" in out and "Worst customer service ever." in out


def test_forecast_example_backtests_and_writes_the_next_horizon(tmp_path):
    out = _ok(_run("forecast_airpassengers.py", "--out", tmp_path))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert {"naive", "seasonal_naive"} <= set(metrics["baselines"]) and metrics["model"]["mase"] > 0
    with open(tmp_path / "forecast.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 12  # the data set's horizon: the 12 months after December 1960
    assert rows[0]["timestamp"].startswith("1961-01") and rows[-1]["timestamp"].startswith("1961-12")
    assert all(float(r["q0.1"]) <= float(r["q0.5"]) <= float(r["q0.9"]) for r in rows)
    assert (tmp_path / "forecast.png").stat().st_size > 0
    assert "seasonal_naive" in out and "1961-12" in out


def _write_pairs(path: Path) -> Path:
    """Toy English<TAB>Chinese pairs with distinct sources, enough for a train/validation/test split."""
    objects = [("cats", "只猫"), ("books", "本书"), ("apples", "个苹果"), ("friends", "个朋友")]
    lines = [f"I have {n} {en}.\t我有{n}{zh}。\n" for n in range(1, 41) for en, zh in objects]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_translate_example_trains_on_a_tsv_and_translates(tmp_path):
    data = _write_pairs(tmp_path / "pairs.tsv")
    out = _ok(_run("translate_en_zh.py", "--data", data, "--out", tmp_path / "out", "--beam", 3))
    metrics = json.loads((tmp_path / "out" / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"]["direction"] == "en-zh" and metrics["data"]["test"] > 0
    assert 0.0 <= metrics["model"]["beam"]["bleu"] <= 100.0
    for sentence in ("I love you.", "Where is the station?", "Tom is reading a book in the library."):
        assert sentence in out
    assert (tmp_path / "out" / "run" / "test_translations.tsv").is_file()


def test_translate_example_without_its_data_says_so_in_one_line(tmp_path):
    result = _run("translate_en_zh.py", "--data", tmp_path / "missing.tsv", "--out", tmp_path / "out")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "missing.tsv" in lines[0]


def test_why_lstm_example_prints_every_cell_and_saves_the_figure(tmp_path):
    out = _ok(_run("why_lstm.py", "--out", tmp_path))
    rows = {line.split()[0] for line in out.splitlines() if line.split() and "|" in line}
    assert {"rnn", "gru", "lstm"} <= rows
    png = (tmp_path / "why_lstm.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
