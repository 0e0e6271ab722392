"""Hostile state (issue 19's risks): a PostgreSQL state that restarts in the middle of a crawl, a
worker cut off from its database session, and shard workers sharing one SQLite state.

Real servers: PostgreSQL of this module's own (tests/pgserver.py; these tests stop and start it),
the one-publisher site of tests/template_site.py on loopback addresses, crawled with
``scrapy crawlall`` in a subprocess as cron would run it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest

from crawler.state.access import open_store
from crawler.state.sqlite import SqliteStateStore
from crawler.state.store import group_lock_key
from tests import pgserver
from tests import template_site as site_pages
from tests.crawling import REPO, crawl_env, read_parts, run_summary, scrapy_command
from tests.hostile import HostileServer, Reply, hostile_server

ARTICLES = 30
ARTICLE_PREFIX = "/news/2026/"


@pytest.fixture(scope="module")
def pg() -> Iterator[pgserver.PgServer]:
    """A server of this module's own: its tests stop and start it."""
    with pgserver.server_for_tests() as server:
        yield server


@pytest.fixture
def gazette() -> Iterator[HostileServer]:
    """The Gazette, its home page listing articles 0 to 29."""
    routes = site_pages.routes()
    routes["/"] = Reply(site_pages.index(range(ARTICLES)))
    with hostile_server(routes) as server:
        yield server


def gazette_sources(server: HostileServer, path: Path) -> Path:
    path.write_text(
        f'[sources.gazette]\nstart_urls = ["{server.url("/")}"]\nmax_depth = 1\nallow = ["{ARTICLE_PREFIX}"]\n'
    )
    return path


def article_requests(server: HostileServer) -> list[float]:
    """When each article page was requested (monotonic seconds)."""
    with server._lock:
        return [at for at, path in server.requests if path.startswith(ARTICLE_PREFIX)]


class Crawl:
    """A ``crawlall`` in the background, its log in a file (a pipe nobody reads would stall it)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str):
        self.log = log
        with log.open("w") as handle:
            self.process = subprocess.Popen(
                scrapy_command("crawlall", *args), cwd=REPO, env=env, stderr=handle, text=True
            )

    @property
    def err(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Any, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"the crawl ended before {what}: {self.err[-3000:]}"
            assert time.monotonic() < deadline, f"never {what}"
            time.sleep(0.02)

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, self.err


def slow_crawl(env: dict[str, str], log: Path, *args: str) -> Crawl:
    """``crawlall`` at one article every 0.3 s: long enough to be interrupted in the middle."""
    return Crawl(
        env,
        log,
        *args,
        "-s",
        "DOWNLOAD_DELAY=0.3",
        "-s",
        "AUTOTHROTTLE_ENABLED=false",
        "-s",
        "NEWS_SINK_MAX_ITEMS=5",
    )


# --- a PostgreSQL restart during the crawl ---------------------------------------------------


def test_a_postgresql_restart_mid_crawl_is_waited_out(
    pg: pgserver.PgServer, gazette: HostileServer, tmp_path: Path
) -> None:
    # the default NEWS_STATE_RETRY_SECONDS (30) covers a restart of up to 30 s: the crawl pauses
    # while the database is away, and no page is lost or counted as failed because of it (the
    # restart of the issue took 4 s; this one 18)
    outage = 18
    output = tmp_path / "output"
    env = crawl_env(
        NEWS_SOURCES=str(gazette_sources(gazette, tmp_path / "sources.toml")),
        NEWS_STATE=pg.new_database(),
        NEWS_OUTPUT=str(output),
    )
    crawl = slow_crawl(env, tmp_path / "crawl.log")
    try:
        crawl.wait_for(lambda: len(article_requests(gazette)) >= 5, "five articles were requested")
        stopped_at = time.monotonic()
        with pg.stopped():
            time.sleep(outage)
        back_at = time.monotonic()
    finally:
        returncode, err = crawl.finish()
    requested = article_requests(gazette)
    # the database went away in the middle of the crawl, not before or after it
    assert 5 <= sum(at < stopped_at for at in requested) < ARTICLES, err[-3000:]
    assert sum(at > back_at for at in requested) >= 10, err[-3000:]
    assert returncode == 0, err[-5000:]
    assert "Traceback" not in err
    records = read_parts(output)
    expected = sorted(gazette.url(site_pages.article_path(n)) for n in range(ARTICLES))
    assert sorted(r["canonical_url"] for r in records) == expected  # every article, once
    summary = run_summary(output)
    assert summary["status"] == "ok" and summary["problems"] == []
    assert summary["dropped"].get("fetch_error", 0) == 0, summary["dropped"]
    assert not any(key.startswith("news/skipped/state_unavailable") for key in summary["stats"])
    # one line when the waiting starts, one when the database answers again, after all of its absence
    assert err.count("does not answer") == 1, err[-5000:]
    waited = [float(seconds) for seconds in re.findall(r"answers again after ([0-9.]+) s", err)]
    assert len(waited) == 1 and waited[0] >= outage, err[-5000:]


def test_a_run_told_to_stop_does_not_wait_for_the_database(
    pg: pgserver.PgServer, gazette: HostileServer, tmp_path: Path
) -> None:
    # SIGTERM bounds a run's end (NEWS_SHUTDOWN_GRACE) even while it waits for its state
    env = crawl_env(
        NEWS_SOURCES=str(gazette_sources(gazette, tmp_path / "sources.toml")),
        NEWS_STATE=pg.new_database(),
        NEWS_OUTPUT=str(tmp_path / "output"),
        NEWS_STATE_RETRY_SECONDS="600",
    )
    crawl = slow_crawl(env, tmp_path / "crawl.log")
    try:
        crawl.wait_for(lambda: len(article_requests(gazette)) >= 5, "five articles were requested")
        with pg.stopped():
            crawl.wait_for(lambda: "does not answer" in crawl.err, "the crawl waited for the database")
            crawl.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                crawl.process.wait(timeout=120)
            stopped_while_away = crawl.process.poll() is not None
    finally:
        returncode, err = crawl.finish()
    assert stopped_while_away, err[-3000:]  # it did not wait out its 600 s for the database
    assert "and the run is stopping: giving up" in err, err[-5000:]
    assert returncode == 1  # what it could not record is fetched again by the next run


# --- a worker cut off from its session ----------------------------------------------------------


class PartitionProxy:
    """A TCP proxy to a local port. ``cut()`` ends the client's side of every connection so far and
    leaves the server's side open: a network failure the server has not noticed (it keeps the
    session, and the session's locks)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.cut_off = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.pairs.append((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)

    def cut(self) -> None:
        for client, _upstream in self.pairs:  # the server's side stays open: nothing reaches it
            with suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def close(self) -> None:
        self.listener.close()
        for client, upstream in self.pairs:
            client.close()
            upstream.close()


def test_a_worker_cut_off_from_its_session_takes_its_group_locks_back(pg: pgserver.PgServer) -> None:
    url = pg.new_database()
    proxy = PartitionProxy(pg.port)
    store = open_store(url.replace(f":{pg.port}/", f":{proxy.port}/"))
    rival = open_store(url)
    try:
        assert store.try_lock_group("bbc.co.uk") is True
        proxy.cut()
        # the server still keeps the old session, and with it the lock
        assert rival.try_lock_group("bbc.co.uk") is False
        story = {
            "canonical_url": "https://news.example/story-1", "url": "https://news.example/story-1",
            "id": "id-1", "content_hash": "hash-1", "version": 1, "fetched_at": "2026-12-01T11:00:00Z",
            "published_at": None, "published_date": "2026-12-01",
        }  # fmt: skip
        store.record_emitted([story])  # finds its connection lost, and connects again
        assert rival.get("https://news.example/story-1") is not None
        # the worker holds its group again: no problem for its run, and no other worker can take it
        assert store.check() is None
        assert rival.try_lock_group("bbc.co.uk") is False
        store.unlock_groups()
        assert rival.try_lock_group("bbc.co.uk") is True
    finally:
        store.close()
        rival.close()
        proxy.close()


# --- a group lock another worker takes while the database is away ---------------------------------


def test_a_group_whose_lock_went_to_another_worker_is_not_crawled_on(
    pg: pgserver.PgServer, gazette: HostileServer, tmp_path: Path
) -> None:
    url = pg.new_database()
    database = url.rsplit("/", 1)[1]
    output = tmp_path / "output"
    env = crawl_env(
        NEWS_SOURCES=str(gazette_sources(gazette, tmp_path / "sources.toml")),
        NEWS_STATE=url,
        NEWS_OUTPUT=str(output),
    )
    crawl = slow_crawl(
        env, tmp_path / "crawl.log"
    )  # a PostgreSQL state: the site group 127.0.0.1 under its lock
    try:
        crawl.wait_for(lambda: len(article_requests(gazette)) >= 5, "five articles were requested")
        with pg.admin(database) as other_worker:
            # the worker's connection fails and it cannot log in again at once; meanwhile another
            # worker takes the group
            other_worker.execute(f"ALTER ROLE {pgserver.USER} NOLOGIN")
            try:
                other_worker.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                    (database, pgserver.USER),
                )
                other_worker.execute("SELECT pg_advisory_lock(%s)", (group_lock_key("127.0.0.1"),))
            finally:
                other_worker.execute(f"ALTER ROLE {pgserver.USER} LOGIN")
            taken = len(article_requests(gazette))
            returncode, err = crawl.finish()
    finally:
        crawl.finish()
    assert taken < ARTICLES
    assert returncode == 1, err[-5000:]
    assert "Traceback" not in err
    summary = run_summary(output)
    assert any("site group '127.0.0.1'" in problem for problem in summary["problems"]), summary["problems"]
    written = read_parts(output)
    assert len(written) == len({r["canonical_url"] for r in written})
    # from the loss on, nothing more of the site is used: at most the article or two between the
    # fetches and the writes when it showed; every other article is counted, none as a fetch error
    assert len(written) <= taken + 2, f"{len(written)} articles written, {taken} fetched when the lock went"
    assert len(written) + summary["stats"]["news/skipped/group_lock_lost"] == ARTICLES
    assert summary["dropped"].get("fetch_error", 0) == 0, summary["dropped"]


# --- shard workers sharing one SQLite state --------------------------------------------------------

SITES = 4


@pytest.fixture
def sites() -> Iterator[list[HostileServer]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(hostile_server(site_pages.routes(), f"127.0.0.{2 + n}")) for n in range(SITES)
        ]


def test_the_same_shard_twice_on_one_sqlite_state_crawls_each_site_once(
    sites: list[HostileServer], tmp_path: Path
) -> None:
    # each worker its own run lock (NEWS_LOCK_FILE), as workers sharing a state on one machine
    # must have: only the site group locks keep the second off the first one's sites
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "".join(
            f'[sources.site{n}]\nstart_urls = ["{server.url(f"/index-{n}.html")}"]\n'
            f'max_depth = 1\nallow = ["{ARTICLE_PREFIX}"]\n'
            for n, server in enumerate(sites)
        )
    )
    output = tmp_path / "output"
    env = crawl_env(
        NEWS_SOURCES=str(sources), NEWS_STATE=str(tmp_path / "state" / "news.sqlite"), NEWS_OUTPUT=str(output),
        NEWS_BOILERPLATE_LEARN="false",
    )  # fmt: skip
    first = Crawl(
        env, tmp_path / "first.log", "--shard", "0/2", "-s", f"NEWS_LOCK_FILE={tmp_path / 'first.lock'}",
        "-s", "DOWNLOAD_DELAY=2", "-s", "AUTOTHROTTLE_ENABLED=false",
    )  # fmt: skip
    try:
        first.wait_for(lambda: any(article_requests(site) for site in sites), "an article was requested")
        second = subprocess.run(
            scrapy_command("crawlall", "--shard", "0/2", "-s", f"NEWS_LOCK_FILE={tmp_path / 'second.lock'}"),
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        # the two ran at the same time: the first was still crawling when the second ended
        assert first.process.poll() is None
    finally:
        returncode, err = first.finish()
    assert returncode == 0, err[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stderr.count("is being crawled by another worker") == 2  # both site groups of shard 0
    crawled = [site for site in sites if article_requests(site)]
    assert len(crawled) == 2  # shard 0's two sites
    for site in crawled:  # every article of each, requested once
        assert len(article_requests(site)) == 10
    records = read_parts(output)
    assert len(records) == len({r["canonical_url"] for r in records}) == 20
    summaries = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    assert sorted(s["pages_fetched"] for s in summaries) == [0, 22]  # index pages and articles, one run


HOLDER = """
import os, sys, time
from crawler.state.sqlite import SqliteStateStore
store = SqliteStateStore(sys.argv[1])
assert store.try_lock_group("elpais.com")
if os.fork() == 0:  # a child (as the extraction pool's workers are) outlives its parent
    time.sleep(60)
    os._exit(0)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_sqlite_group_lock_is_one_workers_and_goes_with_its_process(tmp_path: Path) -> None:
    state = tmp_path / "state" / "news.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)], cwd=REPO, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    store = SqliteStateStore(state)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert store.try_lock_group("elpais.com") is False  # another worker holds it
        assert store.try_lock_group("lemonde.fr") is True
        holder.send_signal(signal.SIGKILL)  # no unlock, no close; its forked child lives on
        holder.wait(timeout=30)
        assert store.try_lock_group("elpais.com") is True
        # in one process too, two stores exclude each other; released, the group is free again
        other = SqliteStateStore(state)
        assert other.try_lock_group("lemonde.fr") is False
        store.unlock_groups()
        assert other.try_lock_group("lemonde.fr") is True
        other.close()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        store.close()


# --- group locks of a shard with many site groups ----------------------------------------------

FILE_LIMIT = 1024  # the usual soft limit of open files (ulimit -n) on Linux hosts
# a crawl under a lower limit, with more site groups than it: the same as 1,200 under 1,024, faster
CRAWL_FILE_LIMIT = 256
DEAD_SOURCES = 299  # with the gazette, 300 site groups in one shard


def with_file_limit(command: list[str], limit: int = FILE_LIMIT) -> list[str]:
    """``command`` under a soft limit of ``limit`` open files (set by the shell that runs it)."""
    return ["bash", "-c", f'ulimit -Sn {limit} && exec "$@"', "bash", *command]


def _dead_address(n: int) -> str:
    """A loopback address of its own for source n (a site group of its own), where nothing listens."""
    return f"127.1.{n // 250}.{n % 250 + 1}"


MANY_LOCKS = """
import os, sys
from crawler.state.sqlite import SqliteStateStore
store = SqliteStateStore(sys.argv[1])
before = len(os.listdir("/proc/self/fd"))
taken = sum(store.try_lock_group(f"site{n}.example") for n in range(int(sys.argv[2])))
import resource
print(taken, len(os.listdir("/proc/self/fd")) - before, resource.getrlimit(resource.RLIMIT_NOFILE)[0], flush=True)
sys.stdin.readline()  # held until the test has looked
"""


def test_a_sqlite_store_holds_thousands_of_group_locks_with_one_descriptor(tmp_path: Path) -> None:
    state = tmp_path / "state" / "news.sqlite"
    holder = subprocess.Popen(
        with_file_limit([sys.executable, "-c", MANY_LOCKS, str(state), "5000"]), cwd=REPO, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    store = SqliteStateStore(state)
    try:
        line = holder.stdout.readline()
        assert line, holder.stderr.read()[-3000:]
        taken, descriptors, limit = map(int, line.split())
        assert limit == FILE_LIMIT
        assert taken == 5000  # each group taken, under a limit of 1,024 open files
        assert descriptors <= 1  # the lock file, once
        # held for real: another worker gets none of them, and every other group
        assert not any(store.try_lock_group(f"site{n}.example") for n in (0, 1234, 4999))
        assert store.try_lock_group("site5000.example") is True
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        assert store.try_lock_group("site1234.example") is True  # gone with the process
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        store.close()
    assert list((tmp_path / "state" / "news.sqlite.groups").iterdir()) == []  # released: no file left


def test_a_shard_of_more_site_groups_than_open_files_on_sqlite_crawls_every_group(
    gazette: HostileServer, tmp_path: Path
) -> None:
    # 300 site groups in one shard, under a limit of 256 open files: every group is locked and
    # crawled (the gazette's articles written, every other source tried once)
    sources = gazette_sources(gazette, tmp_path / "sources.toml")
    with sources.open("a") as handle:
        for n in range(DEAD_SOURCES):
            handle.write(f'[sources.dead{n:04d}]\nstart_urls = ["http://{_dead_address(n)}:1/"]\n')
    output = tmp_path / "output"
    env = crawl_env(
        NEWS_SOURCES=str(sources), NEWS_STATE=str(tmp_path / "state" / "news.sqlite"), NEWS_OUTPUT=str(output),
        NEWS_BOILERPLATE_LEARN="false", NEWS_HEALTH_ENABLED="false",
    )  # fmt: skip
    process = subprocess.run(
        with_file_limit(
            scrapy_command("crawlall", "--shard", "0/1", "-s", "RETRY_TIMES=0", "-s", "ROBOTSTXT_OBEY=false"),
            CRAWL_FILE_LIMIT,
        ),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert "Traceback" not in process.stderr, process.stderr[-5000:]
    assert f"Shard 0/1: {DEAD_SOURCES + 1} site group(s), {DEAD_SOURCES + 1} source(s)" in process.stderr
    assert "being crawled by another worker" not in process.stderr
    assert len(article_requests(gazette)) == ARTICLES
    assert len(read_parts(output)) == ARTICLES
    summary = run_summary(output)
    # the sources where nothing listens fail the run (each fetched nothing), as they would alone
    assert process.returncode == 1, process.stderr[-3000:]
    assert summary["discovery_errors"] == {"start": DEAD_SOURCES}  # each refused once
    assert summary["stats"]["downloader/request_count"] == DEAD_SOURCES + 1 + ARTICLES
    assert summary["sources"]["gazette"]["pages_fetched"] == 1 + ARTICLES  # its home page and articles


def test_a_group_lock_that_cannot_be_taken_stops_the_run_at_start(
    gazette: HostileServer, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "news.sqlite"
    state.parent.mkdir()
    (tmp_path / "state" / "news.sqlite.groups").write_text("not a folder\n")  # the locks' place is taken
    env = crawl_env(
        NEWS_SOURCES=str(gazette_sources(gazette, tmp_path / "sources.toml")), NEWS_STATE=str(state),
        NEWS_OUTPUT=str(tmp_path / "output"),
    )  # fmt: skip
    process = subprocess.run(
        scrapy_command("crawlall", "--shard", "0/1"), cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    (line,) = [text for text in process.stderr.splitlines() if "crawlall: cannot start" in text]
    assert "cannot take the lock of site group" in line and "news.sqlite.groups" in line, line
    assert gazette.requests == []
