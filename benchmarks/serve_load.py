"""Load test of ``lstmkit serve``: throughput and latency of one run under concurrent clients.

    python benchmarks/serve_load.py RUN [--clients 1 8 32] [--requests 3000] [--texts 1] [--workers 1]
                                        [--markdown runs/serve_load.md]

``RUN`` is any run directory (``runs/demo`` from ``make demo``, or a translate, forecast, lm or tag run):
its task picks the endpoint and the request bodies (review texts, sentences to translate, primes to
continue, a forecast of the run's own series, texts to tag: the reviews for a Chinese run, the English
sentences for a run on words). Starts ``lstmkit serve RUN`` (``--workers`` processes)
on a free loopback port (nothing outside this machine is contacted), sends ``--requests`` POSTs from
each number of concurrent ``--clients`` (each a keep-alive connection), stops the server, prints one
Markdown row per client count (requests/s, p50 and p99 latency, failures, 5xx) and writes the table
to ``--markdown``. Every request must be answered with 200; the script exits with 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from lstmkit.errors import LstmkitError
from lstmkit.io import check_output_file
from lstmkit.runs import read_run_config, run_task
from lstmkit.serve.loadgen import load, running_server
from lstmkit.serve.runs import VERBS

REVIEWS = [
    "这个手机质量很好，用起来很流畅", "物流太慢了，包装也破了，很失望", "书的内容还不错，就是纸张一般",
    "客服态度差，再也不会买了", "价格实惠，推荐购买", "用了一天就坏了，垃圾", "很喜欢，满意", "太差了，退货",
]  # fmt: skip
SENTENCES = ["I love you.", "Where is the station?", "The cat eats fish.", "We will go home tomorrow."]
PRIMES = ["And God said", "the lord", "In the beginning", "and it came to pass"]
HEADER = "| clients | requests | req/s | p50 ms | p99 ms | failures | 5xx |"


def bodies(task: str, texts: int, characters: bool = True) -> list[dict]:
    """The request bodies sent to a run of ``task`` (cycled), ``texts`` texts each where a task takes texts;
    ``characters``: a tag run reads Chinese characters (else white-space words)."""

    def some(pool: list[str], start: int) -> list[str]:
        return [pool[(start + k) % len(pool)] for k in range(texts)]

    if task == "sentiment" or (task == "tag" and characters):
        return [{"texts": some(REVIEWS, i)} for i in range(len(REVIEWS))]
    if task in ("translate", "tag"):  # (to a tag run on words, English split at white space)
        return [{"texts": some(SENTENCES, i)} for i in range(len(SENTENCES))]
    if task == "lm":
        return [{"prime": prime, "chars": 50, "seed": i} for i, prime in enumerate(PRIMES)]
    return [{}]  # forecast: the run's own series, read by the server at start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="A run directory of any task (e.g. runs/demo).")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=3000, help="Requests per client count.")
    parser.add_argument("--texts", type=int, default=1, help="Texts per request (sentiment, translate, tag).")
    parser.add_argument("--workers", type=int, default=1, help="Server processes (lstmkit serve --workers).")
    parser.add_argument("--markdown", type=Path, default=Path("runs/serve_load.md"), help="Write the table here.")
    args = parser.parse_args()
    try:
        check_output_file(args.markdown, "--markdown")  # before the minutes of load, not after
        task = run_task(args.run)
        characters = task != "tag" or bool(read_run_config(args.run, "tag")["characters"])
    except LstmkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    name, verb = args.run.name, VERBS[task]
    path = f"/v1/{name}/{verb}"
    per_request = f", {args.texts} text(s) per request" if task in ("sentiment", "translate", "tag") else ""
    title = (
        f"lstmkit serve {args.run} ({task}, {args.workers} worker(s)): POST {path}{per_request}, {os.cpu_count()} CPUs"
    )
    lines = [HEADER, "|---" * (HEADER.count("|") - 1) + "|"]
    print(title, *lines, sep="\n", flush=True)
    requests, ok = bodies(task, args.texts, characters), True
    with tempfile.TemporaryDirectory(prefix="serve-load-") as scratch:
        server = [args.run, "--workers", str(args.workers)]
        with running_server(server, log=Path(scratch) / "server.log") as url:
            load(url, path, requests, clients=2, requests=20)  # warm-up: first calls are slower
            for clients in args.clients:
                report = load(url, path, requests, clients=clients, requests=args.requests)
                others = {status: n for status, n in report.statuses.items() if status != 200}
                ok &= report.failed == 0 and not others
                if others:
                    print(f"{clients} clients: answers other than 200: {others}", file=sys.stderr)
                row = (
                    f"| {clients} | {report.requests} | {report.throughput:.0f} | {report.p50_ms:.1f} | "
                    f"{report.p99_ms:.1f} | {report.failed} | {report.server_errors} |"
                )
                lines.append(row)
                print(row, flush=True)
    args.markdown.write_text(f"{title}\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.markdown}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
