"""How a run scales with the number of sources: `scrapy crawlall` over N sources.

    .venv/bin/python -m bench.sources                    # 1,000, 5,000 and 20,000 sources
    .venv/bin/python -m bench.sources --sources 2000     # one size
    .venv/bin/python -m bench.sources --sitemaps         # 1,000, 3,000, 5,000 sources, a sitemap each

With --sitemaps each source has one sitemap URL on the same local host, answering 404 (a
feed or sitemap that moved: what an aggregator with thousands of sources meets every run),
crawled with `scrapy crawl news -s DOWNLOAD_DELAY=0 -s CONCURRENT_REQUESTS=16` and the
other settings at their defaults (AutoThrottle on). Printed: the run's wall time and the
CPU time of the crawl process, whose ratio shows whether the run waits or works.

Each source is one start page on a local server (127.0.0.1, a separate thread
pool), a small page with no links, so the crawl itself is short and what grows
with N is the per-source bookkeeping: stats, the run summary, its log lines, the
metrics file. For each N it prints the whole run's wall time and the closing
time: from the last page served to the end of the process (the summary, the
metrics and the stats dump happen there). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = b"<html><head><title>Source home</title></head><body><p>Nothing new today.</p></body></html>"


class _Server:
    def __init__(self) -> None:
        self.last_request = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, each response waits for the
                # client's delayed ACK (40 ms), and the server, not the crawl, sets the pace
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                server.last_request = time.monotonic()
                if self.path.endswith("/sitemap.xml"):
                    body = b"not found"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else PAGE
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _project(sources_toml: str) -> dict[str, str]:
    """A fresh folder with the sources file, output and state; the environment that points at it."""
    work = Path(tempfile.mkdtemp(prefix="bench-sources-"))
    (work / "sources.toml").write_text(sources_toml)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(
        NEWS_SOURCES=str(work / "sources.toml"),
        NEWS_OUTPUT=str(work / "output"),
        NEWS_STATE=str(work / "state.sqlite"),
        NEWS_METRICS_FILE=str(work / "metrics.prom"),
        NEWS_ALLOW_PRIVATE_NETWORKS="true",
    )
    return env


def run(sources: int, server: _Server) -> tuple[float, float, int]:
    env = _project(
        "".join(f'[sources.s{n:05d}]\nstart_urls = ["{server.base}/s{n}/"]\n' for n in range(sources))
    )
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawlall", "-s", "LOG_LEVEL=WARNING", "-s", "CONCURRENT_REQUESTS=64",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=64", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=false"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    ended = time.monotonic()
    return ended - started, ended - server.last_request, process.returncode


def run_sitemaps(sources: int, server: _Server) -> tuple[float, float, int]:
    """A crawl of ``sources`` sources with one (missing) sitemap each: wall and CPU seconds, exit code."""
    env = _project(
        "".join(
            f'[sources.s{n:05d}]\nsitemaps = ["{server.base}/s{n}/sitemap.xml"]\n' for n in range(sources)
        )
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-s", "LOG_LEVEL=WARNING", "-s", "DOWNLOAD_DELAY=0",
         "-s", "CONCURRENT_REQUESTS=16"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sources", type=int, action="append", help="source counts (default 1000, 5000, 20000)"
    )
    parser.add_argument("--sitemaps", action="store_true", help="sources with one missing sitemap each")
    args = parser.parse_args(argv)
    server = _Server()
    if args.sitemaps:
        # exit 1 is expected: every sitemap fails, and the run says so
        print(f"{'sources':>8} {'wall s':>8} {'CPU s':>8} {'wall/CPU':>9} {'exit':>5}")
        for count in args.sources or [1000, 3000, 5000]:
            wall, cpu, code = run_sitemaps(count, server)
            print(f"{count:>8} {wall:>8.1f} {cpu:>8.1f} {wall / cpu:>9.2f} {code:>5}", flush=True)
        return 0
    print(f"{'sources':>8} {'run s':>8} {'closing s':>10} {'exit':>5}")
    for count in args.sources or [1000, 5000, 20000]:
        total, closing, code = run(count, server)
        print(f"{count:>8} {total:>8.1f} {closing:>10.1f} {code:>5}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
