"""Streaming (one step at a time) timings for bench_kernels.py; filled in with the streaming API."""

from __future__ import annotations


def streaming_rows(rounds: int) -> list[str]:
    return ["streaming: not measured yet"]
