"""A TCP proxy on 127.0.0.1 that holds every chunk a client sends for ``delay`` seconds: a slow S3."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def _pipe(source: socket.socket, target: socket.socket, delay: float) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            if delay:
                time.sleep(delay)
            target.sendall(chunk)
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextmanager
def slow_proxy(upstream_port: int, delay: float) -> Iterator[str]:
    """``http://127.0.0.1:<port>``, forwarding to ``upstream_port`` with each request chunk delayed."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopped = threading.Event()

    def serve() -> None:
        while not stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            threading.Thread(target=_pipe, args=(client, upstream, delay), daemon=True).start()
            threading.Thread(target=_pipe, args=(upstream, client, 0.0), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopped.set()
        listener.close()
