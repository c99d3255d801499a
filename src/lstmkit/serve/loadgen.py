"""A real server in a subprocess, and a bounded load test against it (standard library only).

``running_server([run, ...])`` starts ``lstmkit serve`` on a free loopback port, waits for
``/health`` and stops the process on exit; ``load(url, path, bodies, clients, requests)`` sends a
fixed number of POSTs from concurrent clients (one keep-alive connection each) and reports
throughput and latency percentiles. Used by ``benchmarks/serve_load.py`` and the tests.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

__all__ = ["LoadReport", "free_port", "running_server", "load", "post_json"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the OS picks it; uvicorn cannot report a ``--port 0`` choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(args: Sequence[str], timeout: float = 120.0, log: Path | None = None) -> Iterator[str]:
    """``lstmkit serve *args`` on a free loopback port; yields its base URL once ``/health`` answers,
    and stops it on exit (its output goes to ``log``, or is dropped)."""
    port = free_port()
    command = [sys.executable, "-m", "lstmkit", "serve", *map(str, args), "--port", str(port)]
    output = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                said = f": {log.read_text()[-2000:]}" if log is not None else ""
                raise RuntimeError(
                    f"lstmkit serve exited with code {process.returncode} before answering /health{said}"
                )
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"lstmkit serve did not answer {url}/health within {timeout:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not None:
            output.close()


def post_json(url: str, body: dict, timeout: float = 30.0) -> tuple[int, dict]:
    """POST ``body`` as JSON; (status, decoded JSON answer), errors included."""
    request = urllib.request.Request(
        url, json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@dataclass
class LoadReport:
    """What ``load`` measured: counts, wall time, and latency percentiles in milliseconds."""

    requests: int
    clients: int
    statuses: dict[int, int]  # HTTP status -> count
    failed: int  # no HTTP answer at all (connection refused, reset, timed out)
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def throughput(self) -> float:
        """Answered requests per second."""
        return (self.requests - self.failed) / self.seconds

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def load(url: str, path: str, bodies: Sequence[dict], clients: int = 8, requests: int = 2000) -> LoadReport:
    """``requests`` POSTs to ``url + path`` from ``clients`` threads, each request the next of ``bodies``
    (cycled); stops once all were sent. Loopback only: ``url`` must name this machine."""
    target = urlsplit(url)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"url: the load test only targets this machine (loopback), got {url!r}")
    if clients < 1 or requests < 1 or not bodies:
        raise ValueError(f"need clients >= 1, requests >= 1 and bodies, got {clients}, {requests}, {len(bodies)}")
    encoded = [json.dumps(body).encode() for body in bodies]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    failed = 0
    counter = iter(range(requests))
    guard = threading.Lock()

    def client() -> None:
        nonlocal failed
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while True:
            with guard:
                index = next(counter, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                connection.request("POST", path, encoded[index % len(encoded)], {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()  # reconnect on the next request
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                status = None
            elapsed = time.perf_counter() - started
            with guard:
                if status is None:
                    failed += 1
                else:
                    statuses[status] += 1
                    latencies.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000 if latencies else (float("nan"), float("nan"))
    return LoadReport(requests, clients, dict(statuses), failed, seconds, float(p50), float(p99))
