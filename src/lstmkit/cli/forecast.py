"""``lstmkit train forecast``, ``lstmkit forecast`` and the forecast part of ``lstmkit evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors
from lstmkit.tasks.forecast.config import ForecastConfig

DEFAULT = ForecastConfig()


def _names(text: str | tuple) -> tuple[str, ...]:
    if isinstance(text, tuple):  # a default
        return text
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _numbers(text: str | tuple) -> tuple[float, ...]:
    if isinstance(text, tuple):
        return text
    try:
        return tuple(float(q) for q in text.split(",") if q.strip())
    except ValueError:
        raise typer.BadParameter(f"expected numbers separated by commas (e.g. 0.1,0.5,0.9), got {text!r}") from None


def _columns(default: tuple | None, help: str, *names: str):
    """A comma-separated list of column names, parsed into the tuple the config holds."""
    return typer.Option(default, *names, parser=_names, metavar="COL,COL,...", help=f"{help}, comma-separated.")


def print_ltsf(scores: dict, title: str) -> None:
    """The LTSF table: test MSE and MAE of the network and each baseline over every test origin."""
    data, ltsf = scores["data"], scores["ltsf"]
    sizes = f"lookback {ltsf['lookback']}, horizon {ltsf['horizon']}"
    columns = f"features {data['features']} ({len(data['columns'])} columns), split {data['split']}"
    # (a line of its own: a title would wrap to the narrow table's width)
    console.print(f"{title}: LTSF protocol, {data['test_origins']} test origins (every one), {sizes}, {columns}")
    table = Table()
    model = scores["model"]
    quantiles = "coverage" in model  # a quantile network: the coverage of its interval, a column of its own
    for column in ("model", "mse", "mae", "coverage")[: 4 if quantiles else 3]:
        table.add_column(column)
    for row in (model, *scores["baselines"].values()):
        cells = [row["name"], f"{row['mse']:.4f}", f"{row['mae']:.4f}"]
        if quantiles:
            cells.append(f"{row['coverage']:.3f}" if "coverage" in row else "")
        table.add_row(*cells)
    console.print(table)
    console.print("MSE and MAE on the z-scored values (training rows' mean and standard deviation per column)")
    if "coverage" in model:
        low, high = model["interval"]
        console.print(f"coverage: share of actual values inside the network's {low:g}-{high:g} quantile interval")


def announce_settings(config: ForecastConfig) -> None:
    """The settings an ltsf run trains with, its protocol's defaults filled in (one line, before training)."""
    from lstmkit.tasks.forecast.ltsf_run import describe_settings

    if config.protocol == "ltsf":
        console.print(f"settings: {describe_settings(config)}")


def print_backtest(scores: dict, title: str) -> None:
    """The backtest table: the network and each baseline side by side, each row named for its model (the
    LTSF table for a run on that protocol)."""
    if scores.get("protocol") == "ltsf":
        print_ltsf(scores, title)
        return
    backtest = scores["backtest"]
    origins = backtest["origins"]
    apart = f"{len(origins)} origins {backtest['fold_stride']} steps apart from {origins[0]}"
    table = Table(title=f"{title}: {apart}, horizon {backtest['horizon']}")
    columns = ("mae", "rmse", "mape", "smape", "mase")
    for column in ("model", *columns, "coverage"):
        table.add_column(column)
    model = scores["model"]
    coverage = f"{model['coverage']:.3f}" if "coverage" in model else ""
    table.add_row(model.get("name", "network"), *(f"{model[c]:.4g}" for c in columns), coverage)
    for key, baseline in scores.get("baselines", {}).items():
        table.add_row(baseline.get("name", key), *(f"{baseline[c]:.4g}" for c in columns), "")
    console.print(table)
    if "coverage" in model:
        low, high = model["interval"]
        console.print(f"coverage: share of actual values inside the network's {low:g}-{high:g} quantile interval")


@train_app.command("forecast")
@opt.train_command("forecast", DEFAULT, report=print_backtest, announce=announce_settings)
def train_forecast(
    data: str = typer.Option(DEFAULT.data, help="Data set name (see `lstmkit data list`) or a CSV file."),
    protocol: str = typer.Option(
        DEFAULT.protocol,
        help="backtest (rolling origins over the end of the series) or ltsf (the long-horizon protocol: chronological "
        "split, every test origin, MSE/MAE on z-scored values, beside repeat-last, seasonal naive, linear, DLinear).",
    ),
    features: str | None = typer.Option(
        None, help="ltsf: M (every column, each from its own past; default) or S (the targets alone)."
    ),
    split: str = typer.Option(
        DEFAULT.split,
        help="ltsf: ett (12/4/4 months), ratio (70/10/20 %) or auto (ett for hourly or 15-minute series of ETT size: "
        "20-25 months).",
    ),
    targets: tuple | None = _columns(DEFAULT.targets, "Target column(s) (required for a CSV)", "--target"),
    covariates: tuple | None = _columns(
        DEFAULT.covariates, "Covariate columns (default: the data set's; for a CSV every other numeric column)"
    ),
    known: tuple = _columns(DEFAULT.known, "Covariates whose future values are known (CSV)"),
    date_column: str | None = typer.Option(
        DEFAULT.date_column, help="Date column of a CSV (default: date/time/timestamp/ds)."
    ),
    freq: str | None = typer.Option(
        DEFAULT.freq, help="Frequency (pandas alias: MS, W-SAT, h, 30min...); inferred if not given."
    ),
    fill: bool = typer.Option(DEFAULT.fill, help="Interpolate missing values instead of stopping with an error."),
    horizon: int | None = typer.Option(
        DEFAULT.horizon,
        help="Steps to forecast (default: the data set's, e.g. 12 monthly; ltsf: 96, the papers use 96/192/336/720).",
    ),
    lookback: int | None = typer.Option(
        DEFAULT.lookback, help="Steps of history the model reads (default: the data set's; ltsf: 96, or 336/720)."
    ),
    folds: int | None = typer.Option(
        DEFAULT.folds,
        help="Rolling origins of the backtest (default: as many as fit the last 20 % of the series --fold-stride "
        "apart, at least the data set's).",
    ),
    fold_stride: int | None = typer.Option(
        DEFAULT.fold_stride,
        help="Time steps between two backtest origins (default: the data set's, widened so that at most 100 "
        "origins are scored).",
    ),
    period: int | None = typer.Option(
        DEFAULT.period,
        help="Seasonal period in steps (default: chosen on validation; ltsf: the series' first the lookback holds).",
    ),
    kind: str | None = typer.Option(
        None,
        help="direct (multi-output head), seq2seq (decoder over the known future) or segment (segment recurrence, "
        "ltsf only; its default there).",
    ),
    cell: str | None = typer.Option(
        None, help="Recurrent cell: lstm, gru or rnn (tanh) (default: lstm; ltsf segment model: gru)."
    ),
    hidden_size: int | None = typer.Option(None, help="Hidden units (default: 64; ltsf: 256)."),
    num_layers: opt.NumLayers = DEFAULT.num_layers,
    dropout: float | None = typer.Option(None, help="Dropout on the layer's output (default: 0.1; ltsf: 0.5)."),
    segment_length: int = typer.Option(
        DEFAULT.segment_length, help="ltsf, segment model: steps per segment (the lookback must be a multiple)."
    ),
    loss: str | None = typer.Option(
        None, help="quantile (pinball), mse or mae (default: quantile; ltsf: mse, its metric)."
    ),
    quantiles: tuple = typer.Option(
        DEFAULT.quantiles, parser=_numbers, metavar="Q,Q,...", help="Quantiles of the quantile loss, comma-separated."
    ),
    residual: bool | None = typer.Option(
        None,
        "--residual/--no-residual",
        help="Predict the correction to the seasonal naive forecast (default: on; backtest only).",
    ),
    log: bool = typer.Option(DEFAULT.log, help="Model log(target) (positive series, multiplicative seasonality)."),
    max_windows: int | None = typer.Option(
        None, help="Training windows drawn per epoch (0: every one; default: 2048; ltsf: every one)."
    ),
    baselines: bool = typer.Option(
        DEFAULT.baselines,
        help="Also backtest the Holt-Winters baseline (naive ones always; ltsf: the trained DLinear).",
    ),
) -> dict:
    """Train a forecaster and backtest it beside naive, seasonal naive and Holt-Winters (or score it on the
    LTSF protocol beside repeat-last, seasonal naive, linear and DLinear).

    Under --protocol ltsf the defaults are the benchmark's recipe (segment GRU, hidden 256, dropout 0.5,
    every training window; adam, --lr 0.001 with --schedule exponential --lr-decay 0.8, batch 256, clip-norm
    0, weight-decay 0, 6 epochs, patience 2); an option given wins. The training options' defaults shown
    below are the backtest's."""
    return dict(
        data=data, protocol=protocol, features=features, split=split, targets=targets, covariates=covariates,
        known=known, date_column=date_column, freq=freq, fill=fill, horizon=horizon, lookback=lookback, folds=folds,
        fold_stride=fold_stride, period=period, kind=kind, cell=cell, hidden_size=hidden_size, num_layers=num_layers,
        dropout=dropout, segment_length=segment_length, loss=loss, quantiles=quantiles, residual=residual, log=log,
        max_windows=max_windows, baselines=baselines,
    )  # fmt: skip


def print_forecast_scores(run: Path, scores: dict) -> None:
    """The rolling-origin backtest (or the LTSF scores) of a forecast run beside its baselines."""
    print_backtest(scores, title=f"{'scores' if scores.get('protocol') == 'ltsf' else 'backtest'} of {run}")


@app.command("forecast")
def forecast_command(
    run: Path = typer.Argument(..., help="A forecast run directory."),
    data: str | None = typer.Option(
        None, help="A CSV with the run's columns: the history to forecast from (default: the run's data)."
    ),
    future: str | None = typer.Option(None, help="A CSV with the known covariates of the forecast steps."),
    csv: Path | None = typer.Option(None, help="Also write the forecast table to this CSV file."),
    plot: Path | None = typer.Option(None, help="Also draw history, forecast and interval into this PNG."),
    as_json: opt.Json = False,
) -> None:
    """Forecast the steps after the end of the data; prints the table (writes files only when asked)."""
    from lstmkit.io import check_output_file
    from lstmkit.tasks import forecast

    with user_errors():
        for path, option in ((csv, "--csv"), (plot, "--plot")):
            if path is not None:
                check_output_file(path, option)
        model = forecast.load(run)
        rows = model.forecast(data, future=future, csv=csv, plot=plot)
    if as_json:
        typer.echo(json.dumps({"run": str(run), "model": model.name, "forecast": rows}, ensure_ascii=False))
        return
    written = " and ".join(str(path) for path in (csv, plot) if path is not None)
    table = Table(title=f"forecast of {run} by {model.name}" + (f" (written to {written})" if written else ""))
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


SCORE_PRINTERS["forecast"] = print_forecast_scores
