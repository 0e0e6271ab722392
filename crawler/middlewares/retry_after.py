"""``Retry-After`` on 429 and 503 responses, honoured for the whole download slot.

Scrapy's ``RetryMiddleware`` retries a 429 or a 503 at once, which is what a site
that asked for a pause does not want. Here the pause a response asks for (seconds,
or an HTTP date) holds back every request to that slot (the site) until it has
passed; the retry itself is still ``RetryMiddleware``'s, within ``RETRY_TIMES``. A
pause longer than ``NEWS_RETRY_AFTER_MAX`` is not waited for: the request is not
retried and ends as an ``http_error``, like any other refusal.

A held request leaves the downloader (``PausedRequest``) and is handed back to the
engine when the pause ends: it takes no place among ``CONCURRENT_REQUESTS`` in the
meantime, so the other sites of the crawl go on at full speed, and the spider stays
open while any request is held.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest

from crawler.run.stats import count

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

_STATUSES = {429, 503}


class PausedRequest(IgnoreRequest):
    """The request's site asked for a pause: it comes back when the pause is over."""


def retry_after_seconds(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), or None."""
    value = value.strip()[:64]
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler, max_wait: float):
        self.crawler = crawler
        self.max_wait = max_wait
        self._not_before: dict[str, float] = {}  # slot -> monotonic time before which it waits
        self._held = 0  # requests waiting out a pause outside the downloader

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        max_wait = crawler.settings.getfloat("NEWS_RETRY_AFTER_MAX")
        if max_wait < 0:
            raise ValueError(f"NEWS_RETRY_AFTER_MAX: {max_wait:g} is negative")
        middleware = cls(crawler, max_wait)
        crawler.signals.connect(middleware.spider_idle, signal=signals.spider_idle)
        return middleware

    def spider_idle(self) -> None:
        if self._held:
            raise DontCloseSpider  # held requests come back to the engine when their pause ends

    def _slot(self, request: Request) -> str:
        assert self.crawler.engine is not None
        return str(self.crawler.engine.downloader.get_slot_key(request))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not self._not_before:  # the common case: no site asked for a pause
            return
        if request.meta.get("dont_obey_robotstxt"):
            return  # robots.txt is fetched outside the scheduler; it cannot be handed back
        slot = self._slot(request)
        wait = self._not_before.get(slot, 0.0) - time.monotonic()
        if wait <= 0:
            self._not_before.pop(slot, None)
            return
        # imported here: importing the reactor at module level would install the wrong one
        from twisted.internet import reactor  # noqa: PLC0415

        self._held += 1
        reactor.callLater(wait, self._release, request.replace(dont_filter=True))
        raise PausedRequest(f"{slot} asked for a pause; back in {wait:.0f} s")

    def _release(self, request: Request) -> None:
        self._held -= 1
        assert self.crawler.engine is not None
        self.crawler.engine.crawl(request)  # through the scheduler: a pause extended meanwhile holds it again

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        header = response.headers.get(b"Retry-After")
        if response.status not in _STATUSES or not header:
            return response
        wait = retry_after_seconds(header.decode("latin-1"), time.time())
        if wait is None:
            return response
        source = request.meta.get("news_source")
        if wait > self.max_wait:
            logger.warning(
                "%(url)s asks to retry after %(wait).0f s, more than NEWS_RETRY_AFTER_MAX (%(max).0f s): not retried",
                {"url": request.url, "wait": wait, "max": self.max_wait},
            )
            count(self.crawler.stats, "retry_after/too_long", source)
            request.meta["dont_retry"] = True  # HttpErrorMiddleware then counts it as http_error
            return response
        slot = self._slot(request)
        until = time.monotonic() + wait
        self._not_before[slot] = max(self._not_before.get(slot, 0.0), until)
        count(self.crawler.stats, "retry_after/waited", source)
        logger.info(
            "%(slot)s asked for a pause of %(wait).0f s (HTTP %(status)d); its requests wait",
            {"slot": slot, "wait": wait, "status": response.status},
        )
        return response
