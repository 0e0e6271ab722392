"""``scrapy crawl article``: one-off crawl of given URLs, one record per article."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy

from crawler.discovery.urls import normalize_url
from crawler.run.drops import count_drop
from crawler.spiders.base import NewsSpider

logger = logging.getLogger(__name__)


_URL_SEPARATOR = re.compile(r",\s*(?=https?://)", re.IGNORECASE)


def oneoff_folder_problem(folder: str) -> str | None:
    """Why ``NEWS_ONEOFF_FOLDER`` is no usable folder name, or None."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", folder) or folder.startswith("source="):
        return "expected one folder name of letters, digits, '.', '_' or '-' (not a path), e.g. oneoff"
    return None


def oneoff_output(settings: Any) -> str | None:
    """Where a one-off crawl writes: ``<NEWS_OUTPUT>/<NEWS_ONEOFF_FOLDER>``, apart from the stream,
    so that readers of ``<output>/source=*/`` and the next ``crawlall`` see none of it. None (the
    output as given) when the folder is empty, or when the crawl was asked to use the state
    (``NEWS_STATE_ENABLED=true``): then its articles count as emitted for the stream, and their
    records belong in it."""
    folder = str(settings.get("NEWS_ONEOFF_FOLDER") or "").strip()
    output = str(settings.get("NEWS_OUTPUT") or "").strip()
    if not folder or not output or oneoff_folder_problem(folder) or settings.getbool("NEWS_STATE_ENABLED"):
        return None
    return f"{output.rstrip('/')}/{folder}"


class ArticleSpiderUsageError(ValueError):
    """The spider was started without usable URLs."""


def read_url_file(path: str | Path) -> list[str]:
    """URLs from a file, one a line; blank lines and ``#`` comments skipped."""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


class ArticleSpider(NewsSpider):
    """Fetch the given article URLs.

    ``-a url=URL[,URL...]``, ``-a urls=FILE`` (one URL a line), ``-a source=NAME``
    (default: each URL's hostname).
    """

    name = "article"
    # A one-off crawl returns what it was asked for, however often: no state unless asked
    # (-s NEWS_STATE_ENABLED=true, which has the higher priority).
    custom_settings: ClassVar[dict[str, Any]] = {"NEWS_STATE_ENABLED": False}

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        output = oneoff_output(settings)
        if output is not None:
            # one above the value's priority: CrawlerProcess.crawl() copies the process's settings
            # over the crawler's once more, at their own priorities
            settings.set("NEWS_OUTPUT", output, priority=(settings.getpriority("NEWS_OUTPUT") or 0) + 1)

    def __init__(self, url: str = "", urls: str = "", source: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        # split only before another URL: commas are legal inside URLs ("/Elbtower,elbtower140.html")
        targets = [part.strip() for part in _URL_SEPARATOR.split(url) if part.strip()]
        if urls:
            try:
                targets += read_url_file(urls)
            except OSError as exc:
                raise ArticleSpiderUsageError(f"cannot read the URL file {urls!r}: {exc}") from exc
        if not targets:
            raise ArticleSpiderUsageError("give article URLs: -a url=URL[,URL...] or -a urls=FILE")
        self.targets = targets
        self.source = source.strip()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        seen: set[str] = set()
        for target in self.targets:
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                count_drop(self.crawler.stats, "bad_url", target, "not an http(s) URL")
                continue
            key = normalize_url(target)
            if key in seen:
                continue
            seen.add(key)
            # dont_filter: the list is de-duplicated above, and a redirect loop must end in
            # REDIRECT_MAX_TIMES and a counted fetch_error, not in a silent duplicate filter.
            yield scrapy.Request(
                target,
                callback=self.parse_article,
                errback=self.on_error,
                meta={"news_source": self.source or parts.hostname},
                dont_filter=True,
            )
