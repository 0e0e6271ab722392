"""Web archives in: the HTTP responses held in WARC files, found in a file, a folder, an
``s3://`` location or at an ``https://`` URL, read as a stream with warcio.

warcio was measured against FastWARC on the same files (``bench/archive.py``): the time goes to
extraction, not to reading the archive, and warcio is pure Python, already what a third party
reads our own WARC files with, and decodes chunked and compressed payloads as a crawl's
middlewares do.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

if TYPE_CHECKING:
    from crawler.pages.page import Page

ARCHIVE_SUFFIXES = (".warc", ".warc.gz")
# headers that describe the bytes on the wire, not the payload warcio hands over (decoded)
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class ArchiveError(ValueError):
    """An archive location that cannot be listed or read (missing, not a WARC, refused)."""


@dataclass(frozen=True)
class ArchivedResponse:
    """One HTTP response of an archive, its payload decoded (chunks joined, gzip undone)."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    captured_at: datetime
    record_id: str
    offset: int
    oversized: bool = False

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";")[0].strip().lower()
        return ""


def is_remote(location: str) -> bool:
    return location.startswith(("s3://", "http://", "https://"))


def archive_files(location: str, s3: Any = None) -> list[str]:
    """The WARC files a location names: itself, a folder's ``*.warc[.gz]`` (sorted, recursively),
    or the objects under an ``s3://bucket/prefix/``; an ``http(s)://`` URL is one file."""
    if location.startswith(("http://", "https://")):
        return [location]
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        if key.endswith(ARCHIVE_SUFFIXES):
            return [location]
        client = s3 or _s3_client()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        except Exception as exc:
            raise ArchiveError(f"{location}: cannot list the archives there ({exc})") from exc
        return [f"s3://{bucket}/{name}" for name in sorted(keys) if name.endswith(ARCHIVE_SUFFIXES)]
    path = Path(location).expanduser().resolve()  # one name per file, whatever the working folder
    if path.is_dir():
        return [str(found) for found in sorted(path.rglob("*")) if found.name.endswith(ARCHIVE_SUFFIXES)]
    if path.is_file():
        return [str(path)]
    raise ArchiveError(f"{location}: no such file or folder")


def kept_pages(output: str, s3: Any = None) -> list[str]:
    """The WARC files a crawl kept beside its parts (NEWS_WARC_OUTPUT) in an output, local or
    ``s3://``: ``source=*/date=*/*.warc.gz`` right under it (not a one-off crawl's ``oneoff/``)."""
    root = output.rstrip("/")
    found = archive_files(root + "/" if root.startswith("s3://") else root, s3)
    top = root if root.startswith("s3://") else str(Path(root).expanduser().resolve())
    pattern = re.compile(re.escape(top) + r"/source=[^/]+/date=[^/]+/[^/]+\.warc\.gz")
    return [path for path in found if pattern.fullmatch(path)]


def cc_news_files(month: str, base: str, s3: Any = None) -> list[str]:
    """The WARC files of one month of Common Crawl's CC-NEWS (``YYYY/MM``), from the month's
    ``warc.paths.gz`` under ``base`` (``https://data.commoncrawl.org/`` or ``s3://commoncrawl/``)."""
    if not re.fullmatch(r"\d{4}/(0[1-9]|1[0-2])", month):
        raise ArchiveError(f"--cc-news {month!r}: expected a month as YYYY/MM")
    root = base.rstrip("/") + "/"
    index = f"{root}crawl-data/CC-NEWS/{month}/warc.paths.gz"
    try:
        with open_archive(index, s3) as stream:
            listed = gzip.decompress(stream.read()).decode("utf-8")
    except (ArchiveError, OSError, EOFError) as exc:
        raise ArchiveError(f"--cc-news {month}: cannot read the index {index} ({exc})") from exc
    return [root + line.strip() for line in listed.splitlines() if line.strip().endswith(ARCHIVE_SUFFIXES)]


def _s3_client() -> Any:
    import boto3  # noqa: PLC0415 - only for s3:// archives

    return boto3.client("s3")


@contextmanager
def open_archive(location: str, s3: Any = None, timeout: float = 60.0) -> Iterator[IO[bytes]]:
    """A byte stream of one archive file, read as it goes (never whole in memory)."""
    try:
        if location.startswith("s3://"):
            bucket, _, key = location[5:].partition("/")
            stream = (s3 or _s3_client()).get_object(Bucket=bucket, Key=key)["Body"]
        elif location.startswith(("http://", "https://")):
            stream = urllib.request.urlopen(location, timeout=timeout)
        else:
            stream = open(location, "rb")  # noqa: SIM115 - closed below
    except Exception as exc:
        raise ArchiveError(f"{location}: cannot open ({exc})") from exc
    try:
        yield stream
    finally:
        stream.close()


def responses(stream: IO[bytes], max_bytes: int) -> Iterator[ArchivedResponse]:
    """The HTTP responses of a WARC stream, in order; other records (requests, warcinfo, metadata)
    are passed over. A payload over ``max_bytes`` comes back empty, marked ``oversized``."""
    records = ArchiveIterator(stream, arc2warc=True)
    try:
        for record in records:
            if record.rec_type != "response" or record.http_headers is None:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI") or ""
            payload = record.content_stream().read(max_bytes + 1)
            oversized = len(payload) > max_bytes
            yield ArchivedResponse(
                url=url.strip("<>"),
                status=int(record.http_headers.get_statuscode() or 0),
                headers=[
                    (name, value)
                    for name, value in record.http_headers.headers
                    if name.lower() not in _WIRE_HEADERS
                ],
                body=b"" if oversized else payload,
                captured_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
                record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
                offset=records.get_record_offset(),
                oversized=oversized,
            )
    except ArchiveLoadFailed as exc:
        raise ArchiveError(f"not a WARC file, or damaged: {exc}") from exc


def _warc_date(value: str | None) -> datetime:
    """WARC-Date (ISO 8601 in UTC, seconds or finer); the reading time when it is missing."""
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(microsecond=0)
        except ValueError:
            pass
    return datetime.now(UTC).replace(microsecond=0)


def page_records(page: Page) -> tuple[str, bytes]:
    """A fetched page as WARC records, each its own gzip member: the request, then the response
    (its payload as the crawl read it, decoded; the headers that described the encoding on the
    wire left out, its length given). Returns the response's WARC-Record-ID and the bytes."""
    from warcio.statusandheaders import StatusAndHeaders  # noqa: PLC0415 - only with NEWS_WARC_OUTPUT
    from warcio.warcwriter import WARCWriter  # noqa: PLC0415

    url, body = page.url, page.body
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    when = {"WARC-Date": page.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    target = urlsplit(url)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    response_headers = [
        (name, value) for name, value in page.http_headers if name.lower() not in _WIRE_HEADERS
    ]
    response_headers.append(("Content-Length", str(len(body))))
    try:
        reason = HTTPStatus(page.status).phrase
    except ValueError:
        reason = "Unknown"
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=StatusAndHeaders(f"{page.status} {reason}", response_headers, protocol="HTTP/1.1"),
        warc_headers_dict=dict(when),
    )
    record_id = response.rec_headers.get_header("WARC-Record-ID")
    request_lines = [(name, value) for name, value in page.request_headers if name.lower() != "host"]
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {path} HTTP/1.1", [("Host", target.netloc), *request_lines], is_http_request=True
        ),
        warc_headers_dict={**when, "WARC-Concurrent-To": record_id},
    )
    writer.write_record(request)
    writer.write_record(response)
    return record_id, buffer.getvalue()


def as_response(
    url: str, status: int, headers: list[tuple[str, str]], body: bytes, request: Any = None
) -> Any:
    """The response Scrapy would have made of these bytes: its class, so its encoding rules."""
    from scrapy.http import Headers  # noqa: PLC0415 - Scrapy only where a page is made
    from scrapy.responsetypes import responsetypes  # noqa: PLC0415

    scrapy_headers = Headers(headers)
    cls = responsetypes.from_args(headers=scrapy_headers, url=url, body=body)
    return cls(url=url, status=status, headers=scrapy_headers, body=body, request=request)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def display(location: str) -> str:
    """A location as the log shows it: local paths absolute."""
    return location if is_remote(location) else os.path.abspath(location)
