"""Hostile input: one bad field, page, state file or output folder never costs more than itself.

Real crawls (``scrapy crawl article`` and ``scrapy crawl crawlall``) of one hostile server on
127.0.0.1 (tests/hostile.py), whose pages are written by hand in tests/hostile_pages.py with
the values a reader of each page would give.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.extensions.summary import build_summary, judge
from crawler.middlewares.robots_size import ROBOTS_TXT_BYTES, _decompressed_head
from crawler.pages import dateparse
from crawler.pages.dateparse import parse_date
from crawler.state.sqlite import SqliteStateStore
from demo.server import running_site
from tests import hostile_pages as pages
from tests.crawling import (
    REPO,
    crawl_env,
    read_parts,
    run_in,
    run_scrapy,
    run_summary,
    scrapy_command,
    sources_file,
)
from tests.hostile import HostileServer, Reply, hostile_server

HTML_UTF8 = {"Content-Type": "text/html; charset=utf-8"}

ROUTES = {
    "/news/bad-offsets.html": Reply(pages.BAD_OFFSETS.encode()),
    "/news/2026/11/26/only-a-bad-offset.html": Reply(pages.ONLY_A_BAD_OFFSET.encode()),
    "/news/long-date-1k.html": Reply(pages.long_date(1_000).encode()),
    "/news/long-date-10k.html": Reply(pages.long_date(10_000).encode()),
    "/news/long-date-100k.html": Reply(pages.long_date(100_000).encode()),
    "/news/russian.html": Reply(pages.RUSSIAN.encode("cp1251"), headers=HTML_UTF8),
    "/news/japanese.html": Reply(pages.JAPANESE.encode("shift_jis"), headers=HTML_UTF8),
    "/news/undecodable.html": Reply(pages.UNDECODABLE.encode("latin-1"), headers=HTML_UTF8),
    "/news/control-characters.html": Reply(pages.CONTROL_CHARACTERS.encode()),
    "/news/deep-decoy.html": Reply(pages.DEEP_DECOY.encode()),
}
ROUTES["/robots.txt"] = Reply(pages.ROBOTS_TXT, headers={"Content-Type": "text/plain"})
ROUTES["/private/article.html"] = Reply(pages.article().encode())
ROUTES["/busy/article.html"] = lambda before: (
    Reply(b"busy", 429, {"Retry-After": "2", "Content-Type": "text/plain"})
    if before == 0
    else Reply(pages.article().encode())
)
ROUTES["/busy/closed-for-an-hour.html"] = Reply(
    b"down", 503, {"Retry-After": "3600", "Content-Type": "text/plain"}
)
ROUTES["/feeds/bomb-late.xml"] = Reply(pages.FEED_BOMB_LATE, headers={"Content-Type": "application/rss+xml"})
ROUTES["/feeds/bomb-utf16.xml"] = Reply(
    pages.FEED_BOMB_UTF16, headers={"Content-Type": "application/rss+xml"}
)
ROUTES["/sitemaps/bomb-late.xml"] = Reply(
    pages.SITEMAP_BOMB_LATE, headers={"Content-Type": "application/xml"}
)
# (8) the memory run: 20 pages, each several MB of JSON-LD or tens of thousands of links
for n in range(10):
    ROUTES[f"/big/json-ld-{n}.html"] = Reply(pages.huge_json_ld(9_000_000).encode())
    ROUTES[f"/big/links-{n}.html"] = Reply(pages.many_links(150_000).encode())


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with hostile_server(ROUTES) as server:
        yield server


def crawl_urls(server: HostileServer, tmp_path: Path, paths: list[str], *settings: str):
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(server.url(path) + "\n" for path in paths))
    output = tmp_path / "out"
    args = ["crawl", "article", "-a", f"urls={urls}", "-s", f"NEWS_OUTPUT={output}"]
    for setting in settings:
        args += ["-s", setting]
    process = run_scrapy(*args)
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    records = {record["url"].removeprefix(server.base_url): record for record in read_parts(output)}
    return records, run_summary(output)


def test_hostile_pages_come_out_as_clean_records(hostile: HostileServer, tmp_path: Path) -> None:
    paths = [path for path in ROUTES if path.startswith("/news/")]
    # a date that takes seconds to read would be an extract_timeout here
    records, summary = crawl_urls(hostile, tmp_path, paths, "NEWS_EXTRACT_TIMEOUT=5")
    assert summary["dropped"] == {"undecodable": 1}
    assert set(records) == set(paths) - {"/news/undecodable.html"}

    # (2) offsets +99:99 and +25:00 are ignored; the byline's date is the next best
    bad = records["/news/bad-offsets.html"]
    assert bad["published_date"] == pages.BAD_OFFSETS_DAY and bad["title"] == pages.TITLE
    assert bad["authors"] == ["Jane Doe"]
    only = records["/news/2026/11/26/only-a-bad-offset.html"]
    assert only["published_date"] == pages.ONLY_A_BAD_OFFSET_DAY and only["title"] == pages.TITLE

    # (4) 1 KB, 10 KB and 100 KB of junk as datePublished: read only at its head, the byline wins
    for size in ("1k", "10k", "100k"):
        record = records[f"/news/long-date-{size}.html"]
        assert record["published_date"] == pages.LONG_DATE_DAY, size
        assert record["text"].startswith(pages.FIRST_SENTENCE)

    # (5) a cp1251 page and a Shift_JIS page, both declared UTF-8, come out as their text
    russian = records["/news/russian.html"]
    assert russian["title"] == pages.RUSSIAN_TITLE and russian["language"] == "ru"
    assert pages.RUSSIAN_WORD in russian["text"] and russian["authors"] == ["Иван Петров"]
    japanese = records["/news/japanese.html"]
    assert japanese["title"] == pages.JAPANESE_TITLE and japanese["language"] == "ja"
    assert pages.JAPANESE_WORD in japanese["text"]

    # NUL and BEL gone from the title, NUL from a JSON-LD author
    controls = records["/news/control-characters.html"]
    assert controls["title"] == pages.TITLE
    assert controls["authors"] == ["Jane Doe"]

    # 6,000 nested <div>s before the article: flattened, the article kept
    decoy = records["/news/deep-decoy.html"]
    assert decoy["title"] == pages.TITLE
    assert decoy["text"].startswith(pages.FIRST_SENTENCE) and decoy["text"].endswith(pages.LAST_SENTENCE)
    assert summary["stats"]["news/extract/markup_flattened"] == 1


def test_a_page_of_huge_json_ld_or_links_costs_a_bounded_amount(
    hostile: HostileServer, tmp_path: Path
) -> None:
    paths = [path for path in ROUTES if path.startswith("/big/")]
    records, summary = crawl_urls(hostile, tmp_path, paths, "NEWS_EXTRACT_TIMEOUT=60")
    assert len(records) == 20, summary["dropped"]
    for record in records.values():  # the article is there whatever surrounds it
        assert record["title"] == pages.TITLE and record["published_date"] == "2026-11-27"
        assert record["text"].startswith(pages.FIRST_SENTENCE)
    stats = summary["stats"]
    assert stats["news/extract/json_ld_skipped"] == 10
    assert stats["news/extract/html_truncated"] == 10  # the link pages: 8 MB of markup each
    assert stats["news/extract/worker_max_rss_mb"] < 400


def test_date_parsing_reads_a_bounded_prefix_of_any_string(monkeypatch: pytest.MonkeyPatch) -> None:
    # dateparser's time grows with the length of what it reads (before the cap, 10 KB took
    # about 5 s and 100 KB over 30 s); what it is handed is counted, not timed (bench/ times)
    handed: list[int] = []
    real = dateparse.search_dates

    def counting(value: str, *args: object, **kwargs: object) -> object:
        handed.append(len(value))
        return real(value, *args, **kwargs)

    monkeypatch.setattr(dateparse, "search_dates", counting)
    dateparse._search.cache_clear()
    fetched = datetime(2026, 12, 3, tzinfo=UTC)
    junk = "Lorem ipsum dolor sit amet 12, " * 3000  # 93 KB
    parse_date(junk, "en", None, fetched)
    parse_date("Published 4 March 2026. " + junk, "en", None, fetched)
    assert handed and max(handed) <= dateparse.MAX_DATE_CHARS
    found = parse_date("Published 4 March 2026. " + junk, "en", None, fetched)
    assert found is not None and found.local_date.isoformat() == "2026-03-04"
    assert parse_date("2026-11-30T10:00:00+99:99", "en", None, fetched) is None


class CountingStats(dict):
    """A stats dict that counts the keys read from it, however they are read."""

    reads = 0

    def items(self):  # type: ignore[override]
        for pair in super().items():
            CountingStats.reads += 1
            yield pair

    def get(self, key, default=None):  # type: ignore[override]
        CountingStats.reads += 1
        return super().get(key, default)

    def __getitem__(self, key):  # type: ignore[override]
        CountingStats.reads += 1
        return super().__getitem__(key)


def test_summary_work_is_linear_in_the_number_of_sources() -> None:
    # counted reads, not time: the machine is shared and a timed ratio is noise
    def stats_of(sources: int) -> CountingStats:
        stats = CountingStats(start_time=datetime(2026, 12, 3, tzinfo=UTC))
        for key in ("pages_fetched", "written", "extracted", "dropped/not_article", "skipped/seen"):
            stats[f"news/{key}"] = 3 * sources
            for n in range(sources):
                stats[f"news/sources/s{n}/{key}"] = 3
        return stats

    def reads(sources: int) -> int:
        stats = stats_of(sources)
        CountingStats.reads = 0
        summary = build_summary(stats, "run", "news", "finished")
        assert len(summary["sources"]) == sources
        assert summary["sources"]["s7"]["records_written"] == 3
        assert summary["records_written"] == 3 * sources
        assert judge(summary, [f"s{n}" for n in range(sources)], 0.5) == []
        return CountingStats.reads

    # ten times the sources: ten times the reads when linear, a hundred when quadratic
    small, large = reads(500), reads(5_000)
    assert large <= 11 * small, (small, large)


# --- state and output that cannot be used -------------------------------------


def read_only(path: Path, command: list[str]) -> list[str]:
    """``command`` run with ``path`` read-only: a read-only bind mount for root, whom
    permissions do not stop; a plain ``chmod`` for anyone else."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return command
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, str(path), *command]


@pytest.fixture(scope="module")
def demo_site() -> Iterator[object]:
    with running_site() as server:
        yield server


def start_failure(tmp_path: Path, site: object, state: Path, output: Path, wrap=None):
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    metrics = tmp_path / "metrics.prom"
    env = crawl_env(
        NEWS_SOURCES=str(sources),
        NEWS_STATE=str(state),
        NEWS_OUTPUT=str(output),
        NEWS_METRICS_FILE=str(metrics),
    )
    before = len(site.requests)
    command = scrapy_command("crawlall")
    if wrap is not None:
        command = wrap(command)
    process = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert process.returncode == 2, process.stderr[-3000:]
    assert len(site.requests) == before, "a page was fetched before the start was checked"
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    lines = [line for line in process.stderr.splitlines() if "crawlall: cannot start" in line]
    assert len(lines) == 1, process.stderr[-3000:]
    return lines[0], metrics


@pytest.mark.parametrize("kind", ["random-bytes", "a-folder", "read-only-folder"])
def test_an_unusable_state_stops_the_run_at_start_with_one_line(demo_site, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    state = folder / "news.sqlite"
    wrap = None
    if kind == "random-bytes":
        state.write_bytes(bytes((n * 97 + 13) % 256 for n in range(8192)))
        cause = "not a state database"
    elif kind == "a-folder":
        state.mkdir()
        cause = "is it a folder"
    else:

        def wrap(command: list[str]) -> list[str]:
            return read_only(folder, command)

        cause = "read-only"
    output = tmp_path / "out"
    output.mkdir()  # an output of earlier runs: the start failure's summary goes there
    line, metrics = start_failure(tmp_path, demo_site, state, output, wrap)
    assert str(state) in line and cause in line, line
    summary = run_summary(output)  # the summary is still written, saying why
    assert summary["status"] == "not_started" and summary["exit_code"] == 2
    assert str(state) in summary["problems"][0]
    assert "news_last_run_success 0.0" in metrics.read_text()


@pytest.mark.parametrize("kind", ["a-file", "read-only-folder"])
def test_an_unwritable_output_stops_the_run_before_the_first_request(
    demo_site, tmp_path: Path, kind: str
) -> None:
    output = tmp_path / "out"
    wrap = None
    if kind == "a-file":
        output.write_text("not a folder")
    else:
        output.mkdir()

        def wrap(command: list[str]) -> list[str]:
            return read_only(output, command)

    line, _ = start_failure(tmp_path, demo_site, tmp_path / "state" / "news.sqlite", output, wrap)
    assert f"NEWS_OUTPUT {output}: cannot write there" in line, line


@pytest.mark.parametrize("loss", ["deleted", "replaced"])
def test_a_state_lost_mid_run_fails_the_run_and_the_next_run_emits_nothing_again(
    tmp_path: Path, loss: str
) -> None:
    with running_site(delay=0.05) as site:
        sources = sources_file(site.base_url, tmp_path / "sources.toml")
        state = tmp_path / "state" / "news.sqlite"
        output = tmp_path / "out"
        env = crawl_env(NEWS_SOURCES=str(sources), NEWS_STATE=str(state), NEWS_OUTPUT=str(output))
        process = subprocess.Popen(
            scrapy_command("crawlall"),
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not (state.exists() and len(site.requests) >= 5):
            assert process.poll() is None, "the run ended before the state could be deleted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if loss == "deleted":
            shutil.rmtree(state.parent)
        else:  # an operator restores an (empty) backup over it
            backup = tmp_path / "backup.sqlite"
            SqliteStateStore(backup).close()
            os.replace(backup, state)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 1, stderr[-3000:]
        first = run_summary(output)
        assert any(f"the state file {state} was {loss} during the run" in p for p in first["problems"])
        written = first["records_written"]
        assert written > 0

        again = run_in(env, "crawlall")
        assert again.returncode == 0, again.stderr[-3000:]
        second = run_summary(output)
        assert second["run_id"] != first["run_id"]
        assert second["records_written"] == 0
        if loss == "deleted":
            # (replaced: SQLite may fold the old run's write-ahead log, still beside the file, into
            # the replacement, which then knows the run; either way nothing comes again)
            assert second["stats"]["news/state/rebuilt_articles"] == written
        assert len(read_parts(output)) == written


def test_s3_unreachable_at_start_spools_everything_and_exits_3(demo_site, tmp_path: Path) -> None:
    sources = sources_file(demo_site.base_url, tmp_path / "sources.toml")
    with socket.socket() as closed:  # a loopback port that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    spool = tmp_path / "spool"
    process = run_scrapy(
        "crawlall",
        "-s", "NEWS_S3_MAX_ATTEMPTS=1",
        NEWS_SOURCES=str(sources),
        NEWS_OUTPUT="s3://news-bucket/runs",
        NEWS_SINK_SPOOL=str(spool),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="test-key",
        AWS_SECRET_ACCESS_KEY="test-secret-value",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )  # fmt: skip
    assert process.returncode == 3, process.stderr[-3000:]
    assert "S3 is unreachable at start" in process.stderr
    records = read_parts(spool)
    assert len(records) == 20  # the demo sources' articles, every one waiting in the spool
    summary = run_summary(spool / "news-bucket" / "runs")
    assert summary["status"] == "uploads_pending"
    assert summary["stats"]["news/sink/s3_unreachable_at_start"] == 1


def test_retry_after_is_honoured_for_the_site_up_to_its_cap(hostile: HostileServer, tmp_path: Path) -> None:
    paths = ["/busy/article.html", "/busy/closed-for-an-hour.html"]
    records, summary = crawl_urls(hostile, tmp_path, paths)
    first, second = hostile.times("/busy/article.html")[-2:]
    assert second - first >= 1.9  # Retry-After: 2, not Scrapy's immediate retry
    assert records["/busy/article.html"]["title"] == pages.TITLE
    # an hour is over NEWS_RETRY_AFTER_MAX: asked once, not retried, an http_error
    assert len(hostile.times("/busy/closed-for-an-hour.html")) == 1
    assert summary["dropped"] == {"http_error": 1}
    assert summary["stats"]["news/retry_after/waited"] == 1
    assert summary["stats"]["news/retry_after/too_long"] == 1


def test_a_robots_txt_over_the_download_limit_is_read_not_ignored(
    hostile: HostileServer, tmp_path: Path
) -> None:
    assert len(pages.ROBOTS_TXT) > 10 * 1024 * 1024  # over DOWNLOAD_MAXSIZE
    records, summary = crawl_urls(hostile, tmp_path, ["/private/article.html", "/news/bad-offsets.html"])
    assert set(records) == {"/news/bad-offsets.html"}
    assert summary["dropped"] == {"robots_txt": 1}


def test_hidden_entity_bombs_are_counted_discovery_errors(hostile: HostileServer, tmp_path: Path) -> None:
    base = hostile.base_url
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "[sources.bombs]\n"
        f'feeds = ["{base}/feeds/bomb-late.xml", "{base}/feeds/bomb-utf16.xml"]\n'
        f'sitemaps = ["{base}/sitemaps/bomb-late.xml"]\n'
    )
    output = tmp_path / "out"
    process = run_scrapy("crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={output}")
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    summary = run_summary(output)
    assert summary["discovery_errors"] == {"feed": 2, "sitemap": 1}
    assert summary["pages_fetched"] == 3  # the three documents; nothing they name was requested


def test_a_compressed_robots_txt_is_read_to_500_kib_only() -> None:
    # 30 MB of comments in 30 KB of gzip: only the head is ever decompressed
    bomb = gzip.compress(b"User-agent: *\nDisallow: /private/\n" + b"#" * 30_000_000)
    head = _decompressed_head(bomb, b"gzip")
    assert head.startswith(b"User-agent: *\nDisallow: /private/\n")
    assert len(head) == ROBOTS_TXT_BYTES
