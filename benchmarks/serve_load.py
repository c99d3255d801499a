"""Load test of ``lstmkit serve``: throughput and latency of a sentiment run under concurrent clients.

    python benchmarks/serve_load.py RUN [--clients 1 8 32] [--requests 3000] [--texts 1] [--markdown table.md]

Starts ``lstmkit serve RUN`` on a free loopback port (nothing outside this machine is contacted),
sends ``--requests`` POSTs to ``/v1/{run}/predict`` from each number of concurrent ``--clients``
(each a keep-alive connection, each request ``--texts`` review texts), stops the server, and prints
one row per client count: requests, HTTP statuses, failures, throughput, p50/p99 latency, and the
throughput relative to one client (what joining concurrent requests into one model call buys).
Every row must show zero failed requests and zero 5xx; the script exits with 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from lstmkit.serve.loadgen import load, running_server

REVIEWS = [
    "这个手机质量很好，用起来很流畅", "物流太慢了，包装也破了，很失望", "书的内容还不错，就是纸张一般",
    "客服态度差，再也不会买了", "价格实惠，推荐购买", "用了一天就坏了，垃圾", "很喜欢，满意", "太差了，退货",
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="A sentiment run directory.")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=3000, help="Requests per client count.")
    parser.add_argument("--texts", type=int, default=1, help="Texts per request.")
    parser.add_argument("--markdown", type=Path, help="Also write the table to this Markdown file.")
    args = parser.parse_args()
    name = args.run.name
    bodies = [{"texts": [REVIEWS[(i + k) % len(REVIEWS)] for k in range(args.texts)]} for i in range(len(REVIEWS))]
    header = "| clients | requests | statuses | failed | requests/s | p50 ms | p99 ms | throughput vs 1 client |"
    lines = [header, "|---" * (header.count("|") - 1) + "|"]
    print(f"lstmkit serve {args.run}: POST /v1/{name}/predict, {args.texts} text(s) per request, {os.cpu_count()} CPUs")
    print(header)
    print(lines[1])
    baseline, ok = None, True
    with tempfile.TemporaryDirectory(prefix="serve-load-") as scratch:
        with running_server([args.run], log=Path(scratch) / "server.log") as url:
            load(url, f"/v1/{name}/predict", bodies, clients=2, requests=50)  # warm-up: first calls are slower
            for clients in args.clients:
                report = load(url, f"/v1/{name}/predict", bodies, clients=clients, requests=args.requests)
                baseline = baseline or report.throughput
                ok &= report.failed == 0 and report.server_errors == 0
                statuses = ", ".join(f"{status}: {count}" for status, count in sorted(report.statuses.items()))
                row = (
                    f"| {clients} | {report.requests} | {statuses} | {report.failed} | {report.throughput:.0f} | "
                    f"{report.p50_ms:.1f} | {report.p99_ms:.1f} | {report.throughput / baseline:.2f}x |"
                )
                lines.append(row)
                print(row, flush=True)
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
