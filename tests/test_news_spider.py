"""`scrapy crawl news` against the Daily Lantern test site (feeds, sitemaps, sections, traps)."""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import pytest

from demo.server import SiteServer, running_site
from pipelines.validate import load_validator
from tests.crawling import Crawl, read_parts, run_scrapy, run_summary, sources_file
from tests.test_docs import assert_stats_documented

FRESH = {
    "/daily/news/1001-harbour-ferry.html",  # home page, RSS
    "/daily/news/1002-school-roof.html",  # home page, Atom, Google News sitemap
    "/daily/news/1003-market-hall.html",  # section page, gzipped sitemap
    "/daily/news/1004-river-cleanup.html",  # only on page 2 of a section
    "/daily/news/1005-night-bus.html",  # only in the RSS feed, no date of its own
    "/daily/news/1006-library-hours.html",  # only in the Google News sitemap, no date of its own
    "/daily/news/1007-bridge-tolls.html",  # only in the Atom feed and the sitemap
    "/daily/sport/1101-derby-win.html",  # sport section and tag page
}
OLD = {"/daily/news/0901-old-pier.html", "/daily/news/0902-old-market.html"}


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> tuple[Crawl, list[str]]:
    work = tmp_path_factory.mktemp("daily")
    with running_site() as site:
        sources = sources_file(site.base_url, work / "sources.toml")
        output = work / "out"
        process = run_scrapy(
            "crawl",
            "news",
            "-a",
            "source=daily",
            "-s",
            f"NEWS_SOURCES={sources}",
            "-s",
            f"NEWS_OUTPUT={output}",
        )
        assert process.returncode == 0, process.stderr[-3000:]
        requests = list(site.requests)
    return Crawl(site.base_url, output, process), requests


def paths(crawl: Crawl) -> list[str]:
    return [record["url"][len(crawl.base_url) :] for record in crawl.records]


def test_every_fresh_article_is_emitted_exactly_once(daily) -> None:
    crawl, _ = daily
    emitted = paths(crawl)
    assert sorted(emitted) == sorted(FRESH)
    assert {record["source"] for record in crawl.records} == {"daily"}
    validator = load_validator()
    for record in crawl.records:
        assert not list(validator.iter_errors(record))


def test_old_disallowed_and_offsite_pages_are_never_requested(daily) -> None:
    crawl, requests = daily
    requested = {path.split("?")[0] for path in requests}
    assert not requested & OLD, "an article older than max_age was downloaded"
    assert not any(path.startswith("/daily/private/") for path in requested), "robots.txt Disallow ignored"
    assert "/daily/files/annual-report.pdf" not in requested
    stats = crawl.summary["stats"]
    assert stats["news/skipped/too_old"] == 4  # 0901 in RSS and sitemap, 0902 in Atom and news sitemap
    assert stats["news/skipped/offsite"] == 1  # the home page's one link to http://127.0.0.2:1/
    assert stats["news/dropped/robots_txt"] == 1


def test_discovery_stats_are_documented(daily) -> None:
    crawl, _ = daily
    assert_stats_documented(crawl.summary["stats"])


def test_the_endless_calendar_costs_a_bounded_number_of_requests(daily) -> None:
    _, requests = daily
    calendar = [path for path in requests if path.startswith("/daily/calendar/")]
    assert 1 <= len(calendar) <= 6


def test_dates_from_feed_and_sitemap_fill_in_for_pages_without_their_own(daily) -> None:
    crawl, _ = daily
    by_path = {record["url"][len(crawl.base_url) :]: record for record in crawl.records}
    assert by_path["/daily/news/1005-night-bus.html"]["date_source"] == "feed"
    assert by_path["/daily/news/1006-library-hours.html"]["date_source"] == "sitemap"
    # a page's own date wins over the feed's
    assert by_path["/daily/news/1001-harbour-ferry.html"]["date_source"] == "meta"
    for record in crawl.records:
        assert record["published_at"], record["url"]


def test_session_ids_and_listing_pages(daily) -> None:
    crawl, requests = daily
    # the link with a session id is fetched as linked, once, and keyed without the id
    assert len([path for path in requests if path.startswith("/daily/world/?sort=newest")]) == 1
    emitted = paths(crawl)
    for listing in (
        "/daily/",
        "/daily/world/",
        "/daily/world/page/2/",
        "/daily/tag/harbour/",
        "/daily/sport/",
    ):
        assert listing not in emitted


BROKEN_SOURCES = """
[sources.shaky]
start_urls = ["http://127.0.0.1:1/", "{base}/daily/"]
feeds = ["{base}/daily/broken/truncated-feed.xml", "{base}/daily/atom.xml"]
sitemaps = [
  "{base}/daily/broken/html-sitemap.xml",
  "{base}/daily/broken/bomb-sitemap.xml",
  "{base}/daily/broken/truncated-sitemap.xml",
]
allowed_domains = ["127.0.0.1"]
max_age = "7d"
max_depth = 1
"""


def test_broken_feeds_sitemaps_and_dead_start_urls_are_counted_and_the_rest_crawled(tmp_path: Path) -> None:
    with running_site() as site:
        sources = sources_file(site.base_url, tmp_path / "sources.toml", BROKEN_SOURCES)
        output = tmp_path / "out"
        process = run_scrapy(
            "crawl",
            "news",
            "-s",
            f"NEWS_SOURCES={sources}",
            "-s",
            f"NEWS_OUTPUT={output}",
            "-s",
            "RETRY_TIMES=0",
        )
    assert process.returncode == 0, process.stderr[-3000:]
    stats = run_summary(output)["stats"]
    assert stats["news/discovery/errors/feed"] == 1
    assert stats["news/discovery/errors/sitemap"] == 3
    assert stats["news/discovery/errors/start"] == 1
    for message in (
        "Damaged feed",
        "Broken sitemap",
        "entity bomb",
        "Damaged sitemap",
        "Could not fetch start",
    ):
        assert message in process.stderr, message
    written = {record["url"][len(site.base_url) :] for record in read_parts(output)}
    # from the good feed, the home page and what the truncated sitemap still held
    assert {"/daily/news/1001-harbour-ferry.html", "/daily/news/1007-bridge-tolls.html"} <= written


def test_address_guard_refuses_loopback_and_metadata_addresses(site: SiteServer, tmp_path: Path) -> None:
    before = len(site.requests)
    urls = f"{site.base_url}/business/tokyo-chipmaker-expansion.html,http://169.254.169.254/latest/meta-data/"
    output = tmp_path / "out"
    process = run_scrapy(
        "crawl",
        "article",
        "-a",
        f"url={urls}",
        "-s",
        f"NEWS_OUTPUT={output}",
        NEWS_ALLOW_PRIVATE_NETWORKS="false",
    )
    # every URL refused: nothing could be fetched, which is a failed run (exit 1) that says why
    assert process.returncode == 1, process.stderr[-2000:]
    summary = run_summary(output)
    assert summary["dropped"] == {"blocked_address": 2}
    assert summary["problems"] == [
        "nothing was fetched: every URL was refused or invalid (blocked_address=2) "
        "(private and loopback addresses need NEWS_ALLOW_PRIVATE_NETWORKS=true)"
    ]
    assert len(site.requests) == before, "a refused address was contacted"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('start_urls = ["http://127.0.0.1/"]\ncolour = "red"', "[sources.bad] key 'colour': unknown key"),
        (
            'start_url = ["http://127.0.0.1/"]',
            "[sources.bad] key 'start_url': unknown key; did you mean 'start_urls'?",
        ),
        (
            'start_urls = ["http://127.0.0.1/"]\nallow = ["(unclosed"]',
            "[sources.bad] key 'allow': bad regular",
        ),
        ('start_urls = ["127.0.0.1/news"]', "[sources.bad] key 'start_urls'"),
        ('start_urls = ["http://127.0.0.1/"]\nmax_age = "soon"', "[sources.bad] key 'max_age'"),
    ],
)
def test_bad_sources_file_fails_before_any_request(
    site: SiteServer, tmp_path: Path, table: str, message: str
) -> None:
    before = len(site.requests)
    sources = tmp_path / "sources.toml"
    sources.write_text(f"[sources.bad]\n{table}\n")
    process = run_scrapy("crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o")
    assert process.returncode == 2
    assert message in process.stderr and "Traceback" not in process.stderr
    assert len(site.requests) == before


HINTED_SOURCE = """
[sources.rundschau]
start_urls = ["{base}/"]
allow = ['/de/\\d{4}/']
deny = ['/daily/']
max_depth = 1
timezone = "Europe/Berlin"
strip = [".artikel-text ul"]
settings = { DOWNLOAD_DELAY = 0.2, CONCURRENT_REQUESTS_PER_DOMAIN = 1, USER_AGENT = "rundschau-reader/1.0" }
"""


def test_source_hints_reach_extract_and_dates(tmp_path: Path) -> None:
    with running_site() as site:
        sources = sources_file(site.base_url, tmp_path / "sources.toml", HINTED_SOURCE)
        output = tmp_path / "out"
        process = run_scrapy(
            "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={output}",
            "-s", "NEWS_CONTACT_URL=https://ops.example/crawler",
        )  # fmt: skip
        agents = set(site.user_agents)
    assert process.returncode == 0, process.stderr[-3000:]
    (record,) = read_parts(output)
    assert record["url"].endswith("/de/2023/09/04/stadtrat-radwege.html")
    assert record["source"] == "rundschau"
    # "Veröffentlicht am 04.09.2023, 14:32 Uhr" in Europe/Berlin (CEST, UTC+2)
    assert record["published_at"] == "2023-09-04T12:32:00Z"
    assert "Rheinallee zwischen Hauptbahnhof" not in record["text"]  # stripped by the source's selector
    assert "Stadtrat" in record["text"]
    # the source's own User-Agent for its pages; the product's, with the contact URL, for robots.txt
    assert "rundschau-reader/1.0" in agents
    assert "news-ingest/0.1 (news ingestion crawler; +https://ops.example/crawler)" in agents


# How far apart the requests a download delay spaces out can arrive at the test site (loopback, thread
# scheduling), in seconds: the largest deviation measured, see the test below
DELAY_JITTER = 0.005


def test_per_source_delay_holds_against_autothrottle(tmp_path: Path) -> None:
    text = """
[sources.slow]
start_urls = ["{base}/generated/?count=6"]
max_depth = 1
settings = { DOWNLOAD_DELAY = 0.5, CONCURRENT_REQUESTS_PER_DOMAIN = 1 }
"""
    with running_site() as site:
        sources = sources_file(site.base_url, tmp_path / "sources.toml", text)
        process = run_scrapy(
            "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o"
        )
        times = [
            t for t, path in zip(site.times, site.requests, strict=True) if path.startswith("/generated/")
        ]
    assert process.returncode == 0, process.stderr[-2000:]
    assert len(times) == 7
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # RANDOMIZE_DOWNLOAD_DELAY spreads each wait over 0.5x-1.5x the delay; AutoThrottle must not shrink it.
    # The server sees a gap up to DELAY_JITTER off the delay Scrapy waited (measured: 36 gaps at a fixed 0.5 s,
    # RANDOMIZE_DOWNLOAD_DELAY=false, were 0.4991-0.5050 s): the floor of 0.25 s less 5x that
    assert min(gaps) >= 0.25 - 5 * DELAY_JITTER, gaps
    assert statistics.median(gaps) >= 0.4, gaps


def test_resolver_refuses_a_name_that_resolves_to_loopback(site: SiteServer, tmp_path: Path) -> None:
    # With the middleware's early check switched off, the connection itself must still be refused.
    before = len(site.requests)
    port = site.base_url.rsplit(":", 1)[1]
    output = tmp_path / "out"
    process = run_scrapy(
        "crawl", "article", "-a", f"url=http://localhost:{port}/business/tokyo-chipmaker-expansion.html",
        "-s", f"NEWS_OUTPUT={output}", "-s", "ROBOTSTXT_OBEY=false",
        "-s", 'DOWNLOADER_MIDDLEWARES={"crawler.middlewares.address_guard.AddressGuardMiddleware": null}',
        NEWS_ALLOW_PRIVATE_NETWORKS="false",
    )  # fmt: skip
    # every fetch failed: a failed run, as crawlall would say
    assert process.returncode == 1, process.stderr[-2000:]
    assert run_summary(output)["dropped"] == {"fetch_error": 1}
    assert "non-public address" in process.stderr
    assert len(site.requests) == before
