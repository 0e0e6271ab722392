"""A robots.txt larger than the download limit is read up to 500 KiB, not ignored.

RFC 9309 (2.5) asks crawlers to parse at least the first 500 KiB of a robots.txt.
Scrapy cancels a download over ``DOWNLOAD_MAXSIZE`` (before the first byte when the
``Content-Length`` says so), and its robots.txt middleware then treats the site as
allowing everything: a site whose rules are padded past the limit would be crawled
against them. Here robots.txt downloads stop at 500 KiB and what was received is
parsed; the rest is ignored, as the RFC allows. A compressed robots.txt is
decompressed here, to at most 500 KiB, so that lifting the size limit opens no
door to a compression bomb.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import StopDownload

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

ROBOTS_TXT_BYTES = 500 * 1024
_RECEIVED = "news_robots_bytes"
_WBITS = {b"gzip": 16 + zlib.MAX_WBITS, b"x-gzip": 16 + zlib.MAX_WBITS, b"deflate": zlib.MAX_WBITS}


def _is_robots_txt(request: Request) -> bool:
    # the requests of Scrapy's RobotsTxtMiddleware; a robots.txt a source lists for its sitemaps is a page
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


def _decompressed_head(body: bytes, encoding: bytes) -> bytes:
    """At most 500 KiB of the decompressed body; nothing when it cannot be read."""
    wbits = _WBITS.get(encoding.strip().lower())
    if wbits is None:
        return b""
    try:
        return zlib.decompressobj(wbits).decompress(body, ROBOTS_TXT_BYTES)
    except zlib.error:
        if encoding.strip().lower() == b"deflate":  # raw deflate, as some servers send it
            try:
                return zlib.decompressobj(-zlib.MAX_WBITS).decompress(body, ROBOTS_TXT_BYTES)
            except zlib.error:
                return b""
        return b""


class RobotsTxtSizeMiddleware:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtSizeMiddleware:
        middleware = cls()
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if _is_robots_txt(request) and _RECEIVED not in request.meta:
            request.meta[_RECEIVED] = 0
            request.meta["download_maxsize"] = 0  # the download stops at 500 KiB, below

    def bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        if _RECEIVED not in request.meta:
            return
        request.meta[_RECEIVED] += len(data)
        if request.meta[_RECEIVED] >= ROBOTS_TXT_BYTES:
            raise StopDownload(fail=False)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        encoding = response.headers.get(b"Content-Encoding")
        if _RECEIVED not in request.meta or not encoding:
            return response
        # nearer the downloader than HttpCompressionMiddleware: it never sees the encoded body
        headers = response.headers.copy()
        del headers[b"Content-Encoding"]
        return response.replace(body=_decompressed_head(response.body, encoding), headers=headers)
