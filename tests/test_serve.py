"""``lstmkit serve``: the app factory through TestClient (answers equal the Python API's, every bad
request a 4xx naming its problem, a model failure a 500 that leaves the server serving, concurrent
requests joined), the CLI's refusals, and a real server in a subprocess under a bounded load."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from cli_helpers import invoke  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.serve import load_runs, parse_named_runs  # noqa: E402
from lstmkit.serve.app import create_app  # noqa: E402
from lstmkit.serve.batching import Batcher  # noqa: E402
from lstmkit.serve.loadgen import load, post_json, running_server  # noqa: E402
from lstmkit.tasks.runner import load_run  # noqa: E402

TEXTS = ["很好喜欢这个", "太差了失望", "快递价格不错推荐"]


@pytest.fixture(scope="module")
def runs(sentiment_run, translate_run, forecast_run, lm_run) -> dict[str, Path]:
    return {"reviews": sentiment_run, "en-zh": translate_run, "load": forecast_run, "bible": lm_run}


@pytest.fixture(scope="module")
def app(runs):
    return create_app(load_runs(runs))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


def _history(run: Path) -> list[dict]:
    import pandas as pd

    return pd.read_csv(run.parent / "load.csv").to_dict("records")


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _python_answers(runs: dict[str, Path]) -> dict[str, object]:
    """What the Python API answers to the requests of REQUESTS."""
    import pandas as pd

    sentiment, translator = load_run(runs["reviews"]), load_run(runs["en-zh"])
    return {
        "reviews": [p.__dict__ for p in sentiment.predict(TEXTS)],
        "en-zh": [[t.translation, t.score] for t in translator.translate(["the cat eats fish", "dog"], beam_size=2)],
        "load": load_run(runs["load"]).forecast(pd.read_csv(runs["load"].parent / "load.csv")),
        "bible": load_run(runs["bible"]).generate("the lord", temperature=0.5, chars=30, seed=3),
    }


def _requests(runs: dict[str, Path]) -> dict[str, tuple[str, dict]]:
    return {
        "reviews": ("/v1/reviews/predict", {"texts": TEXTS}),
        "en-zh": ("/v1/en-zh/translate", {"texts": ["the cat eats fish", "dog"], "beam_size": 2}),
        "load": ("/v1/load/forecast", {"history": _history(runs["load"])}),
        "bible": ("/v1/bible/generate", {"prime": "the lord", "temperature": 0.5, "chars": 30, "seed": 3}),
    }


def _check_answers(answers: dict[str, dict], expected: dict[str, object]) -> None:
    # The same texts in one model call, as Python makes it: equal to the last bit (JSON keeps floats exact).
    assert answers["reviews"]["predictions"] == expected["reviews"]
    assert {p["model"] for p in answers["reviews"]["predictions"]} == {"recurrent"}
    assert [[t["translation"], t["score"]] for t in answers["en-zh"]["translations"]] == expected["en-zh"]
    assert answers["load"]["forecast"] == expected["load"]
    assert answers["bible"]["text"] == expected["bible"]
    assert all(answer["model"] for answer in answers.values())


def test_every_endpoint_answers_as_the_python_api_and_no_run_is_written(runs, client):
    before = {name: _snapshot(run) for name, run in runs.items()}
    answers = {}
    for name, (path, body) in _requests(runs).items():
        response = client.post(path, json=body)
        assert response.status_code == 200, response.text
        answers[name] = response.json()
        assert answers[name]["run"] == name
    _check_answers(answers, _python_answers(runs))
    listed = client.get("/v1/runs").json()["runs"]
    assert {(r["name"], r["task"], r["endpoint"]) for r in listed} == {
        ("reviews", "sentiment", "/v1/reviews/predict"), ("en-zh", "translate", "/v1/en-zh/translate"),
        ("load", "forecast", "/v1/load/forecast"), ("bible", "lm", "/v1/bible/generate"),
    }  # fmt: skip
    assert client.get("/health").json() == {"status": "ok", "runs": 4}
    assert "/v1/{run}/predict" in client.get("/openapi.json").json()["paths"]
    assert {name: _snapshot(run) for name, run in runs.items()} == before


def test_forecast_of_the_runs_own_series_when_no_history_is_given(runs, client):
    answer = client.post("/v1/load/forecast", json={}).json()
    assert answer["forecast"] == load_run(runs["load"]).forecast()


def test_the_runs_own_series_is_read_once_at_start(forecast_run, tmp_path):
    run = shutil.copytree(forecast_run, tmp_path / "run")
    data = shutil.copy(forecast_run.parent / "load.csv", tmp_path / "load.csv")
    saved = json.loads((run / "config.json").read_text())
    saved["config"]["data"] = str(data)
    (run / "config.json").write_text(json.dumps(saved))
    expected = load_run(run).forecast()
    with TestClient(create_app(load_runs({"load": run}))) as client:
        Path(data).unlink()
        assert client.post("/v1/load/forecast", json={}).json()["forecast"] == expected
    with TestClient(create_app(load_runs({"load": run}))) as client:  # started without its data file
        refused = client.post("/v1/load/forecast", json={})
        assert refused.status_code == 422
        assert "history: none given, and the run's own series could not be read" in refused.json()["error"]
        assert client.post("/v1/load/forecast", json={"history": _history(forecast_run)}).status_code == 200


def test_an_ltsf_run_forecasts_every_column_as_the_python_api(ltsf_run):
    """A forecast run on the LTSF protocol: after its own series, after a history sent (its last rows moved),
    each as ``LtsfModel.forecast``; known future values are refused (it reads the past alone)."""
    import pandas as pd

    model = load_run(ltsf_run)
    history = pd.read_csv(ltsf_run.parent / "load.csv")
    history["load"] = history["load"] + 5 * (history.index >= len(history) - 12)  # a level shift at the end
    with TestClient(create_app(load_runs({"ett": ltsf_run}))) as client:
        own = client.post("/v1/ett/forecast", json={})
        sent = client.post("/v1/ett/forecast", json={"history": history.to_dict("records")})
        refused = client.post("/v1/ett/forecast", json={"future": [{"date": "2021-03-13 00:00", "temp": 1.0}]})
    assert own.status_code == sent.status_code == 200, (own.text, sent.text)
    assert own.json()["forecast"] == model.forecast() and own.json()["model"] == model.name == "segment GRU (w=12)"
    assert sent.json()["forecast"] == model.forecast(history) != own.json()["forecast"]
    assert {row["series"] for row in own.json()["forecast"]} == {"load", "temp"} and own.json()["quantiles"] == []
    assert refused.status_code == 422 and "future: an ltsf run reads the past alone" in refused.json()["error"]


BAD_REQUESTS = [
    # (path, raw body or JSON, status, words the error must contain)
    ("/v1/reviews/predict", "{bad json", 400, "malformed JSON"),
    ("/v1/reviews/predict", b"", 422, "request body"),
    ("/v1/reviews/predict", {"texts": []}, 422, "texts: List should have at least 1 item"),
    ("/v1/reviews/predict", {"texts": ["ok", "   "]}, 422, "texts[1]: Value error, the text is empty"),
    ("/v1/reviews/predict", {"texts": ["x"] * 65}, 422, "texts: List should have at most 64 items"),
    ("/v1/reviews/predict", {"texts": ["长" * 2001]}, 422, "texts[0]: String should have at most 2000 characters"),
    ("/v1/reviews/predict", {"texts": [3]}, 422, "texts[0]: Input should be a valid string, got 3"),
    ("/v1/reviews/predict", {"text": ["a"]}, 422, "text: Extra inputs are not permitted"),
    ("/v1/nobody/predict", {"texts": ["a"]}, 404, "unknown run 'nobody': this server has bible, en-zh, load, reviews"),
    ("/v1/reviews/translate", {"texts": ["a"]}, 404, "run 'reviews' is a sentiment run: POST /v1/reviews/predict"),
    ("/v1/en-zh/translate", {"texts": ["cat"], "beam_size": 2, "n_best": 3}, 422, "--n-best between 1 and the beam"),
    ("/v1/en-zh/translate", {"texts": ["cat"], "beam_size": 0}, 422, "beam_size: Input should be greater than"),
    (
        "/v1/load/forecast",
        {"history": [{"date": "2021-03-01 00:00", "load": 1.0}]},
        422,
        "history: frame: no column 'temp'",
    ),
    ("/v1/load/forecast", {"future": [{"date": "2021-03-13 00:00", "temp": 1.0}]}, 422, "no known covariates"),
    ("/v1/bible/generate", {"prime": ""}, 422, "prime: String should have at least 1 character"),
    ("/v1/bible/generate", {"prime": "a", "chars": 10**6}, 422, "chars: Input should be less than or equal to 2000"),
    ("/v1/bible/generate", {"prime": "a", "temperature": -1}, 422, "temperature: Input should be greater than"),
]


@pytest.mark.parametrize(("path", "body", "status", "words"), BAD_REQUESTS, ids=[b[3][:40] for b in BAD_REQUESTS])
def test_a_bad_request_is_a_4xx_naming_the_problem(client, path, body, status, words):
    if isinstance(body, str | bytes):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_a_model_failure_is_a_500_and_the_server_keeps_serving(app, client, monkeypatch):
    model = app.state.runs["reviews"].loaded
    answers = iter([RuntimeError("boom")])

    def predict(texts):
        failure = next(answers, None)
        if failure is not None:
            raise failure
        return type(model).predict(model, texts)

    monkeypatch.setattr(model, "predict", predict)
    failed = client.post("/v1/reviews/predict", json={"texts": TEXTS})
    assert failed.status_code == 500
    assert failed.json() == {"error": "run 'reviews' failed on this request: RuntimeError: boom"}
    assert client.post("/v1/reviews/predict", json={"texts": TEXTS}).status_code == 200


def test_concurrent_requests_are_joined_into_fewer_model_calls_with_the_same_answers(app, runs):
    import httpx

    async def many() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as session:
            return await asyncio.gather(
                *(session.post("/v1/reviews/predict", json={"texts": [text]}) for text in TEXTS * 8)
            )

    batcher = app.state.batchers["reviews"]
    calls = batcher.calls
    responses = asyncio.run(many())
    assert batcher.calls - calls < len(responses)  # joined
    alone = {p.text: p.probabilities for p in load_run(runs["reviews"]).predict(TEXTS)}
    for response in responses:
        (prediction,) = response.json()["predictions"]
        assert prediction["probabilities"] == pytest.approx(alone[prediction["text"]], abs=1e-6)


def test_a_joined_call_that_fails_is_retried_request_by_request():
    def call(requests):
        if "bad" in requests:
            raise ValueError("bad request")
        return [request.upper() for request in requests]

    batcher = Batcher(call, max_items=10, size=lambda request: 1)

    async def submit_all():
        return await asyncio.gather(*(batcher.submit(r) for r in ["a", "bad", "c"]), return_exceptions=True)

    a, bad, c = asyncio.run(submit_all())
    assert (a, c) == ("A", "C")
    assert isinstance(bad, ValueError)


@pytest.mark.parametrize(
    ("runs_given", "names", "words"),
    [
        ([], [], "no runs to serve"),
        (["a/run", "b/run"], [], "the name 'run' is already taken by a/run"),
        ([], ["reviews"], "--name: expected NAME=RUN"),
        ([], ["bad/name=runs/x"], "must be letters, digits"),
    ],
)
def test_run_names_are_checked(runs_given, names, words):
    with pytest.raises(LstmkitError, match=words.replace("(", r"\(")):
        parse_named_runs(runs_given, names)


def test_the_factory_of_several_workers_reads_the_runs_from_the_environment(runs, monkeypatch):
    from lstmkit.serve import RUNS_VARIABLE
    from lstmkit.serve.app import app_from_environment

    monkeypatch.setenv(RUNS_VARIABLE, json.dumps({"mine": str(runs["reviews"])}))
    with TestClient(app_from_environment()) as client:
        assert client.post("/v1/mine/predict", json={"texts": TEXTS}).status_code == 200
    monkeypatch.setenv(RUNS_VARIABLE, "[1]")
    with pytest.raises(LstmkitError, match="expected a JSON object name -> run directory, got '\\[1\\]'"):
        app_from_environment()


def test_the_cli_refuses_in_one_line(tmp_path, sentiment_run, monkeypatch):
    missing = invoke("serve", tmp_path / "nothing")
    assert missing.exit_code == 2 and "expected a run directory" in missing.output
    assert "--port must be between 1 and 65535, got 70000" in invoke("serve", sentiment_run, "--port", "70000").output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = invoke("serve", sentiment_run, "--port", port)
    assert busy.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}: Address already in use" in busy.output
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the extra were not installed
    without = invoke("serve", sentiment_run)
    assert without.exit_code == 2
    assert "error: lstmkit serve needs FastAPI and uvicorn" in without.output and "lstmkit[serve]" in without.output


def test_a_real_server_answers_every_endpoint_and_a_bounded_load(runs, tmp_path):
    args = [f"--name={name}={run}" for name, run in runs.items()]
    with running_server(args, log=tmp_path / "server.log") as url:
        answers = {}
        for name, (path, body) in _requests(runs).items():
            status, answers[name] = post_json(url + path, body)
            assert status == 200, answers[name]
        _check_answers(answers, _python_answers(runs))
        status, error = post_json(url + "/v1/reviews/predict", {"texts": []})
        assert status == 422 and "texts" in error["error"]
        report = load(url, "/v1/reviews/predict", [{"texts": [t]} for t in TEXTS], clients=8, requests=400)
    assert report.failed == 0 and report.server_errors == 0
    assert report.statuses == {200: 400}
    assert report.p50_ms <= report.p99_ms


def test_a_fused_run_answers_as_predict_and_names_the_fused_model(fused_sentiment_run):
    import numpy as np

    run = load_run(fused_sentiment_run)
    with TestClient(create_app(load_runs({"fused": fused_sentiment_run}))) as client:
        answer = client.post("/v1/fused/predict", json={"texts": TEXTS}).json()
        (listed,) = client.get("/v1/runs").json()["runs"]
    assert answer["predictions"] == [p.__dict__ for p in run.predict(TEXTS)]
    fused = np.array([[p["probabilities"][label] for label in run.labels] for p in answer["predictions"]])
    assert not np.allclose(fused, run.recurrent_proba(TEXTS))  # the fused probabilities, not the network's
    # Labelled as `predict --json` labels them: "fused", and the run's model in words.
    printed = invoke("predict", fused_sentiment_run, *TEXTS, "--json")
    records = [json.loads(line) for line in printed.output.splitlines()]
    assert [p["model"] for p in answer["predictions"]] == [r["model"] for r in records] == ["fused"] * len(TEXTS)
    assert [p["label"] for p in answer["predictions"]] == [r["label"] for r in records]
    assert answer["model"] == listed["model"] and answer["model"].endswith("fused with the TF-IDF logreg")


def test_several_workers_each_load_the_runs_and_answer(sentiment_run, tmp_path):
    import time

    log = tmp_path / "server.log"
    with running_server(["--workers", "2", sentiment_run], log=log) as url:
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # /health answered from the first worker up; wait for the second
        started = log.read_text()
        report = load(url, f"/v1/{sentiment_run.name}/predict", [{"texts": [t]} for t in TEXTS], clients=4, requests=40)
    workers = set(re.findall(r"Started server process \[(\d+)\]", started))
    assert len(workers) == 2, started[-2000:]
    assert started.count("Application startup complete") == 2  # each process built its app, loading the run
    assert report.statuses == {200: 40} and report.failed == 0


# One task is enough here: the script picks the endpoint from the run's task, which other tests cover.
@pytest.mark.parametrize(("task", "verb"), [("tag", "tag")], ids=["tag"])
def test_the_load_benchmark_takes_any_run_and_writes_its_table(run_of, task, verb, tmp_path):
    import os
    import subprocess

    run = run_of(task)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    table = tmp_path / "table.md"
    command = [sys.executable, root / "benchmarks" / "serve_load.py", run, "--clients", "1", "3"]
    result = subprocess.run(
        [*map(str, command), "--requests", "6", "--markdown", str(table)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    header, rule, *rows = table.read_text(encoding="utf-8").splitlines()[2:]
    assert header == "| clients | requests | req/s | p50 ms | p99 ms | failures | 5xx |"
    assert [row.split(" | ")[:2] for row in rows] == [["| 1", "6"], ["| 3", "6"]]
    assert all(row.endswith("| 0 | 0 |") for row in rows) and all(row in result.stdout for row in rows)
    assert f"POST /v1/{run.name}/{verb}" in result.stdout


TAG_TEXTS = ["我们喜欢北京的图书馆。", "中国人民很好", "好", "迈向充满希望的新世纪"]


@pytest.fixture(scope="module")
def tag_app(tag_run):
    return create_app(load_runs({"seg": tag_run}))


@pytest.fixture(scope="module")
def tag_client(tag_app):
    with TestClient(tag_app) as client:
        yield client


def test_the_tag_endpoint_answers_as_tag_and_names_the_model_as_tag_json_does(tag_run, tag_client):
    answer = tag_client.post("/v1/seg/tag", json={"texts": TAG_TEXTS})
    assert answer.status_code == 200, answer.text
    assert answer.json()["tagged"] == load_run(tag_run).tag(TAG_TEXTS)  # words included, no key the CLI lacks
    printed = invoke("tag", tag_run, *TAG_TEXTS, "--json")
    records = [json.loads(line) for line in printed.output.splitlines()]
    assert answer.json()["tagged"] == records
    assert answer.json()["model"] == records[0]["model"] == "bilstm-crf+bigrams"
    assert tag_client.get("/v1/runs").json()["runs"] == [
        {"name": "seg", "task": "tag", "model": "bilstm-crf+bigrams", "endpoint": "/v1/seg/tag"}
    ]


def test_a_word_run_with_a_char_encoder_is_served_and_tags_each_text_as_alone(tag_chars_run):
    texts = ["kanrness tivring", "boring loudly quickly . wonderfulness", "x"]  # unseen words, mixed lengths
    with TestClient(create_app(load_runs({"words": tag_chars_run}))) as client:
        answer = client.post("/v1/words/tag", json={"texts": texts})
    assert answer.status_code == 200, answer.text
    tagger = load_run(tag_chars_run)
    assert answer.json()["model"] == "bilstm-crf+chars"
    assert answer.json()["tagged"] == [tagger.tag([text])[0] for text in texts]  # one batch = each alone
    assert [len(result["tags"]) for result in answer.json()["tagged"]] == [2, 5, 1]


TAG_BAD_REQUESTS = [
    ({"texts": ["好", " "]}, 422, "texts[1]: Value error, the text is empty"),
    ({"texts": ["好" * 2001]}, 422, "texts[0]: String should have at most 2000 characters"),
    ({"texts": ["好", 7]}, 422, "texts[1]: Input should be a valid string, got 7"),
    ({"texts": "好"}, 422, "texts: Input should be a valid list, got '好'"),
    ({"texts": []}, 422, "texts: List should have at least 1 item"),
    ({"text": ["好"]}, 422, "text: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(
    ("body", "status", "words"), TAG_BAD_REQUESTS, ids=[f"tag {b[2][:30]}" for b in TAG_BAD_REQUESTS]
)
def test_a_bad_tag_request_is_a_4xx_naming_the_problem(tag_client, body, status, words):
    response = tag_client.post("/v1/seg/tag", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_a_tag_run_asked_for_another_verb_names_its_endpoint(tag_client):
    response = tag_client.post("/v1/seg/predict", json={"texts": ["好"]})
    assert response.status_code == 404
    assert response.json()["error"] == "run 'seg' is a tag run: POST /v1/seg/tag, not /predict"


def test_concurrent_tag_requests_are_joined_into_fewer_model_calls_with_the_same_answers(tag_run, tag_app):
    import httpx

    async def many() -> list:
        transport = httpx.ASGITransport(app=tag_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as session:
            return await asyncio.gather(*(session.post("/v1/seg/tag", json={"texts": [t]}) for t in TAG_TEXTS * 6))

    batcher = tag_app.state.batchers["seg"]
    calls = batcher.calls
    responses = asyncio.run(many())
    assert batcher.calls - calls < len(responses)  # joined
    alone = {result["text"]: result for result in load_run(tag_run).tag(TAG_TEXTS)}
    assert [response.json()["tagged"] for response in responses] == [[alone[t]] for t in TAG_TEXTS * 6]


def test_a_real_server_tags_as_the_python_api_under_a_bounded_load(tag_run, tmp_path):
    with running_server([f"--name=seg={tag_run}"], log=tmp_path / "server.log") as url:
        status, answer = post_json(url + "/v1/seg/tag", {"texts": TAG_TEXTS})
        assert status == 200, answer
        assert answer["tagged"] == load_run(tag_run).tag(TAG_TEXTS) and answer["model"] == "bilstm-crf+bigrams"
        status, error = post_json(url + "/v1/seg/tag", {"texts": [""]})
        assert status == 422 and "texts[0]" in error["error"]
        report = load(url, "/v1/seg/tag", [{"texts": [t]} for t in TAG_TEXTS], clients=4, requests=80)
    assert report.statuses == {200: 80} and report.failed == 0


def test_worker_connections_send_without_nagles_delay():
    """``--workers``' shared socket says TCP, so asyncio turns Nagle's algorithm off on each connection
    it accepts (uvicorn's own socket, protocol 0, left it on: ~50 ms per response, waiting for the
    client's delayed acknowledgement)."""
    from lstmkit.serve.workers import WorkerConfig

    listening = WorkerConfig("lstmkit.serve.app:app_from_environment", host="127.0.0.1", port=0).bind_socket()

    async def accepted_nodelay() -> int:
        connected: asyncio.Future = asyncio.get_running_loop().create_future()

        def protocol() -> asyncio.Protocol:
            class Accept(asyncio.Protocol):
                def connection_made(self, transport):
                    option = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                    connected.set_result(option)
                    transport.close()

            return Accept()

        server = await asyncio.get_running_loop().create_server(protocol, sock=listening)
        with socket.create_connection(listening.getsockname()[:2]):
            option = await asyncio.wait_for(connected, 10)
        server.close()
        return option

    with listening:
        assert listening.proto == socket.IPPROTO_TCP
        assert asyncio.run(accepted_nodelay()) != 0


def test_a_bigram_run_answers_as_predict(bigram_sentiment_run):
    run = load_run(bigram_sentiment_run)
    assert run.text_encoder.bigram_vocab is not None
    with TestClient(create_app(load_runs({"bigrams": bigram_sentiment_run}))) as client:
        answer = client.post("/v1/bigrams/predict", json={"texts": TEXTS}).json()
    assert answer["predictions"] == [p.__dict__ for p in run.predict(TEXTS)]
