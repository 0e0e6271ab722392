"""One INFO line when a crawl starts: what runs, as which run, reading and writing where.

It stands in for Scrapy's start-up dumps (component lists, versions, overridden
settings), which ``crawler.run.logjson`` keeps to DEBUG.
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.run.runid import run_id_for
from crawler.state import dsn

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def version() -> str:
    try:
        return metadata.version("news-ingest")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _where(location: str) -> str:
    """A local path made absolute (relative paths mean the working directory); a URL or a libpq
    connection string as given, without its secrets."""
    if "://" in location or dsn.is_conninfo(location):
        return dsn.display(location)
    return str(Path(location).resolve())


class RunBanner:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunBanner:
        # the spider exists (extensions are built after it) and the engine does not yet:
        # logged now, the banner heads the crawl's log
        extension = cls(crawler)
        extension.log()
        return extension

    def log(self) -> None:
        settings, spider = self.crawler.settings, self.crawler.spider
        sources = getattr(spider, "sources", None)
        what = f"{len(sources)} source(s) from {settings.get('NEWS_SOURCES')}" if sources else "URLs given"
        if getattr(spider, "locations", None):  # news-ingest archive
            what = f"{len(spider.locations)} archive location(s)"
        sink = _where(settings.get("NEWS_OUTPUT")) if settings.getbool("NEWS_SINK_ENABLED") else "(sink off)"
        logger.info(
            "news-ingest %(version)s, run %(run_id)s: %(command)s, %(what)s; output %(output)s; "
            "state %(state)s",
            {
                "version": version(),
                "run_id": run_id_for(settings),
                # crawlall names itself; `crawl news` and `crawl article` are the spider's name
                "command": getattr(self.crawler, "news_command", None) or f"crawl {spider.name}",
                "what": what,
                "output": sink,
                "state": _where(settings.get("NEWS_STATE"))
                if settings.getbool("NEWS_STATE_ENABLED")
                else "(off)",
            },
        )
