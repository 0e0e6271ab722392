"""The news spider's decisions, on a spider built the way a crawl builds it (no network)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.discovery.feeds import parse_feed
from crawler.middlewares.address_guard import GuardedResolver, is_public
from crawler.pages.page import Page
from crawler.spiders.news import NewsDiscoverySpider
from settings import base


@pytest.fixture
def spider(tmp_path: Path) -> NewsDiscoverySpider:
    sources = tmp_path / "sources.toml"
    sources.write_text('[sources.s]\nstart_urls = ["https://news.example/"]\n')
    project = {name: value for name, value in vars(base).items() if name.startswith("NEWS_")}
    crawler = get_crawler(
        NewsDiscoverySpider,
        {
            **project,
            "NEWS_SOURCES": str(sources),
            "NEWS_STATE_ENABLED": False,
            "NEWS_DISCOVERY_MAX_QUERY_VARIANTS": 3,
        },
    )
    crawler.spider = NewsDiscoverySpider.from_crawler(crawler)
    crawler.stats.open_spider()
    return crawler.spider


def listing(html: str, url: str = "https://news.example/world/") -> Page:
    return Page(url=url, body=html.encode(), fetched_at=datetime.now(timezone.utc), source="s")


def test_id_query_urls_from_feeds_are_all_requested(spider: NewsDiscoverySpider) -> None:
    source = spider.sources["s"]
    requests = [
        spider._page_request(
            source, f"https://news.example/article.php?id={n}", spider.parse_article, depth=1
        )
        for n in range(10)
    ]
    assert all(isinstance(request, scrapy.Request) for request in requests)
    assert [r.url for r in requests][:2] == [
        "https://news.example/article.php?id=0",
        "https://news.example/article.php?id=1",
    ]


def test_faceted_query_variants_from_links_are_a_trap(spider: NewsDiscoverySpider) -> None:
    source = spider.sources["s"]
    made = [
        spider._page_request(
            source, f"https://news.example/world/?sort={n}", spider.parse_page, depth=1, from_links=True
        )
        for n in range(6)
    ]
    assert sum(request is not None for request in made) == 3
    assert spider.crawler.stats.get_value("news/skipped/trap") == 3


def test_links_bad_hrefs_base_href_nofollow_and_offsite(spider: NewsDiscoverySpider) -> None:
    page = listing(
        """<html><head><base href="https://news.example/"></head><body>
        <a href="http://[oops/">broken</a>
        <a href="https://news.example:99999/x">bad port</a>
        <a href="2024/05/02/harbour-story">relative to the base</a>
        <a href="/tag/harbour/" rel="nofollow">nofollow</a>
        <a href="https://elsewhere.example/2024/05/02/story">offsite</a>
        <a href="/files/report.pdf">pdf</a>
        </body></html>"""
    )
    urls = [request.url for request in spider._follow_links(spider.sources["s"], page, 0)]
    assert urls == ["https://news.example/2024/05/02/harbour-story"]
    stats = spider.crawler.stats
    assert stats.get_value("news/skipped/bad_url") == 2
    assert stats.get_value("news/skipped/offsite") == 1


def test_feedburner_links_point_at_the_original() -> None:
    feed = parse_feed(
        b"""<?xml version="1.0"?><rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
        <channel><title>T</title><item><title>A</title>
        <link>http://feedproxy.google.com/~r/herald/~3/abc/</link>
        <feedburner:origLink>https://news.example/2024/05/02/story</feedburner:origLink></item></channel></rss>"""
    )
    assert [entry.url for entry in feed.entries] == ["https://news.example/2024/05/02/story"]


def test_feed_charset_from_the_http_header() -> None:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Т</title><item><title>Новости дня</title><link>https://news.example/1</link></item></channel></rss>'.encode(
        "koi8-r"
    )
    feed = parse_feed(body, "application/rss+xml; charset=koi8-r")
    assert feed.entries[0].title == "Новости дня"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "::1",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::",
        "::127.0.0.1",
    ],
)
def test_non_public_addresses_in_any_spelling(address: str) -> None:
    assert not is_public(address)
    with pytest.raises(Exception, match="non-public"):
        GuardedResolver._refuse_private(address, "rebinding.example")


def test_public_addresses_pass() -> None:
    assert is_public("93.184.215.14") and is_public("2606:2800:21f:cb07:6820:80da:af6b:8b2e")
