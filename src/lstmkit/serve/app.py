"""The HTTP service as a FastAPI app built from loaded runs: ``create_app(load_runs(...))``.

A pure factory: it loads nothing, binds no port and changes nothing outside the app it returns, so
tests drive it with ``fastapi.testclient.TestClient`` and ``lstmkit serve`` hands it to uvicorn.

Endpoints: ``POST /v1/{run}/predict`` (sentiment), ``/translate``, ``/forecast``, ``/generate`` (lm),
``/tag``, ``GET /v1/runs``, ``GET /health``, and FastAPI's ``/docs`` and ``/openapi.json``. Every error is
``{"error": "..."}``: 400 malformed JSON, 404 an unknown run or a verb its task lacks, 422 a request
the schema or the model refuses, 500 a failure inside a model (logged; the server keeps serving).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lstmkit.errors import LstmkitError
from lstmkit.serve.batching import Batcher
from lstmkit.serve.runs import RUNS_VARIABLE, ServedRun, describe, load_runs
from lstmkit.serve.schemas import (
    MAX_BATCH_TEXTS,
    ErrorBody,
    ForecastRequest,
    ForecastResponse,
    GenerateRequest,
    GenerateResponse,
    Health,
    PredictRequest,
    PredictResponse,
    RunsResponse,
    TagRequest,
    TagResponse,
    TranslateRequest,
    TranslateResponse,
)

__all__ = ["create_app", "app_from_environment"]

log = logging.getLogger(__name__)
_ERRORS = {status: {"model": ErrorBody} for status in (400, 404, 422, 500)}


def _where(location: tuple) -> str:
    """``("body", "texts", 1)`` -> ``texts[1]``; the body itself -> ``request body``."""
    parts = list(location[1:] if location and location[0] == "body" else location)
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return text or "request body"


def _given(value: object) -> str:
    """The value a client sent, short enough for an error line."""
    if isinstance(value, str) and len(value) > 60:
        return f"a text of {len(value)} characters starting {value[:20]!r}"
    return repr(value)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        detail = errors[0].get("ctx", {}).get("error", "")
        return JSONResponse({"error": f"malformed JSON in the request body: {detail}".rstrip(": ")}, status_code=400)
    problems = []
    for error in errors:
        given = error.get("input")
        if isinstance(given, bytes):  # FastAPI reads a body without a JSON content type as bytes
            content_type = request.headers.get("content-type", "none")
            problems.append(f"request body: expected JSON with Content-Type: application/json, got {content_type}")
        elif error["type"] == "missing" or isinstance(given, dict | list):
            problems.append(f"{_where(error['loc'])}: {error['msg']}")
        else:
            problems.append(f"{_where(error['loc'])}: {error['msg']}, got {_given(given)}")
    return JSONResponse({"error": "; ".join(problems)}, status_code=422)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


def create_app(runs: dict[str, ServedRun]) -> FastAPI:
    """The service answering for ``runs`` (name -> :class:`~lstmkit.serve.runs.ServedRun`, from ``load_runs``)."""
    from lstmkit import __version__

    app = FastAPI(
        title="lstmkit serve",
        version=__version__,
        description="Trained lstmkit runs over HTTP: " + ", ".join(f"{n} ({r.task})" for n, r in runs.items()),
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    batchers = {
        name: Batcher(run.call, MAX_BATCH_TEXTS, size=lambda request: len(getattr(request, "texts", ())) or 1)
        for name, run in runs.items()
    }
    app.state.runs, app.state.batchers = runs, batchers

    async def answer(name: str, verb: str, request) -> tuple[ServedRun, object]:
        run = runs.get(name)
        if run is None:
            raise HTTPException(404, f"unknown run {name!r}: this server has {', '.join(sorted(runs))}")
        if run.verb != verb:
            raise HTTPException(404, f"run {name!r} is a {run.task} run: POST /v1/{name}/{run.verb}, not /{verb}")
        try:
            return run, await batchers[name].submit(request)
        except LstmkitError as exc:
            raise HTTPException(422, f"run {name!r}: {exc}") from None
        except Exception as exc:
            log.exception("run %r failed on a %s request", name, verb)
            raise HTTPException(500, f"run {name!r} failed on this request: {type(exc).__name__}: {exc}") from None

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        return Health(status="ok", runs=len(runs))

    @app.get("/v1/runs", response_model=RunsResponse)
    async def list_runs() -> RunsResponse:
        return RunsResponse(runs=[describe(run) for run in runs.values()])

    @app.post("/v1/{run}/predict", response_model=PredictResponse, responses=_ERRORS, tags=["sentiment"])
    async def predict(run: str, request: PredictRequest) -> PredictResponse:
        """Label and class probabilities of each text (one model call for all of them)."""
        served, predictions = await answer(run, "predict", request)
        return PredictResponse(run=run, model=served.model, predictions=[dataclasses.asdict(p) for p in predictions])

    @app.post("/v1/{run}/translate", response_model=TranslateResponse, responses=_ERRORS, tags=["translate"])
    async def translate(run: str, request: TranslateRequest) -> TranslateResponse:
        """Translation of each text, with the next best of the beam when ``n_best`` > 1."""
        served, results = await answer(run, "translate", request)
        translations = [
            {
                "text": r.text, "translation": r.translation, "score": r.score, "truncated": r.truncated,
                "alternatives": [{"translation": t, "score": s} for t, s in r.alternatives],
            }
            for r in results
        ]  # fmt: skip
        return TranslateResponse(run=run, model=served.model, translations=translations)

    @app.post("/v1/{run}/forecast", response_model=ForecastResponse, responses=_ERRORS, tags=["forecast"])
    async def forecast(run: str, request: ForecastRequest) -> ForecastResponse:
        """The ``horizon`` steps after the history (default: the run's own series), with quantiles."""
        served, rows = await answer(run, "forecast", request)
        return ForecastResponse(run=run, model=served.model, quantiles=list(served.loaded.quantiles), forecast=rows)

    @app.post("/v1/{run}/generate", response_model=GenerateResponse, responses=_ERRORS, tags=["lm"])
    async def generate(run: str, request: GenerateRequest) -> GenerateResponse:
        """``prime`` followed by ``chars`` sampled characters."""
        served, text = await answer(run, "generate", request)
        return GenerateResponse(run=run, model=served.model, prime=request.prime, text=text)

    # (exclude_none: a text has words or spans as its data has them, the keys of `lstmkit tag --json`)
    @app.post(
        "/v1/{run}/tag", response_model=TagResponse, response_model_exclude_none=True, responses=_ERRORS, tags=["tag"]
    )
    async def tag(run: str, request: TagRequest) -> TagResponse:
        """Tokens and tags of each text, with its words (Chinese) or spans (BIO/BIOES)."""
        served, results = await answer(run, "tag", request)
        return TagResponse(run=run, model=served.model, tagged=results)

    return app


def app_from_environment() -> FastAPI:
    """The app for the runs ``$LSTMKIT_SERVE_RUNS`` names (JSON, name -> run directory): the factory each
    process of ``lstmkit serve --workers N`` (or ``uvicorn --factory --workers N``) calls."""
    text = os.environ.get(RUNS_VARIABLE)
    if not text:
        raise LstmkitError(
            f'${RUNS_VARIABLE} is not set: expected JSON naming the runs, e.g. \'{{"demo": "runs/demo"}}\''
        )
    try:
        named = {str(name): Path(path) for name, path in json.loads(text).items()}
    except (ValueError, AttributeError):
        raise LstmkitError(f"${RUNS_VARIABLE}: expected a JSON object name -> run directory, got {text!r}") from None
    return create_app(load_runs(named))
