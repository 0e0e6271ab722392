"""``Retry-After`` on 429 and 503 responses, honoured for the whole download slot.

Scrapy's ``RetryMiddleware`` retries a 429 or a 503 at once, which is what a site
that asked for a pause does not want. Here the pause a response asks for (seconds,
or an HTTP date) holds back every request to that slot (the site) until it has
passed; the retry itself is still ``RetryMiddleware``'s, within ``RETRY_TIMES``. A
pause longer than ``NEWS_RETRY_AFTER_MAX`` is not waited for: the request is not
retried and ends as an ``http_error``, like any other refusal.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from twisted.internet.task import deferLater

from crawler.stats import count

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

_STATUSES = {429, 503}


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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        max_wait = crawler.settings.getfloat("NEWS_RETRY_AFTER_MAX")
        if max_wait < 0:
            raise ValueError(f"NEWS_RETRY_AFTER_MAX: {max_wait:g} is negative")
        return cls(crawler, max_wait)

    def _slot(self, request: Request) -> str:
        assert self.crawler.engine is not None
        return str(self.crawler.engine.downloader.get_slot_key(request))

    def process_request(self, request: Request, spider: Spider | None = None) -> Deferred[None] | None:
        """Nothing, or a Deferred that fires when the request's slot may be asked again."""
        if not self._not_before:  # the common case: no site asked for a pause
            return None
        slot = self._slot(request)
        wait = self._not_before.get(slot, 0.0) - time.monotonic()
        if wait > 0:
            # imported here: importing the reactor at module level would install the wrong one
            from twisted.internet import reactor  # noqa: PLC0415

            return deferLater(reactor, wait, lambda: None)
        self._not_before.pop(slot, None)
        return None

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
