"""Forecasting: loaders and their errors, scaling without leakage, windows and metrics, model shapes,
baselines, the task end to end, the CLI (one-line errors, exit code 2), the ETT downloader."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import invoke, run_cli

from lstmkit.baselines.series import choose_period, naive, seasonal_naive
from lstmkit.data import DATASETS, list_datasets
from lstmkit.data.series import (
    calendar_cycles,
    calendar_features,
    fill_gaps,
    infer_frequency,
    load_ett,
    load_series_csv,
)
from lstmkit.data.windows import (
    Scaler,
    backtest_origins,
    forecast_metrics,
    interval_coverage,
    mase_scale,
    seasonal_lags,
    smape,
    window_origins,
)
from lstmkit.errors import DataError
from lstmkit.heads.forecaster import ForecasterConfig, make_forecaster, pinball_loss
from lstmkit.tasks import forecast
from lstmkit.train import TrainConfig

HOURS = 24 * 20


def _frame(n: int = HOURS, seed: int = 0, targets=("load",)) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    stamps = (np.datetime64("2021-03-01T00:00") + t.astype("timedelta64[h]")).astype(str)
    temp = 15 + 5 * np.sin(2 * np.pi * t / (24 * 9.5)) + rng.normal(0, 0.5, n)  # no weekly cycle
    columns = {"date": [s.replace("T", " ") for s in stamps], "temp": temp.round(3).tolist()}
    for k, name in enumerate(targets):
        values = 50 + 10 * k + 8 * np.sin(2 * np.pi * t / 24) + 0.5 * temp + rng.normal(0, 0.5, n)
        columns[name] = values.round(3).tolist()
    return columns


def _write(path: Path, columns: dict[str, list]) -> Path:
    names = list(columns)
    lines = [",".join(names)] + [",".join(str(columns[c][i]) for c in names) for i in range(len(columns[names[0]]))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _config(data: Path, **overrides) -> forecast.ForecastConfig:
    train = TrainConfig(
        epochs=overrides.pop("epochs", 2), batch_size=32, lr=5e-3, patience=None, monitor="loss", monitor_mode="min",
        progress=False,
    )  # fmt: skip
    options = {
        "targets": ("load",), "known": ("temp",), "horizon": 12, "lookback": 48, "folds": 3, "fold_stride": 12,
        "hidden_size": 8, "max_windows": 128, **overrides,
    }  # fmt: skip
    return forecast.ForecastConfig(data=str(data), train=train, **options)


def _assert_one_line_error(out, pattern):
    exit_code = getattr(out, "returncode", getattr(out, "exit_code", None))
    lines = out.stderr.strip().splitlines()
    assert exit_code == 2, (exit_code, out.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error:") and pattern in lines[0], out.stderr


# -- loader ------------------------------------------------------------------------------------------


def test_csv_loader_reads_dates_targets_covariates_and_infers_the_frequency(tmp_path):
    series = load_series_csv(_write(tmp_path / "s.csv", _frame()), targets=["load"], known=["temp"])
    assert series.targets.shape == (HOURS, 1) and series.covariate_names == ("temp",)
    assert series.freq == "h" and series.seasonal_periods == (24, 168)
    assert series.timestamps[1] - series.timestamps[0] == np.timedelta64(1, "h")
    assert infer_frequency(np.array(["2020-01-01", "2020-02-01", "2020-03-01"], dtype="datetime64[ns]")) == "MS"


def _broken(tmp_path, edit) -> Path:
    columns = _frame(60)
    edit(columns)
    return _write(tmp_path / "bad.csv", columns)


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda c: c["load"].__setitem__(5, "nan"), "column 'load' has missing or infinite values at row 6"),
        (lambda c: c["load"].__setitem__(7, "inf"), "row 8"),
        (lambda c: c["date"].__setitem__(3, "yesterday"), "cannot parse row 4"),
        (lambda c: c["date"].__setitem__(9, c["date"][8]), "duplicated timestamps at row 10"),
        (lambda c: c["date"].__setitem__(9, c["date"][2]), "not increasing at row 10"),
        (lambda c: c["load"].__setitem__(4, "abc"), "column 'load': not a number at row 5"),
        # A finite value too large to scale made the whole run's metrics infinite: refused, and not "filled".
        (lambda c: c["load"].__setitem__(11, "1e308"), r"too large to scale \(\|x\| > 1e\+150\) at row 12: 1e\+308"),
    ],
)
def test_bad_csv_rows_are_named(tmp_path, edit, pattern):
    with pytest.raises(DataError, match=pattern):
        load_series_csv(_broken(tmp_path, edit), targets=["load"])


def test_fill_does_not_hide_values_too_large_to_scale(tmp_path):
    path = _broken(tmp_path, lambda c: c["load"].__setitem__(3, "-2e200"))
    with pytest.raises(DataError, match="too large to scale .* at row 4"):
        load_series_csv(path, targets=["load"], fill=True)


def test_fill_interpolates_missing_values(tmp_path):
    path = _broken(tmp_path, lambda c: c["load"].__setitem__(5, ""))
    series = load_series_csv(path, targets=["load"], fill=True)
    original = _frame(60)["load"]
    assert series.targets[5, 0] == pytest.approx((original[4] + original[6]) / 2)
    assert fill_gaps(np.array([np.nan, 1.0, np.nan, 3.0, np.inf])).tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]


def test_calendar_features_follow_the_clock():
    monday = np.array(["2024-01-01T00:00", "2024-01-01T06:00"], dtype="datetime64[ns]")  # a Monday
    cycles = calendar_cycles("h", span_seconds=3 * 365 * 86400)
    assert cycles == (86400.0, 7 * 86400.0, 365.2425 * 86400)
    features = calendar_features(monday, cycles)
    assert features.shape == (2, 6)  # day, week, year: sine and cosine each
    np.testing.assert_allclose(features[0, :4], [0, 1, 0, 1], atol=1e-9)
    np.testing.assert_allclose(features[1, :2], [1, 0], atol=1e-9)  # a quarter of the day
    assert calendar_cycles("MS", span_seconds=10 * 365 * 86400) == (365.2425 * 86400,)  # monthly: the year only
    assert calendar_cycles("30min", span_seconds=300 * 86400) == (86400.0, 7 * 86400.0)  # under two years: no year


def test_forecast_data_sets_are_registered_with_source_and_licence():
    names = {info.name for info in list_datasets("forecast")}
    assert {"airpassengers", "co2", "sunspots", "taylor", "elecdemand", "ett"} <= names
    for info in list_datasets("forecast"):
        assert info.language == "" and info.source and info.licence
    air = DATASETS["airpassengers"].loader()
    assert air.targets.shape == (144, 1) and air.targets[0, 0] == 112 and str(air.timestamps[-1])[:7] == "1960-12"
    co2 = DATASETS["co2"].loader()
    assert np.isfinite(co2.targets).all() and len(co2.meta["filled_rows"]) == 59 and co2.freq == "W-SAT"


def test_ett_downloader_caches_and_checks_the_checksum(tmp_path):
    source = _write(tmp_path / "ETTh2.csv", {**_frame(100), "OT": _frame(100)["load"]})
    cache = tmp_path / "cache"
    url = source.as_uri()
    series = load_ett("ETTh2", url=url, sha256=_sha256(source), cache=cache)
    assert series.target_names == ("OT",) and (cache / "ETTh2.csv").is_file() and series.horizon == 24
    source.unlink()  # the cached copy is used from now on
    assert load_ett("ETTh2", url=url, sha256=_sha256(cache / "ETTh2.csv"), cache=cache).targets.shape == (100, 1)
    with pytest.raises(DataError, match="checksum mismatch"):
        load_ett("ETTh1", url=_write(tmp_path / "x.csv", _frame(10)).as_uri(), sha256="0" * 64, cache=cache)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- math --------------------------------------------------------------------------------------------


def test_scaler_round_trip_and_log():
    values = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
    for log in (False, True):
        scaler = Scaler.fit(values, log=log)
        np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values)
        np.testing.assert_allclose(scaler.transform(values).mean(0), 0, atol=1e-12)
    per_row = Scaler.fit(values).inverse(np.zeros((2, 3)), columns=np.array([0, 1]))
    np.testing.assert_allclose(per_row, [[2.0] * 3, [30.0] * 3])


def test_windows_origins_and_lags():
    assert seasonal_lags(5, 2).tolist() == [2, 2, 4, 4, 6]
    assert seasonal_lags(3, 1).tolist() == [1, 2, 3]
    assert backtest_origins(100, 10, 3, 5).tolist() == [80, 85, 90]
    origins = window_origins(0, 50, lookback=8, horizon=4, period=12)
    assert origins[0] == 12 and origins[-1] == 46


def test_metrics_and_pinball_loss():
    actual, predicted = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    scores = forecast_metrics(actual, predicted, scale=mase_scale(np.array([0.0, 1.0, 3.0, 6.0]), 1))
    assert scores["mae"] == pytest.approx(1.0) and scores["mase"] == pytest.approx(0.5)
    assert scores["rmse"] == pytest.approx(np.sqrt(5 / 3)) and scores["mape"] == pytest.approx(100 * (0.5 + 0.5) / 3)
    assert smape([0.0], [0.0]) == 0.0 and interval_coverage(actual, actual - 1, actual + 0.5) == 1.0
    target = torch.tensor([0.0, 1.0, 2.0, 3.0, 10.0])
    q = torch.tensor([0.5])
    assert pinball_loss(torch.zeros(5, 1), target, q) == pytest.approx(0.5 * target.abs().mean().item())
    grid = torch.linspace(-1, 11, 241)
    losses = [pinball_loss(torch.full((5, 1), float(c)), target, torch.tensor([0.8])).item() for c in grid]
    assert grid[int(np.argmin(losses))].item() == pytest.approx(3.0, abs=0.05)  # the 0.8-quantile of the targets


@pytest.mark.parametrize("kind", ["direct", "seq2seq"])
@pytest.mark.parametrize("quantiles, residual", [((0.1, 0.5, 0.9), True), ((), False)])
def test_forecaster_output_shapes(kind, quantiles, residual):
    config = ForecasterConfig(
        past_size=5, future_size=3, horizon=7, kind=kind, hidden_size=8, quantiles=quantiles, residual=residual
    )
    model = make_forecaster(config)
    past, future, base = torch.randn(4, 20, 5), torch.randn(4, 7, 3), torch.randn(4, 7)
    out = model(past, future, base)
    assert out.shape == (4, 7, max(1, len(quantiles)))
    out.sum().backward()
    assert all(p.grad is not None for p in model.encoder.parameters())
    with pytest.raises(ValueError, match="future must be"):
        model(past, torch.randn(4, 6, 3), base)
    assert type(make_forecaster(ForecasterConfig.from_dict(json.loads(json.dumps(config.to_dict()))))) is type(model)


def test_baselines():
    history = np.arange(10.0)
    assert naive(history, 3).tolist() == [9.0] * 3
    assert seasonal_naive(history, 5, 4).tolist() == [6.0, 7.0, 8.0, 9.0, 6.0]
    t = np.arange(400)
    weekly = np.sin(2 * np.pi * t / 7) + 0.3 * np.sin(2 * np.pi * t / 3)
    assert choose_period(weekly, (3, 7), horizon=7, origins=np.arange(300, 390)) == 7


# -- task --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("forecast")
    data = _write(root / "load.csv", _frame())
    result = forecast.train(_config(data, epochs=3), root / "run")
    return root, data, result


def test_training_writes_a_run_with_backtest_and_baselines(trained):
    root, _, result = trained
    for name in ("config.json", "scalers.json", "model.safetensors", "metrics.json", "backtest.png", "history.csv"):
        assert (root / "run" / name).is_file(), name
    metrics = json.loads((root / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["task"] == "forecast" and len(metrics["backtest"]["origins"]) == 3
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive", "ets"}
    assert metrics["backtest"]["period"] == 24
    for scores in (metrics["model"], *metrics["baselines"].values()):
        assert set(scores) >= {"mae", "rmse", "mape", "smape", "mase"}
    assert 0.0 <= metrics["model"]["coverage"] <= 1.0
    # the residual model starts from seasonal naive; after a little training it is not far off it
    assert metrics["model"]["mase"] < 2 * metrics["baselines"]["seasonal_naive"]["mase"]


def test_scaling_uses_the_training_part_only(trained, tmp_path):
    """Changing the test part changes neither the scalers nor what the model learns."""
    root, _, _ = trained
    columns = _frame()
    test_start = 480 - 12 - 2 * 12
    columns["load"] = columns["load"][:test_start] + [v * 10 + 1000 for v in columns["load"][test_start:]]
    columns["temp"] = columns["temp"][:test_start] + [v - 40 for v in columns["temp"][test_start:]]
    forecast.train(_config(_write(tmp_path / "shifted.csv", columns), epochs=3), tmp_path / "run")
    assert json.loads((tmp_path / "run" / "scalers.json").read_text()) == json.loads(
        (root / "run" / "scalers.json").read_text()
    )
    layout = json.loads((tmp_path / "run" / "config.json").read_text())["layout"]
    assert layout["test_start"] == test_start
    ours, theirs = forecast.load(tmp_path / "run").model.state_dict(), forecast.load(root / "run").model.state_dict()
    for name, tensor in ours.items():
        torch.testing.assert_close(tensor, theirs[name])


def test_load_forecast_and_evaluate(trained, tmp_path):
    root, data, result = trained
    model = forecast.load(root / "run")
    future = _frame(HOURS + 12)
    future = {k: v[HOURS:] for k, v in future.items() if k in ("date", "temp")}
    rows = model.forecast(
        future=str(_write(tmp_path / "future.csv", future)), csv=tmp_path / "f.csv", plot=tmp_path / "f.png"
    )
    assert len(rows) == 12 and rows[0]["timestamp"] == "2021-03-21 00:00:00"
    assert all(r["q0.1"] <= r["q0.5"] <= r["q0.9"] for r in rows)
    assert (tmp_path / "f.csv").is_file() and (tmp_path / "f.png").is_file()
    assert model.evaluate()["model"]["mase"] == pytest.approx(result.metrics["model"]["mase"])
    with pytest.raises(DataError, match="known covariate 'temp' has no values"):
        model.forecast()
    with pytest.raises(DataError, match="no column 'temp'"):
        model.forecast(history=str(_write(tmp_path / "nocov.csv", {k: v for k, v in _frame().items() if k != "temp"})))


def _future_frame(steps: int = 12):
    import pandas as pd

    return pd.DataFrame({k: v[HOURS : HOURS + steps] for k, v in _frame(HOURS + 12).items() if k in ("date", "temp")})


def test_forecast_takes_frames_and_its_errors_name_the_argument(trained, tmp_path):
    import pandas as pd

    root, _, _ = trained
    model = forecast.load(root / "run")
    from_frames = model.forecast(pd.DataFrame(_frame()), future=_future_frame())
    from_files = model.forecast(str(_write(tmp_path / "h.csv", _frame())), future=str(_write(tmp_path / "f.csv", {
        k: v[HOURS:] for k, v in _frame(HOURS + 12).items() if k in ("date", "temp")})))  # fmt: skip
    assert from_frames == from_files and len(from_frames) == 12
    with pytest.raises(DataError, match=r"future: expected rows for the 12 steps 2021-03-21 00:00:00 \.\. 2021-03-21 "
                       r"11:00:00, got 5 rows .* \(no row for 2021-03-21 05:00:00\)"):  # fmt: skip
        model.forecast(future=_future_frame(5))
    with pytest.raises(DataError, match="future: known covariate 'temp' has no values .* got None"):
        model.forecast(pd.DataFrame(_frame()))
    with pytest.raises(DataError, match="history: expected at least 48 steps .* got 30"):
        model.forecast(pd.DataFrame(_frame(30)), future=_future_frame())
    with pytest.raises(TypeError, match="history: expected a pandas DataFrame, a CSV path or a data set name, got int"):
        model.forecast(7)
    assert forecast.load(root / "run", device="meta").device.type == "meta" and model.device.type == "cpu"


def test_evaluate_and_forecast_write_nothing_unless_asked(trained, tmp_path, monkeypatch):
    import shutil

    root, _, result = trained
    run = shutil.copytree(root / "run", tmp_path / "run")
    (run / "backtest.png").unlink()
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    model = forecast.load(run)
    assert model.evaluate()["model"]["mase"] == pytest.approx(result.metrics["model"]["mase"])
    model.forecast(future=_future_frame())
    assert sorted(tmp_path.rglob("*")) == before
    model.evaluate(plot=tmp_path / "backtest.png")
    assert (tmp_path / "backtest.png").stat().st_size > 1000 and not (run / "backtest.png").exists()


def test_runs_written_before_the_renames_still_load(trained, tmp_path):
    """Older runs keep their scalers in vocab.json and call fold_stride step (config and layout)."""
    import shutil

    root, _, result = trained
    run = shutil.copytree(root / "run", tmp_path / "run")
    (run / "scalers.json").rename(run / "vocab.json")
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    for part in (saved["config"], saved["layout"]):
        part["step"] = part.pop("fold_stride")
    (run / "config.json").write_text(json.dumps(saved), encoding="utf-8")
    model = forecast.load(run)
    assert model.config.fold_stride == 12 and model.layout.fold_stride == 12
    assert model.evaluate()["model"]["mase"] == pytest.approx(result.metrics["model"]["mase"])


def test_several_series_in_one_model(tmp_path):
    data = _write(tmp_path / "two.csv", _frame(targets=("a", "b")))
    result = forecast.train(_config(data, targets=("a", "b"), kind="seq2seq", epochs=1), tmp_path / "run")
    scalers = json.loads((tmp_path / "run" / "scalers.json").read_text())["targets"]
    assert len(scalers["mean"]) == 2 and scalers["mean"][1] > scalers["mean"][0] + 5
    future = {k: v[HOURS:] for k, v in _frame(HOURS + 12, targets=("a", "b")).items() if k in ("date", "temp")}
    rows = forecast.load(tmp_path / "run").forecast(future=str(_write(tmp_path / "future.csv", future)))
    assert [r["series"] for r in rows].count("b") == 12 and result.metrics["data"]["series"] == 2


def test_default_backtest_covers_the_last_fifth_with_at_most_100_origins():
    from lstmkit.tasks.forecast.data import default_backtest

    # an hourly CSV of ETT's length, horizon 24: the last fifth (3,484 rows), not 5 origins at the very end
    folds, stride = default_backtest(17420, 24, None, None, 5, 12)
    assert folds <= 100 and stride >= 12
    assert (folds - 1) * stride + 24 <= 3484 < folds * stride + 24  # the window holds them, and no one more
    assert backtest_origins(17420, 24, folds, stride)[-1] == 17420 - 24
    assert default_backtest(17420, 24, None, 24, 5, 12) == (145, 24)  # a stride given: the window filled
    assert default_backtest(17420, 24, 7, None, 5, 12) == (7, 12)  # folds given: the data set's stride
    assert default_backtest(17420, 24, 7, 3, 5, 12) == (7, 3)
    assert default_backtest(144, 12, None, None, 5, 6) == (5, 6)  # a short series keeps its data set's folds


def test_too_short_series_is_refused(tmp_path):
    data = _write(tmp_path / "short.csv", _frame(50))
    with pytest.raises(DataError, match="fewer than lookback \\+ horizon = 48 \\+ 12"):
        forecast.train(_config(data), tmp_path / "run")


# -- command line ------------------------------------------------------------------------------------


def test_cli_train_forecast_evaluate(tmp_path):
    data = _write(tmp_path / "load.csv", _frame())
    run = tmp_path / "run"
    options = ["--horizon", "12", "--lookback", "48", "--folds", "2", "--fold-stride", "12", "--hidden-size", "8"]
    out = invoke(
        "train", "forecast", "--data", data, "--target", "load", "--out", run, *options, "--epochs", "1",
        "--max-windows", "64", "--no-progress", "--no-baselines",
    )  # fmt: skip
    assert out.exit_code == 0, out.output[-3000:]
    assert "seasonal naive (m=24)" in out.stdout and "LSTM forecaster (direct)" in out.stdout
    assert "2 origins 12 steps apart from 2021-03-20" in " ".join(out.stdout.split())  # (the title wraps)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["data"]["test_origins"] == len(metrics["backtest"]["origins"]) == 2
    out = run_cli("forecast", run, "--csv", tmp_path / "fc.csv", "--plot", tmp_path / "fc.png")
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "fc.csv").read_text().splitlines()[0] == "timestamp,series,q0.1,q0.5,q0.9"
    assert (tmp_path / "fc.png").stat().st_size > 1000
    out = invoke("evaluate", run, "--json")
    assert out.exit_code == 0 and json.loads(out.stdout)["backtest"]["horizon"] == 12
    (run / "backtest.png").unlink()
    out = invoke("evaluate", run, "--plot", tmp_path / "bt.png")
    assert out.exit_code == 0 and "seasonal naive (m=24)" in out.stdout
    assert (tmp_path / "bt.png").stat().st_size > 1000 and not (run / "backtest.png").exists()


def test_cli_forecast_prints_and_writes_only_what_is_asked(trained, tmp_path, monkeypatch):
    root, _, _ = trained
    future = _write(tmp_path / "future.csv", {k: v[HOURS:] for k, v in _frame(HOURS + 12).items() if k != "load"})
    monkeypatch.chdir(tmp_path)
    out = invoke("forecast", root / "run", "--future", future)
    assert out.exit_code == 0, out.output[-3000:]
    assert "LSTM forecaster (direct)" in out.stdout and "2021-03-21 11:00:00" in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.csv"]
    out = invoke("forecast", root / "run", "--future", future, "--json")
    rows = json.loads(out.stdout)["forecast"]
    assert len(rows) == 12 and rows[0]["timestamp"] == "2021-03-21 00:00:00"
    _assert_one_line_error(run_cli("forecast", root / "run"), "future: known covariate 'temp' has no values")


def test_cli_two_process_ddp_trains_and_evaluates(tmp_path):
    """``--devices 2``: two processes (gloo on CPU) on sharded batches, one writer; took about 25 s here."""
    data = _write(tmp_path / "load.csv", _frame())
    run = tmp_path / "run"
    out = run_cli(
        "train", "forecast", "--data", data, "--target", "load", "--known", "temp", "--out", run, "--devices", "2",
        "--epochs", "1", "--hidden-size", "8", "--max-windows", "64", "--batch-size", "16", "--horizon", "12",
        "--lookback", "48", "--folds", "2", "--fold-stride", "12", "--no-baselines", "--no-progress", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    metrics = json.loads(out.stdout)
    assert metrics["epochs"] == 1 and metrics["model"]["name"] == "LSTM forecaster (direct)"
    assert json.loads((run / "metrics.json").read_text(encoding="utf-8"))["model"] == metrics["model"]
    out = invoke("evaluate", run, "--json")
    assert out.exit_code == 0, out.output[-3000:]
    assert json.loads(out.stdout)["model"]["mase"] == pytest.approx(metrics["model"]["mase"])


def test_cli_bad_input_is_one_line_with_exit_code_2(tmp_path):
    bad = _broken(tmp_path, lambda c: c["date"].__setitem__(9, c["date"][8]))
    _assert_one_line_error(invoke("train", "forecast", "--data", bad, "--target", "load"), "duplicated timestamps")
    data = _write(tmp_path / "ok.csv", _frame(60))
    _assert_one_line_error(invoke("train", "forecast", "--data", data, "--target", "nope"), "no column 'nope'")
    _assert_one_line_error(run_cli("evaluate", tmp_path / "missing"), "run directory not found")
    _assert_one_line_error(
        invoke("train", "forecast", "--data", data, "--target", "load", "--lookback", "100", "--out", tmp_path / "r"),
        "fewer than lookback + horizon",
    )
