"""The product's extraction as a Python call: a page's HTML in, its record out, by the code path of a
crawl (the extract and dates steps, then the record's schema), without Scrapy's reactor.

    from news_ingest import extract, extract_warc

    record = extract(html, url="https://example.org/news/story.html")
    for record in extract_warc("crawl.warc.gz"):
        ...

What needs the state (dedupe across runs, versions, the template lines learned per source) is the
crawl's: a record here is the page alone, ``version`` 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.settings import Settings

from crawler.discovery.warc import archive_files, as_response, host_of, open_archive, responses
from crawler.pages.page import Page
from pipelines.validate import record_problems, to_record
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

__all__ = ["Dropped", "extract", "extract_warc"]

_ready: dict[str, Any] = {}


class Dropped(ValueError):
    """The page gives no record: ``reason`` as in the crawl's stats (``not_article``, ``not_html``,
    ``undecodable``, ``invalid``), ``detail`` says more."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def _options(settings: dict[str, Any] | None) -> None:
    key = repr(sorted((settings or {}).items()))
    if _ready.get("key") != key:
        from settings import base as defaults  # noqa: PLC0415 - the crawl's defaults, once

        values = {name: getattr(defaults, name) for name in dir(defaults) if name.isupper()}
        init_worker(WorkOptions.from_settings(Settings({**values, **(settings or {})})))
        _ready["key"] = key


def extract(
    html: bytes | str,
    url: str,
    fetched_at: datetime | str | None = None,
    *,
    source: str | None = None,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of one page, the crawl's schema (``schema/record.schema.json``); raises
    ``Dropped`` when the crawl would drop the page.

    ``fetched_at``: when the page was fetched (a datetime, or ISO 8601), now by default; relative
    dates ("3 hours ago") count from it. ``headers``: the HTTP response headers, when known (the
    charset of ``Content-Type`` decides the encoding as in a crawl). ``source``: the record's
    source (default: the URL's host). ``settings``: ``NEWS_*`` settings other than the defaults.
    """
    _options(settings)
    body = html.encode("utf-8") if isinstance(html, str) else html
    header_list = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if isinstance(html, str) and not header_list:
        header_list = [("Content-Type", "text/html; charset=utf-8")]
    when = _moment(fetched_at)
    response = as_response(url, 200, header_list, body)
    content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    if not isinstance(response, scrapy.http.TextResponse) or (
        content_type and content_type not in (b"text/html", b"application/xhtml+xml")
    ):
        raise Dropped("not_html", content_type.decode("latin-1"))
    page = Page(
        url=url,
        body=body,
        fetched_at=when,
        source=source or host_of(url) or "-",
        declared_encoding=response.encoding,
        status=200,
    )
    result = analyse(PagePayload.of(page))
    if "_drop" in result:
        raise Dropped(*result["_drop"])
    record = to_record(result)
    problems = record_problems(record)
    if problems:
        raise Dropped("invalid", problems)
    return record


def extract_warc(location: str, *, settings: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The records of the HTML pages of WARC files (a file, a folder, ``s3://``, ``https://``), in
    their order; pages the crawl would drop are passed over. ``fetched_at`` is each capture's time."""
    for archive in archive_files(location):
        with open_archive(archive) as stream:
            for response in responses(stream, max_bytes=10 * 1024 * 1024):
                if response.oversized or not 200 <= response.status < 300:
                    continue
                try:
                    yield extract(
                        response.body,
                        response.url,
                        response.captured_at,
                        headers=response.headers,
                        settings=settings,
                    )
                except Dropped:
                    continue


def _moment(value: datetime | str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)
