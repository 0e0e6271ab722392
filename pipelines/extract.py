"""Extract step: the article fields of a page, or a drop with reason ``not_article``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crawler.drops import DropArticle
from crawler.pagetype import page_kind
from crawler.stats import count
from crawler.urls import url_id
from pipelines._article import ExtractOptions, NotAnArticle, extract_article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.page import Page

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class ExtractArticlePipeline:
    def __init__(self, options: ExtractOptions, stats: StatsCollector):
        self.options = options
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractArticlePipeline:
        settings = crawler.settings
        # A bad value raises ValueError: the crawl must not start with extraction switched off.
        options = ExtractOptions(
            min_words=settings.getint("NEWS_EXTRACT_MIN_WORDS"),
            strip=tuple(settings.getlist("NEWS_EXTRACT_STRIP")),
            favor=settings.get("NEWS_EXTRACT_FAVOR"),
        )
        return cls(options, crawler.stats)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        page: Page = item["_page"]
        if page.tree is not None and page_kind(page) == "listing":
            raise DropArticle("not_article", "listing page")
        options = self.options
        if page.hints.get("strip"):
            options = ExtractOptions(
                min_words=options.min_words,
                strip=options.strip + tuple(page.hints["strip"]),
                favor=options.favor,
            )
        try:
            fields = extract_article(page, options)
        except NotAnArticle as exc:
            raise DropArticle("not_article", str(exc)) from exc
        record: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": url_id(fields["canonical_url"])}
        record.update(fields)
        record["fetched_at"] = page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["version"] = 1
        record["_page"] = page
        count(self.stats, "extracted", page.source)
        return record
