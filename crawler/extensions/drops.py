"""Counts every dropped item under ``news/dropped/<reason>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.run.stats import count

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class DropStats:
    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DropStats:
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        count(self.stats, "dropped/" + getattr(exception, "reason", "other"), source_of(item))

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        # A pipeline bug must not lose the page silently: it is counted like a drop.
        count(self.stats, "dropped/pipeline_error", source_of(item))


def source_of(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    page = item.get("_page")
    return item.get("source") or (page.source if page is not None else None)
