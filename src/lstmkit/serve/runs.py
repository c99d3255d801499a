"""The runs a server answers for: each loaded once, named, labelled, and given the call its verb makes.

Nothing here needs FastAPI: loading and naming runs is plain lstmkit, so the CLI can refuse a wrong
run directory before any server starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmkit.errors import DataError, LstmkitError, RunDirectoryError
from lstmkit.runs import run_task

__all__ = ["VERBS", "RUNS_VARIABLE", "ServedRun", "load_runs", "parse_named_runs", "describe", "model_label"]

# task -> the verb of its endpoint, /v1/{run}/{verb}
VERBS = {"sentiment": "predict", "translate": "translate", "forecast": "forecast", "lm": "generate", "tag": "tag"}
# task -> the method of its loaded run that answers each of a list of texts on its own: the texts of
# concurrent requests join into one call (a micro-batch)
_PER_TEXT = {"sentiment": "predict", "tag": "tag"}
# name -> run directory (JSON): how `lstmkit serve --workers N` tells each uvicorn worker what to load
RUNS_VARIABLE = "LSTMKIT_SERVE_RUNS"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class ServedRun:
    """One loaded run: its URL name, task, directory, the loaded model (``load(run)`` of its task), and
    ``model``, the label every response carries to say which model produced it."""

    name: str
    task: str
    path: Path
    loaded: Any
    model: str
    # forecast: the run's own series, read once at start (a history-less request forecasts after it),
    # or why it could not be read
    own_series: Any = None

    @property
    def verb(self) -> str:
        return VERBS[self.task]

    def call(self, requests: list[Any]) -> list[Any]:
        """The answers to ``requests`` (validated request bodies of this run's verb), in order.

        Sentiment and tag join the texts of every request into one model call (the micro-batch); the
        other verbs answer request by request (their options differ per request, and a seeded sample
        must not depend on what else arrived)."""
        if self.task in _PER_TEXT:
            method = getattr(self.loaded, _PER_TEXT[self.task])
            results = method([text for request in requests for text in request.texts])
            answers, start = [], 0
            for request in requests:
                answers.append(results[start : start + len(request.texts)])
                start += len(request.texts)
            return answers
        return [_ANSWER[self.task](self, request) for request in requests]


def _translate(run: ServedRun, request) -> list:
    return run.loaded.translate(request.texts, beam_size=request.beam_size, n_best=request.n_best)


def _forecast(run: ServedRun, request) -> list[dict]:
    import pandas as pd

    # Records only, never a path: a client must not make the server read its own files.
    future = None if request.future is None else pd.DataFrame.from_records(request.future)
    if request.history is not None:
        return run.loaded.forecast(pd.DataFrame.from_records(request.history), future=future)
    if isinstance(run.own_series, LstmkitError):
        raise DataError(
            f"history: none given, and the run's own series could not be read when the server started "
            f"({run.own_series}); send the history to forecast after"
        )
    return run.loaded.forecast(run.own_series, future=future)


def _generate(run: ServedRun, request) -> str:
    return run.loaded.generate(request.prime, temperature=request.temperature, chars=request.chars, seed=request.seed)


_ANSWER: dict[str, Callable[[ServedRun, Any], Any]] = {"translate": _translate, "forecast": _forecast, "lm": _generate}


def model_label(task: str, loaded: Any) -> str:
    """Which model answers for a run, in words (``LSTM forecaster (direct)``)."""
    if task == "sentiment":
        return f"{loaded.config.cell.upper()} sentiment classifier: {loaded.model_name}"
    if task == "translate":
        from lstmkit.tasks.translate.config import model_name

        return model_name(loaded.config.attention)
    if task in ("forecast", "tag"):
        return loaded.name  # a tagger's as `lstmkit tag --json` names it: bilstm-crf
    config = loaded.config
    return f"character LSTM language model ({config.num_layers} x {config.hidden_size})"


def parse_named_runs(runs: Sequence[str | Path], named: Sequence[str]) -> dict[str, Path]:
    """URL name -> run directory: each of ``runs`` by its folder's name, each ``NAME=RUN`` of ``named``
    by ``NAME``. A name used twice, or not a plain URL segment, is refused."""
    pairs = [(Path(run).name, Path(run), f"RUN {run}") for run in runs]
    for item in named:
        name, sep, run = item.partition("=")
        if not sep or not run:
            raise LstmkitError(f"--name: expected NAME=RUN (e.g. --name reviews=runs/demo), got {item!r}")
        pairs.append((name, Path(run), f"--name {item}"))
    if not pairs:
        raise LstmkitError("no runs to serve: give at least one RUN directory or --name NAME=RUN")
    result: dict[str, Path] = {}
    for name, path, given in pairs:
        if not _NAME.fullmatch(name):
            raise LstmkitError(
                f"{given}: the run's name {name!r} must be letters, digits, '.', '_' or '-' (it is part of the "
                "URL); choose one with --name NAME=RUN"
            )
        if name in result:
            raise LstmkitError(f"{given}: the name {name!r} is already taken by {result[name]}; use --name NAME=RUN")
        result[name] = path
    return result


def load_runs(named: dict[str, Path]) -> dict[str, ServedRun]:
    """Each run loaded once on the CPU, by the task its ``config.json`` names (read only: nothing is written)."""
    from lstmkit.tasks.registry import task_named

    served = {}
    for name, path in named.items():
        if not path.is_dir():
            raise RunDirectoryError(f"run {name!r}: expected a run directory, got {str(path)!r} (not a folder)")
        task = run_task(path)
        if task not in VERBS:
            raise RunDirectoryError(f"run {name!r} ({path}) is a {task!r} run; lstmkit serves {sorted(VERBS)}")
        loaded = task_named(task).load(path)
        served[name] = ServedRun(name, task, path, loaded, model_label(task, loaded))
        if task == "forecast":
            served[name].own_series = _own_series(loaded)
    return served


def _own_series(forecaster: Any) -> Any:
    """The series a forecast run was trained on, or the error that kept it from being read (a server
    still forecasts after the histories its clients send)."""
    try:
        return forecaster.load_series()
    except LstmkitError as exc:
        return exc


def describe(run: ServedRun) -> dict[str, str]:
    """The entry of ``GET /v1/runs`` for ``run``."""
    return {"name": run.name, "task": run.task, "model": run.model, "endpoint": f"/v1/{run.name}/{run.verb}"}
