"""A robots.txt larger than the download limit is read up to 500 KiB, not ignored.

RFC 9309 (2.5) asks crawlers to parse at least the first 500 KiB of a robots.txt.
Scrapy cancels a download over ``DOWNLOAD_MAXSIZE``, and its robots.txt middleware
then treats the site as allowing everything: a site whose rules are padded past the
limit would be crawled against them. Here robots.txt downloads stop at 500 KiB and
what was received is parsed; the rest is ignored, as the RFC allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import StopDownload

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

ROBOTS_TXT_BYTES = 500 * 1024
_RECEIVED = "news_robots_bytes"


def _is_robots_txt(request: Request) -> bool:
    # the requests of Scrapy's RobotsTxtMiddleware; a robots.txt a source lists for its sitemaps is a page
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class RobotsTxtSizeMiddleware:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtSizeMiddleware:
        middleware = cls()
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if _is_robots_txt(request) and _RECEIVED not in request.meta:
            request.meta[_RECEIVED] = 0
            # no cancel at DOWNLOAD_MAXSIZE: the download stops at 500 KiB below, keeping what came
            request.meta["download_maxsize"] = 0

    def bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        if _RECEIVED not in request.meta:
            return
        request.meta[_RECEIVED] += len(data)
        if request.meta[_RECEIVED] >= ROBOTS_TXT_BYTES:
            raise StopDownload(fail=False)
