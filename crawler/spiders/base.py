"""What every news spider shares: turning responses into pages and counting failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.drops import count_drop
from crawler.page import Page

logger = logging.getLogger(__name__)

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class NewsSpider(scrapy.Spider):
    """Base class: ``parse_article`` yields one page item per HTML response."""

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
        if not isinstance(response, TextResponse) or (content_type and content_type not in _HTML_TYPES):
            count_drop(self.crawler.stats, "not_html", response.url, content_type.decode("latin-1"))
            return
        page = Page(
            url=response.url,
            body=response.body,
            fetched_at=datetime.now(timezone.utc).replace(microsecond=0),
            source=response.meta.get("news_source") or (response.url.split("/")[2].split(":")[0]),
            declared_encoding=response.encoding,
            status=response.status,
            hints=dict(response.meta.get("news_hints") or {}),
        )
        yield {"_page": page}

    def on_error(self, failure: Failure) -> None:
        """Errback: count the failed download under a reason instead of losing it silently."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(HttpError):
            status = failure.value.response.status
            self.crawler.stats.inc_value(f"news/http_status/{status}")
            count_drop(self.crawler.stats, "http_error", url, f"HTTP {status}")
        elif failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            count_drop(self.crawler.stats, "robots_txt", url)
        else:
            count_drop(self.crawler.stats, "fetch_error", url, f"{failure.type.__name__}: {failure.value}")
