"""``lstmkit train forecast``, ``lstmkit forecast`` and the forecast part of ``lstmkit evaluate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lstmkit.cli import _options as opt
from lstmkit.cli._app import SCORE_PRINTERS, app, console, train_app, user_errors
from lstmkit.errors import DataError


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(q) for q in text.split(",") if q.strip())
    except ValueError:
        raise DataError(f"--quantiles: expected numbers separated by commas (e.g. 0.1,0.5,0.9), got {text!r}") from None


@train_app.command("forecast")
def train_forecast(
    data: str = typer.Option("airpassengers", help="Data set name (see `lstmkit data list`) or a CSV file."),
    out: Path = typer.Option(Path("runs/forecast"), help="Run directory to write."),
    target: str | None = typer.Option(None, help="Target column(s), comma-separated (required for a CSV)."),
    covariates: str | None = typer.Option(
        None, help="Covariate columns, comma-separated (default: the data set's; for a CSV every other numeric column)."
    ),
    known: str | None = typer.Option(None, help="Covariates whose future values are known (CSV), comma-separated."),
    date_column: str | None = typer.Option(None, help="Date column of a CSV (default: date/time/timestamp/ds)."),
    freq: str | None = typer.Option(
        None, help="Frequency (pandas alias: MS, W-SAT, h, 30min...); inferred if not given."
    ),
    fill: bool = typer.Option(False, help="Interpolate missing values instead of stopping with an error."),
    horizon: int | None = typer.Option(None, help="Steps to forecast (default: the data set's, e.g. 12 monthly)."),
    lookback: int | None = typer.Option(None, help="Steps of history the model reads (default: the data set's)."),
    folds: int | None = typer.Option(None, help="Rolling origins of the backtest (default: the data set's)."),
    step: int | None = typer.Option(None, help="Steps between backtest origins (default: the data set's)."),
    period: int | None = typer.Option(None, help="Seasonal period in steps (default: chosen on validation)."),
    kind: str = typer.Option("direct", help="direct (multi-output head) or seq2seq (decoder over the known future)."),
    cell: str = typer.Option("lstm", help="lstm, gru or rnn."),
    hidden_size: int = typer.Option(64, help="Hidden units."),
    num_layers: int = typer.Option(1, help="Stacked recurrent layers."),
    dropout: float = typer.Option(0.1, help="Dropout in the head (and between layers)."),
    loss: str = typer.Option("quantile", help="quantile (pinball), mse or mae."),
    quantiles: str = typer.Option("0.1,0.5,0.9", help="Quantiles of the quantile loss, comma-separated."),
    residual: bool = typer.Option(True, help="Predict the correction to the seasonal naive forecast."),
    log: bool = typer.Option(False, help="Model log(target) (positive series with multiplicative seasonality)."),
    max_windows: int = typer.Option(2048, help="Training windows drawn per epoch."),
    baselines: bool = typer.Option(True, help="Also backtest the Holt-Winters baseline (naive ones always)."),
    epochs: int = typer.Option(40, help="Maximum epochs (early stopping may end sooner)."),
    batch_size: int = typer.Option(64, help="Windows per batch."),
    lr: float = typer.Option(3e-3, help="Peak learning rate."),
    weight_decay: float = typer.Option(1e-4, help="Weight decay."),
    clip_norm: opt.ClipNorm = 1.0,
    patience: opt.Patience = 8,
    seed: opt.Seed = 0,
    progress: opt.Progress = True,
    resume: opt.Resume = False,
    force: opt.Force = False,
) -> None:
    """Train a forecaster and backtest it beside naive, seasonal naive and Holt-Winters."""
    from lstmkit.tasks import forecast

    with user_errors():
        train_config = opt.train_config(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            clip_norm=clip_norm,
            patience=patience,
            monitor="loss",
            monitor_mode="min",
            seed=seed,
            progress=progress,
        )
        config = forecast.ForecastConfig(
            data=data,
            targets=_names(target),
            covariates=_names(covariates),
            known=_names(known) or (),
            date_column=date_column,
            freq=freq,
            fill=fill,
            horizon=horizon,
            lookback=lookback,
            folds=folds,
            step=step,
            period=period,
            kind=kind,
            cell=cell,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout,
            loss=loss,
            quantiles=_quantiles(quantiles),
            residual=residual,
            log=log,
            max_windows=max_windows,
            baselines=baselines,
            train=train_config,
        )
        result = forecast.train(config, out, resume=resume, force=force)
    print_backtest(result.metrics, title=f"forecast run {out}")


def print_backtest(scores: dict, title: str) -> None:
    """The backtest table: the model and each baseline side by side."""
    backtest = scores["backtest"]
    origins = backtest["origins"]
    table = Table(title=f"{title}: {len(origins)} origins from {origins[0]}, horizon {backtest['horizon']}")
    columns = ("mae", "rmse", "mape", "smape", "mase")
    for column in ("model", *columns, "coverage"):
        table.add_column(column)
    model = scores["model"]
    coverage = f"{model['coverage']:.3f}" if "coverage" in model else ""
    table.add_row("lstmkit forecaster", *(f"{model[c]:.4g}" for c in columns), coverage)
    for name, baseline in scores.get("baselines", {}).items():
        label = name
        if name == "seasonal_naive":
            label = f"seasonal naive (m={backtest['period']})"
        elif name == "ets" and backtest.get("ets_form"):
            label = f"Holt-Winters {backtest['ets_form'][0]}"
        table.add_row(label, *(f"{baseline[c]:.4g}" for c in columns), "")
    console.print(table)
    if "coverage" in model:
        low, high = model["interval"]
        console.print(f"coverage: share of actual values inside the {low:g}-{high:g} quantile interval")


def print_forecast_scores(run: Path, scores: dict) -> None:
    """The rolling-origin backtest of a forecast run beside its baselines (and backtest.png)."""
    print_backtest(scores, title=f"backtest of {run}")


@app.command("forecast")
def forecast_command(
    run: Path = typer.Argument(..., help="A forecast run directory."),
    data: str | None = typer.Option(
        None, help="A CSV with the run's columns to forecast from (default: the run's data)."
    ),
    future: str | None = typer.Option(None, help="A CSV with the known covariates of the forecast steps."),
    out: Path = typer.Option(Path("forecast.csv"), help="Forecast table to write (and a PNG beside it)."),
) -> None:
    """Forecast the steps after the end of the data: a CSV table and a PNG (history, forecast, interval)."""
    from lstmkit.tasks import forecast

    with user_errors():
        rows = forecast.load(run).forecast(data, future=future, out=out)
    table = Table(title=f"forecast: {out} and {out.with_suffix('.png')}")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


SCORE_PRINTERS["forecast"] = print_forecast_scores
