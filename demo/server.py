"""A static news site on loopback: the bundled demo site, also served to the tests.

Absolute links written as ``http://demo.news.test`` in the pages are rewritten
to the server's own address, so canonical URLs and images stay on the site.
Dates written as ``{{ago:3h:iso}}`` (units m, h, d; formats iso, rfc822, date)
are rendered relative to the time of the request, so that feeds, sitemaps and
articles stay fresh or old by design. ``X.xml.gz`` is served gzipped from
``X.xml`` when no such file exists. A few routes misbehave on purpose (wrong
charset header, redirect loop, slow pages, an endless calendar, generated
articles) so that crawls can be tested against them. Every request path is
recorded in ``SiteServer.requests``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import ipaddress
import mimetypes
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITE = Path(__file__).resolve().parent / "site"
PLACEHOLDER_HOST = b"http://demo.news.test"

# Pages served with a header that contradicts their bytes.
HEADER_OVERRIDES = {
    "/broken/wrong-charset-header.html": {"Content-Type": "text/html; charset=utf-8"},
}
_GENERATED = re.compile(r"^/generated/(\d+)\.html$")
_CALENDAR = re.compile(r"^/daily/calendar/(?:(\d{4}-\d{2}-\d{2})/)?$")
_AGO = re.compile(rb"\{\{ago:(\d+)([mhd]):(iso|rfc822|date)\}\}")
_TEXT_SUFFIXES = {".html", ".xml", ".json", ".txt", ".rss", ".atom"}
_UNITS = {b"m": "minutes", b"h": "hours", b"d": "days"}


def render_dates(body: bytes, now: datetime | None = None) -> bytes:
    """Replace ``{{ago:N<unit>:<format>}}`` with that moment before ``now``."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)

    def moment(match: re.Match[bytes]) -> bytes:
        when = now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        kind = match.group(3)
        if kind == b"iso":
            return when.isoformat().encode()
        if kind == b"rfc822":
            return format_datetime(when).encode()
        return when.date().isoformat().encode()

    return _AGO.sub(moment, body)


_GENERATED_TEMPLATE = "2023/09/04/harbour-bridge-reopens/index.html"


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        with self.server.lock:
            self.server.requests.append(self.path)
            self.server.times.append(time.monotonic())
            self.server.user_agents.add(self.headers.get("User-Agent", ""))
        if self.server.delay:
            time.sleep(self.server.delay)
        if path.startswith("/loop/"):
            # Two URLs redirecting to each other for ever.
            target = "/loop/b" if path == "/loop/a" else "/loop/a"
            self._send(HTTPStatus.FOUND, b"", {"Location": target, "Content-Type": "text/html"})
            return
        if path.startswith("/trouble/"):
            self._trouble(path)
            return
        calendar = _CALENDAR.match(path)
        if calendar:
            self._send(
                HTTPStatus.OK, self._calendar(calendar.group(1)), {"Content-Type": "text/html; charset=utf-8"}
            )
            return
        if path == "/generated/":
            # a listing of N generated articles, for long crawls
            query = urlsplit(self.path).query
            number = int(query.split("count=", 1)[1].split("&")[0]) if "count=" in query else 50
            links = "".join(f'<li><a href="/generated/{n}.html">Story {n}</a></li>' for n in range(number))
            body = (
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>All stories</title>'
                f'<meta property="og:type" content="website"></head><body><ul>{links}</ul></body></html>'
            )
            self._send(HTTPStatus.OK, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
            return
        generated = _GENERATED.match(path)
        if generated:
            self._send(HTTPStatus.OK, self._generated(int(generated.group(1))), {"Content-Type": "text/html"})
            return
        file = self._resolve(path)
        if file is None and path.endswith(".gz"):
            source = self._resolve(path[: -len(".gz")])
            if source is not None:
                body = gzip.compress(self._render(source.read_bytes()), mtime=0)
                self._send(HTTPStatus.OK, body, {"Content-Type": "application/x-gzip"})
                return
        if file is None:
            self._send(HTTPStatus.NOT_FOUND, b"<html><body><h1>Not found</h1></body></html>",
                       {"Content-Type": "text/html; charset=utf-8"})  # fmt: skip
            return
        body = file.read_bytes()
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix in _TEXT_SUFFIXES:
            body = self._render(body)
        headers = {"Content-Type": content_type}
        headers.update(HEADER_OVERRIDES.get(path, {}))
        self._send(HTTPStatus.OK, body, headers)

    def _trouble(self, path: str) -> None:
        """Responses that must end as a counted drop, never as a crashed crawl."""
        if path == "/trouble/server-error":
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR, b"<h1>Internal error</h1>", {"Content-Type": "text/html"}
            )
        elif path == "/trouble/huge":
            # larger than the DOWNLOAD_MAXSIZE the tests set
            self._send(HTTPStatus.OK, b"<html><body>" + b"<p>word </p>" * 200_000 + b"</body></html>",
                       {"Content-Type": "text/html"})  # fmt: skip
        elif path == "/trouble/binary-as-html":
            noise = bytes((i * 7919 + 13) % 256 for i in range(20_000))
            self._send(HTTPStatus.OK, noise, {"Content-Type": "text/html"})
        elif path == "/trouble/slow":
            time.sleep(3)
            self._send(HTTPStatus.OK, b"<html><body><p>late</p></body></html>", {"Content-Type": "text/html"})
        elif path == "/trouble/malformed":
            body = (SITE / "de/2023/09/04/stadtrat-radwege.html").read_bytes()
            # cut in the middle of the body, unclosed tags, stray bytes
            self._send(
                HTTPStatus.OK, body[: len(body) // 2] + b"<div><p><b>\xff\xfe<", {"Content-Type": "text/html"}
            )
        else:
            self._send(HTTPStatus.NOT_FOUND, b"", {"Content-Type": "text/html"})

    def _render(self, body: bytes) -> bytes:
        return render_dates(body.replace(PLACEHOLDER_HOST, self.server.base_url.encode("ascii")))

    def _calendar(self, day: str | None) -> bytes:
        """An endless events calendar: every day links to the next and the previous one."""
        current = datetime.strptime(day, "%Y-%m-%d").date() if day else datetime.now(timezone.utc).date()
        links = "".join(
            f'<li><a href="/daily/calendar/{current + timedelta(days=step)}/">{current + timedelta(days=step)}</a></li>'
            for step in (-1, 1, 7, 30)
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Events calendar | The Daily Lantern'
            '</title><meta property="og:type" content="website"></head><body><h1>Events on '
            f"{current}</h1><p>No events listed for this day.</p><ul>{links}</ul></body></html>"
        ).encode()

    def _resolve(self, path: str) -> Path | None:
        root = self.server.root
        candidate = (root / path.lstrip("/")).resolve()
        if root not in candidate.parents and candidate != root:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _generated(self, number: int) -> bytes:
        """A distinct article per number, built from a demo article, for long crawls."""
        template = (SITE / _GENERATED_TEMPLATE).read_text(encoding="utf-8")
        template = template.replace("Harbour bridge reopens", f"Harbour bridge story {number} reopens")
        template = template.replace("</p>", f" Report number {number}.</p>", 3)
        template = template.replace("http://demo.news.test/2023/09/04/harbour-bridge-reopens/",
                                    f"{self.server.base_url}/generated/{number}.html")  # fmt: skip
        return template.replace("http://demo.news.test", self.server.base_url).encode("utf-8")

    def _send(self, status: HTTPStatus, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up early (size limits, timeouts) are expected here.
        pass

    def __init__(self, root: Path = SITE, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0):
        super().__init__((host, port), SiteHandler)
        self.requests: list[str] = []
        self.times: list[float] = []  # when each of `requests` arrived (time.monotonic)
        self.user_agents: set[str] = set()
        self.lock = threading.Lock()
        self.root = root.resolve()
        self.delay = delay
        self.base_url = f"http://{host}:{self.server_address[1]}"


@contextlib.contextmanager
def running_site(root: Path = SITE, port: int = 0, delay: float = 0.0) -> Iterator[SiteServer]:
    """Serve ``root`` on 127.0.0.1 in a background thread for the duration of the block."""
    server = SiteServer(root, port=port, delay=delay)
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo news site on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="a loopback address (127.0.0.0/8): sites of their own on one machine",
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each response")
    parser.add_argument(
        "--root", type=Path, default=SITE, help="the folder to serve (default: the demo site)"
    )
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error(f"--host {args.host}: only loopback addresses (127.0.0.0/8) are served")
    server = SiteServer(root=args.root, host=args.host, port=args.port, delay=args.delay)
    print(f"Serving {server.root} at {server.base_url}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
