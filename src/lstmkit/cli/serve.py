"""``lstmkit serve RUN...``: trained runs over HTTP (see ``lstmkit.serve`` and docs/deploy.md)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import typer

from lstmkit.cli._app import app, user_errors
from lstmkit.errors import LstmkitError


def _require_serve_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise LstmkitError(
            f"lstmkit serve needs FastAPI and uvicorn ({exc.name} is not installed): pip install 'lstmkit[serve]'"
        ) from None


def _check_address(host: str, port: int) -> None:
    """Refuse an address this machine cannot listen on before any run is loaded (uvicorn would exit
    after loading them, with a log line rather than an error)."""
    if not 1 <= port <= 65535:
        raise LstmkitError(f"--port must be between 1 and 65535, got {port}")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise LstmkitError(f"--host/--port: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@app.command()
def serve(
    runs: list[Path] = typer.Argument(None, help="Run directories to serve, each named by its folder's name."),
    name: list[str] = typer.Option([], help="NAME=RUN: serve RUN under NAME (repeatable)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Server processes, each loading every run (uvicorn --workers)."),
) -> None:
    """Serve trained runs over HTTP: POST /v1/RUN/predict|translate|forecast|generate|tag, GET /v1/runs,
    /health, and the OpenAPI docs at /docs. Each run is loaded once and never written."""
    from lstmkit.serve import RUNS_VARIABLE, load_runs, parse_named_runs

    with user_errors():
        _require_serve_extra()
        if workers < 1:
            raise LstmkitError(f"--workers must be at least 1, got {workers}")
        named = parse_named_runs(runs or [], name)
        _check_address(host, port)
        served = load_runs(named)  # also in the parent with --workers: a bad run is refused here, once
    import uvicorn

    for run in served.values():
        typer.echo(f"{run.name}: {run.task}, {run.model} -> POST /v1/{run.name}/{run.verb}")
    if workers == 1:
        from lstmkit.serve.app import create_app

        uvicorn.run(create_app(served), host=host, port=port, log_level="info")
        return
    os.environ[RUNS_VARIABLE] = json.dumps({n: str(p.resolve()) for n, p in named.items()})
    from lstmkit.serve.workers import run_workers

    run_workers("lstmkit.serve.app:app_from_environment", host, port, workers)
