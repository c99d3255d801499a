"""``lstmkit serve --workers N``: uvicorn's worker processes on a listening socket whose connections
send small responses at once. Imported only once the ``lstmkit[serve]`` extra is known to be there.

uvicorn binds the shared socket of its workers with protocol 0, and every connection accepted from it
inherits that protocol; asyncio switches Nagle's algorithm off (``TCP_NODELAY``) only on sockets whose
protocol is ``IPPROTO_TCP``. So each response (headers, then body) waited for the client's delayed
acknowledgement: a flat ~50 ms per request at any load, measured with ``benchmarks/serve_load.py
--workers 2`` (21 req/s for one client, against 275 from one process). The socket bound here says TCP,
so the workers' connections are as prompt as the single process's.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["WorkerConfig", "run_workers"]


class WorkerConfig(uvicorn.Config):
    """uvicorn's configuration, binding its TCP socket with protocol ``IPPROTO_TCP``. (A module-level
    class: each worker process receives the configuration pickled.)"""

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound  # (a Unix socket has no Nagle's algorithm)
        tcp = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
        tcp.set_inheritable(True)
        return tcp


def run_workers(app: str, host: str, port: int, workers: int) -> None:
    """Serve the ASGI app factory ``app`` ("module:function") from ``workers`` processes on ``host:port``
    until interrupted, as ``uvicorn.run(app, factory=True, workers=workers)`` does."""
    config = WorkerConfig(app, factory=True, host=host, port=port, workers=workers)
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
