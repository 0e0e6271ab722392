"""Scrapy's offsite filter, with every filtered request counted as a drop.

Scrapy drops an offsite request (typically a redirect to another domain) when it
is scheduled, without calling its errback; here each one is counted as
``news/dropped/offsite`` so that no article disappears without a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler.run.drops import count_drop

if TYPE_CHECKING:
    from scrapy import Request, Spider


class OffsiteRequest(IgnoreRequest):
    """The request leaves the source's domains."""


class CountedOffsiteMiddleware(OffsiteMiddleware):
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest as exc:
            if not request.meta.get("news_offsite_counted"):
                request.meta["news_offsite_counted"] = True
                count_drop(
                    self.stats, "offsite", request.url, str(exc), source=request.meta.get("news_source")
                )
            raise OffsiteRequest(str(exc)) from exc
