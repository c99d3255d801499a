"""A forecast run on the LTSF protocol (tasks.forecast.ltsf_run) through the command line: train, evaluate,
forecast, every test origin scored once beside the baselines, and one-line errors for bad options."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke

from lstmkit.tasks import forecast
from lstmkit.train import TrainConfig

ETTH2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "ett" / "ETTh2.csv"
ROWS, HORIZON, LOOKBACK = 600, 12, 24
TINY = ["--lookback", LOOKBACK, "--horizon", HORIZON, "--segment-length", 12, "--hidden-size", 8, "--epochs", 1,
        "--max-windows", 64, "--no-progress"]  # fmt: skip


def _write_csv(path: Path, rows: int = ROWS) -> Path:
    rng = np.random.default_rng(0)
    steps = np.arange(rows)
    stamps = (np.datetime64("2022-01-01T00:00") + steps.astype("timedelta64[h]")).astype(str)
    load = 10 + 3 * np.sin(2 * np.pi * steps / 24) + rng.normal(0, 0.3, rows)
    temperature = 20 + np.cos(2 * np.pi * steps / 24) + steps / 200 + rng.normal(0, 0.3, rows)
    lines = ["date,OT,load"] + [f"{s.replace('T', ' ')},{t:.3f},{v:.3f}" for s, t, v in zip(stamps, temperature, load)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _assert_one_line_error(out, pattern: str) -> None:
    lines = out.stderr.strip().splitlines()
    assert out.exit_code == 2, (out.exit_code, out.output[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error:") and pattern in lines[0], out.stderr


def test_cli_ltsf_train_evaluate_forecast_round_trip(tmp_path):
    data, run = _write_csv(tmp_path / "toy.csv"), tmp_path / "run"
    out = invoke("train", "forecast", "--data", data, "--target", "OT", "--protocol", "ltsf", "--out", run, *TINY)
    assert out.exit_code == 0, out.output[-3000:]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    # 600 rows, 70/10/20 %: the test part is rows 480..599, each a target; every origin once
    assert metrics["data"]["split"] == "ratio (70/10/20 %)" and metrics["data"]["test"] == 120
    assert metrics["model"]["origins"] == metrics["data"]["test_origins"] == 120 - HORIZON + 1
    assert metrics["data"]["columns"] == ["OT", "load"] and metrics["data"]["features"] == "M"
    rows = [metrics["model"], *metrics["baselines"].values()]
    names = [row["name"] for row in rows]
    assert names == ["segment GRU (w=12)", "repeat last", "seasonal naive (m=24)", "linear (ridge least squares)",
                     "DLinear"]  # fmt: skip
    assert all(row["origins"] == 109 and row["mse"] > 0 and row["mae"] > 0 for row in rows)
    # a daily season and a slow trend: the season's repeat beats the last value
    assert metrics["baselines"]["seasonal_naive"]["mse"] < metrics["baselines"]["repeat_last"]["mse"]
    assert "109 test origins (every one)" in out.stdout and all(name in out.stdout for name in names)
    assert "split ratio (70/10/20 %)" in out.stdout
    # the options given win, the others are the benchmark's recipe; both saved and said before training
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))["config"]
    assert (saved["hidden_size"], saved["max_windows"], saved["train"]["epochs"]) == (8, 64, 1)
    assert (saved["cell"], saved["dropout"], saved["train"]["optimizer"], saved["train"]["schedule"]) == (
        "gru",
        0.5,
        "adam",
        "exponential",
    )
    assert "settings: segment GRU (w=12), hidden 8, dropout 0.5, at most 64 training windows per epoch; adam lr " \
        "0.001 (x0.8 after each epoch), batch 256" in " ".join(out.stdout.split())  # fmt: skip

    out = invoke("evaluate", run, "--json")
    assert out.exit_code == 0, out.output[-3000:]
    scores = json.loads(out.stdout)
    assert scores["model"]["mse"] == pytest.approx(metrics["model"]["mse"], rel=1e-6)
    assert scores["baselines"]["dlinear"]["mse"] == pytest.approx(metrics["baselines"]["dlinear"]["mse"], rel=1e-6)
    out = invoke("evaluate", run)
    printed = " ".join(out.stdout.split())  # the title wraps where the run's path is long
    assert out.exit_code == 0 and "LTSF protocol, 109 test origins" in printed and "DLinear" in printed

    out = invoke("forecast", run, "--csv", tmp_path / "next.csv")
    assert out.exit_code == 0, out.output[-3000:]
    with open(tmp_path / "next.csv", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == ["timestamp", "series", "forecast"] and len(written) == HORIZON * 2
    assert written[0]["timestamp"] == "2022-01-26 00:00:00" and {r["series"] for r in written} == {"OT", "load"}
    _assert_one_line_error(invoke("evaluate", run, "--plot", tmp_path / "x.png"), "plot: an ltsf run's scores")
    _assert_one_line_error(invoke("forecast", run, "--future", data), "future: an ltsf run reads the past alone")


def test_ltsf_defaults_are_the_benchmarks_recipe_and_a_field_given_wins():
    """The d = 256 segment GRU row of benchmarks/ltsf_table.py (epochs=6 lr=0.001 decay=0.8 batch=256 patience=2
    d=256 w=24 dropout=0.5, Adam, every training window, no clipping), without options; the backtest's own."""
    config = forecast.ForecastConfig(protocol="ltsf")
    assert (config.kind, config.cell, config.loss, config.features) == ("segment", "gru", "mse", "M")
    assert (config.hidden_size, config.segment_length, config.dropout) == (256, 24, 0.5)
    assert config.max_windows == 0 and config.windows_per_epoch(8449) == 8449
    train = config.train
    assert (train.optimizer, train.lr, train.schedule, train.lr_decay, train.weight_decay) == (
        "adam", 1e-3, "exponential", 0.8, 0.0
    )  # fmt: skip
    assert (train.batch_size, train.epochs, train.patience, train.clip_norm, train.monitor) == (256, 6, 2, None, "mse")
    given = forecast.ForecastConfig(
        protocol="ltsf", kind="direct", hidden_size=32, dropout=0.0, max_windows=100, train=TrainConfig(epochs=2)
    )
    assert (given.cell, given.hidden_size, given.dropout, given.windows_per_epoch(8449)) == ("lstm", 32, 0.0, 100)
    assert given.train == TrainConfig(epochs=2)
    backtest = forecast.ForecastConfig()
    assert (backtest.kind, backtest.cell, backtest.hidden_size, backtest.dropout, backtest.max_windows) == (
        "direct", "lstm", 64, 0.1, 2048
    )  # fmt: skip
    assert backtest.residual is True and (backtest.train.optimizer, backtest.train.schedule) == ("adamw", "cosine")
    # a config saved and read back keeps the values filled in
    assert forecast.ForecastConfig.from_dict(config.to_dict()) == config


def test_direct_forecaster_with_quantiles_on_the_protocol(tmp_path):
    """The direct forecaster (an ablation) with the quantile loss: the median is scored, the forecast keeps
    every quantile, sorted; univariate (S) forecasts the target alone."""
    train = TrainConfig(epochs=1, batch_size=32, patience=None, monitor="loss", monitor_mode="min", progress=False)
    config = forecast.ForecastConfig(
        data=str(_write_csv(tmp_path / "toy.csv")), targets=("OT",), protocol="ltsf", features="S", kind="direct",
        loss="quantile", lookback=LOOKBACK, horizon=HORIZON, hidden_size=8, max_windows=64, baselines=False,
        train=train,
    )  # fmt: skip
    metrics = forecast.train(config, tmp_path / "run").metrics
    assert metrics["model"]["name"] == "LSTM forecaster (direct)" and metrics["data"]["columns"] == ["OT"]
    assert set(metrics["baselines"]) == {"repeat_last", "seasonal_naive", "linear"}  # DLinear with baselines only
    assert 0 <= metrics["model"]["coverage"] <= 1 and metrics["model"]["interval"] == [0.1, 0.9]
    model = forecast.load(tmp_path / "run")
    assert isinstance(model, forecast.LtsfModel)
    rows = model.forecast()
    assert len(rows) == HORIZON and list(rows[0]) == ["timestamp", "series", "q0.1", "q0.5", "q0.9"]
    assert all(row["q0.1"] <= row["q0.5"] <= row["q0.9"] for row in rows)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--protocol", "ltsf", "--folds", "5"], "--folds applies to --protocol backtest, got 5 with ltsf"),
        (["--protocol", "ltsf", "--known", "load"], "--known applies to --protocol backtest"),
        (["--features", "S"], "--features applies to --protocol ltsf, got 'S' with backtest"),
        (["--split", "ett"], "--split applies to --protocol ltsf"),
        (["--kind", "segment"], "--kind 'segment' needs --protocol ltsf"),
        (
            ["--protocol", "ltsf", "--lookback", "30"],
            "--lookback must be a multiple of --segment-length 24 (the segment model cuts it into segments), got 30",
        ),
        (["--protocol", "ltsf", "--cell", "rnn"], "--cell must be one of ('gru', 'lstm'), got 'rnn'"),
        (["--protocol", "ltsf", "--num-layers", "2"], "--num-layers must be 1 for the segment model"),
        (["--protocol", "ltsf", "--features", "X"], "--features must be one of ('M', 'S'), got 'X'"),
        (["--protocol", "months"], "--protocol must be one of ('backtest', 'ltsf'), got 'months'"),
        (["--protocol", "ltsf", "--residual"], "--residual applies to --protocol backtest, got True with ltsf"),
        (["--protocol", "ltsf", "--no-residual"], "--residual applies to --protocol backtest, got False with ltsf"),
        (["--protocol", "ltsf", "--max-windows", "-1"], "--max-windows must be at least 1 (or 0: every training"),
        (["--fold-stride", "0"], "--fold-stride must be at least 1"),
        (["--protocol", "ltsf", *TINY, "--horizon", "200"], "fewer than lookback + horizon = 24 + 200"),
        (["--protocol", "ltsf", *TINY, "--split", "ett"], "an ETT split of 12/4/4 months needs 14400 rows"),
        (["--protocol", "ltsf", *TINY, "--period", "48"], "--period must be at most the lookback 24"),
    ],
)
def test_cli_bad_ltsf_options_are_one_line_naming_the_option(tmp_path, options, message):
    data = _write_csv(tmp_path / "toy.csv")
    out = invoke("train", "forecast", "--data", data, "--target", "OT", "--out", tmp_path / "run", *options)
    _assert_one_line_error(out, message)
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not ETTH2.is_file(), reason=f"{ETTH2} is not here (the shared development data)")
def test_etth2_takes_the_ett_split_and_says_so(tmp_path):
    out = invoke(
        "train", "forecast", "--data", ETTH2, "--target", "OT", "--protocol", "ltsf", "--hidden-size", "8",
        "--epochs", "1", "--max-windows", "64", "--no-baselines", "--no-progress", "--out", tmp_path / "run",
    )  # fmt: skip
    assert out.exit_code == 0, out.output[-3000:]
    printed = " ".join(out.stdout.split())  # lines wrap where the run's path is long
    assert "split ett (12/4/4 months of 720 rows)" in printed and "2785 test origins" in printed
