"""``lstmkit serve``: trained runs over HTTP (FastAPI + uvicorn, the optional extra ``lstmkit[serve]``).

    from lstmkit.serve import load_runs, parse_named_runs
    from lstmkit.serve.app import create_app       # needs FastAPI
    app = create_app(load_runs(parse_named_runs(["runs/demo"], [])))

``runs`` loads and names the runs (no FastAPI needed), ``schemas`` holds the request and response
bodies, ``batching`` the one-call-at-a-time queue that joins concurrent requests, ``app`` the routes.
"""

from lstmkit.serve.runs import RUNS_VARIABLE, VERBS, ServedRun, describe, load_runs, model_label, parse_named_runs

__all__ = ["RUNS_VARIABLE", "VERBS", "ServedRun", "describe", "load_runs", "model_label", "parse_named_runs"]
