"""A hostile web server on 127.0.0.1: pages and responses built to break a crawler.

One server for the whole hostile-input test module: each case is a route with
its own status, headers and body (bytes, or a function of the request count
for responses that change, such as a 429 followed by a 200). Every request is
logged with its arrival time, so tests can check what was fetched and when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})


# A route is a fixed reply, or a function of how many times it was requested before (0, 1, ...).
Route = Reply | Callable[[int], Reply]


@dataclass
class HostileServer:
    routes: dict[str, Route]
    base_url: str = ""
    requests: list[tuple[float, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def times(self, path: str) -> list[float]:
        """When ``path`` was requested (monotonic seconds)."""
        with self._lock:
            return [at for at, requested in self.requests if requested == path]

    def reply(self, path: str) -> Reply:
        with self._lock:
            before = sum(1 for _, requested in self.requests if requested == path)
            self.requests.append((time.monotonic(), path))
        route = self.routes.get(path)
        if route is None:
            return Reply(b"not found", 404, {"Content-Type": "text/plain"})
        return route(before) if callable(route) else route


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            reply = server.reply(urlsplit(self.path).path)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            # the client may stop reading (a robots.txt read up to its limit)
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def hostile_server(routes: dict[str, Route], host: str = "127.0.0.1") -> Iterator[HostileServer]:
    """The server on ``host`` (any address of 127.0.0.0/8: sites of their own on one machine)."""
    server = HostileServer(routes)
    httpd = ThreadingHTTPServer((host, 0), _handler(server))
    httpd.daemon_threads = True
    server.base_url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
