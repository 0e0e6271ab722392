"""The sources file, feeds and sitemaps as parsed before any crawl."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path

import pytest

from crawler.discovery.feeds import FeedError, parse_feed
from crawler.discovery.pagetype import url_kind
from crawler.discovery.sitemaps import SitemapError, parse_sitemap, sitemap_body
from crawler.discovery.sources import SourcesError, load_sources, parse_duration
from crawler.discovery.urls import normalize_url

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_example_sources_file_is_valid() -> None:
    sources = load_sources(REPO / "sources.example.toml")
    assert len(sources) >= 3
    for source in sources.values():
        assert source.start_urls or source.feeds or source.sitemaps


def test_full_source_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[sources.herald]
start_urls = ["https://www.herald.example/"]
feeds = ["https://herald.example/feed/"]
allow = ['/\\d{4}/\\d{2}/']
deny = ["/video/"]
max_depth = 3
max_pages = 50
max_age = "12h"
language = "de"
timezone = "Europe/Berlin"
date_order = "dmy"
strip = [".promo"]
settings = { DOWNLOAD_DELAY = 2, CONCURRENT_REQUESTS_PER_DOMAIN = 1 }
""",
    )
    source = load_sources(path)["herald"]
    assert source.allowed_domains == ("herald.example",)
    assert source.allows_domain("https://www.herald.example/2023/09/x")
    assert not source.allows_domain("https://herald.example.evil/")
    assert source.is_allowed_article("https://herald.example/2023/09/x") is True
    assert source.is_denied("https://herald.example/video/1")
    assert source.max_age == timedelta(hours=12) and source.date_order == "DMY"
    assert source.hints() == {
        "language": "de",
        "timezone": "Europe/Berlin",
        "date_order": "DMY",
        "strip": [".promo"],
        "max_age_seconds": 43200.0,
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('feeds = ["https://a.example/"]\ntimezone = "Mars/Base"', "key 'timezone'"),
        ('feeds = ["https://a.example/"]\ndate_order = "DM"', "key 'date_order'"),
        ('feeds = ["https://a.example/"]\nmax_depth = -1', "key 'max_depth'"),
        ('feeds = ["https://a.example/"]\nstrip = ["div["]', "key 'strip'"),
        ('feeds = ["https://a.example/"]\nsettings = { ROBOTSTXT_OBEY = false }', "key 'settings'"),
        ("max_depth = 1", "at least one of"),
    ],
)
def test_invalid_sources_name_source_and_key(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(SourcesError, match=r"\[sources\.s\]") as caught:
        load_sources(write(tmp_path, f"[sources.s]\n{table}\n"))
    assert message in str(caught.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="not found"):
        load_sources(tmp_path / "nope.toml")
    with pytest.raises(SourcesError, match=r"sources\.toml"):
        load_sources(write(tmp_path, "[sources.a\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3d", timedelta(days=3)), ("12h", timedelta(hours=12)), ("1w", timedelta(weeks=1))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_google_news_fields_survive_scrapys_sitemap_parser() -> None:
    xml = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://a.example/1</loc>
      <news:news><news:publication><news:name>A</news:name><news:language>de</news:language></news:publication>
      <news:publication_date>2023-09-04T10:00:00+02:00</news:publication_date><news:title>Titel</news:title>
      </news:news></url></urlset>"""
    kind, entries, problem = parse_sitemap(sitemap_body(gzip.compress(xml), 10_000_000))
    assert (kind, problem) == ("urlset", None)
    assert entries == [
        {
            "loc": "https://a.example/1",
            "news_name": "A",
            "news_language": "de",
            "news_publication_date": "2023-09-04T10:00:00+02:00",
            "news_title": "Titel",
        }
    ]


def test_gzip_bomb_sitemap_is_refused() -> None:
    with pytest.raises(SitemapError, match="decompressed"):
        sitemap_body(gzip.compress(b"<urlset>" + b" " * 2_000_000 + b"</urlset>"), 100_000)


def test_json_feed_and_not_a_feed() -> None:
    feed = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"url": "https://a.example/x", "date_published": "2023-09-04T10:00:00Z"}]}'
    )
    assert [(entry.url, entry.published) for entry in feed.entries] == [
        ("https://a.example/x", "2023-09-04T10:00:00Z")
    ]
    with pytest.raises(FeedError):
        parse_feed(b"<html><body>Page not found</body></html>")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://a.example/", "listing"),
        ("https://a.example/tag/x/", "listing"),
        ("https://a.example/calendar/2026-11-27/", "listing"),
        ("https://a.example/2023/09/04/", "listing"),
        ("https://a.example/2023/09/04/story/", "article"),
        ("https://a.example/news/1001-harbour-ferry.html", "article"),
        ("https://a.example/politics/council-approves-new-budget", "article"),
        ("https://a.example/world/", "listing"),
        ("https://a.example/about", "listing"),
        ("https://a.example/en/about-us.php", "unknown"),
    ],
)
def test_url_kind(url: str, kind: str) -> None:
    assert url_kind(url) == kind


def test_session_ids_are_removed_from_urls() -> None:
    assert normalize_url("https://a.example/x;jsessionid=AB12?PHPSESSID=1&page=2&utm_source=f") == (
        "https://a.example/x?page=2"
    )
