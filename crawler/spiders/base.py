"""What every news spider shares: turning responses into pages and counting failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.middlewares.address_guard import BlockedAddress
from crawler.middlewares.offsite import OffsiteRequest
from crawler.middlewares.retry_after import PausedRequest
from crawler.middlewares.seen import SeenBefore
from crawler.pages.page import Page, PageLimits
from crawler.run.drops import count_drop
from crawler.run.stats import count

logger = logging.getLogger(__name__)

_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class NewsSpider(scrapy.Spider):
    """Base class: ``parse_article`` yields one page item per HTML response."""

    @cached_property
    def page_limits(self) -> PageLimits:
        # checked at start by the extract step, which reads the same settings
        return PageLimits.from_settings(self.crawler.settings)

    @cached_property
    def keeps_pages(self) -> bool:
        """NEWS_WARC_OUTPUT: the HTTP exchange goes with the page, for its WARC copy."""
        return self.crawler.settings.getbool("NEWS_WARC_OUTPUT")

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        page = self.make_page(response)
        if page is not None:
            yield {"_page": page}

    def make_page(self, response: Response, fetched_at: datetime | None = None) -> Page | None:
        """The response as a page, or ``None`` (counted as ``not_html``) for anything but HTML.
        ``fetched_at``: when the response was captured, if not now (a web archive's record)."""
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
        if not isinstance(response, TextResponse) or (content_type and content_type not in _HTML_TYPES):
            count_drop(
                self.crawler.stats,
                "not_html",
                response.url,
                content_type.decode("latin-1"),
                source=response.meta.get("news_source"),
            )
            return None
        page = Page(
            url=response.url,
            body=response.body,
            fetched_at=fetched_at or datetime.now(timezone.utc).replace(microsecond=0),
            source=response.meta.get("news_source") or (response.url.split("/")[2].split(":")[0]),
            declared_encoding=response.encoding,
            status=response.status,
            hints=dict(response.meta.get("news_hints") or {}),
            limits=self.page_limits,
        )
        if self.keeps_pages:  # only then: a crawl that keeps no copy spends nothing on its headers
            page.http_headers = _header_list(response.headers)
            if response.request is not None:
                page.request_headers = _header_list(response.request.headers)
        return page

    def on_error(self, failure: Failure) -> None:
        """Errback: count the failed download under a reason instead of losing it silently."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(BlockedAddress):
            return  # counted by the address guard
        kind = request.meta.get("news_kind", "article") if request is not None else "article"
        source = request.meta.get("news_source") if request is not None else None
        stats = self.crawler.stats
        if failure.check(SeenBefore, OffsiteRequest, PausedRequest):
            return  # counted by the middleware that refused it, or coming back after a pause
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            count_drop(stats, "robots_txt", url, source=source)
            return
        if kind in ("start", "feed", "sitemap"):
            # a feed, sitemap or listing page: not a lost article, but a source problem to report
            count(stats, f"discovery/errors/{kind}", source)
            logger.warning(
                "Could not fetch %(kind)s %(url)s: %(error)s",
                {"kind": kind, "url": url, "error": _describe(failure)},
            )
            return
        if failure.check(HttpError):
            stats.inc_value(f"news/http_status/{failure.value.response.status}")
        gone = failure.check(HttpError) and failure.value.response.status in (404, 410)
        if gone and request is not None and request.meta.get("news_followed"):
            # link rot: a link the crawl chose to follow (old articles link to pages long gone);
            # counted apart, and not in the error rate that fails a run. A 5xx, a 403 or a
            # timeout of the same link still counts: the site or the crawl is in trouble.
            count_drop(stats, "link_error", url, _describe(failure), source=source)
        elif failure.check(HttpError):
            count_drop(stats, "http_error", url, _describe(failure), source=source)
        else:
            count_drop(stats, "fetch_error", url, _describe(failure), source=source)


def _describe(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.value}"


def _header_list(headers: Any) -> list[tuple[str, str]]:
    """Scrapy's headers as (name, value) pairs, one a value, as they were on the wire."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]
