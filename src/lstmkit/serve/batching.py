"""One model call at a time per run, joining the requests that arrived while the model was busy.

Why serialise: torch already spreads one call over every core (intra-op threads), so two calls on the
same model at once only compete for those cores; and one call at a time per model makes correctness
independent of whether every module (streaming state, buffer pools, ``model.eval()`` inside predict)
is safe to share between threads. The call runs in a worker thread (torch releases the GIL), so the
event loop keeps answering ``/health`` and other runs meanwhile.

Why join: while a call runs, the next requests queue; the next call takes all of them (up to
``max_items``) at once. The first request never waits for company, so a lone client sees no added
latency, and under load the model sees larger batches. A joined call that fails is retried request
by request, so one request's failure is never another's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

__all__ = ["Batcher"]


class Batcher:
    """``await batcher.submit(request)`` -> ``call([request])[0]``, with concurrent requests joined.

    ``call(requests) -> answers`` (same length, same order) runs in a worker thread; ``size(request)``
    counts a request's items (texts) against ``max_items`` per call (a request is never split).
    """

    def __init__(self, call: Callable[[list[Any]], list[Any]], max_items: int, size: Callable[[Any], int]) -> None:
        self.call, self.max_items, self.size = call, max_items, size
        self._pending: list[tuple[Any, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None
        self.calls = 0  # model calls made (a test sees the joining)

    async def submit(self, request: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((request, future))
        # (a worker of a loop that has ended, as between test clients, is never awaited again)
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._worker = asyncio.create_task(self._drain())
        return await future

    def _take(self) -> list[tuple[Any, asyncio.Future]]:
        taken, items = [], 0
        while self._pending and (not taken or items + self.size(self._pending[0][0]) <= self.max_items):
            items += self.size(self._pending[0][0])
            taken.append(self._pending.pop(0))
        return taken

    async def _drain(self) -> None:
        # Only this task pops from _pending, and only on the event loop: no lock is needed.
        while self._pending:
            batch = self._take()
            outcomes = await self._answer([request for request, _ in batch])
            for (_, future), (answer, error) in zip(batch, outcomes):
                if future.done():  # the client went away
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(answer)

    async def _answer(self, requests: list[Any]) -> list[tuple[Any, BaseException | None]]:
        """(answer, None) or (None, error) for each request."""
        try:
            self.calls += 1
            return [(answer, None) for answer in await run_in_threadpool(self.call, requests)]
        except Exception as exc:
            if len(requests) == 1:
                return [(None, exc)]
        outcomes = []
        for request in requests:
            outcomes.extend(await self._answer([request]))
        return outcomes
