"""``news-ingest archive``: the HTML pages of web archives (WARC) through the same steps as a crawl.

Nothing is downloaded: each response record of each archive becomes a page as the crawl would
have made of the same HTTP response (same encoding rules, same limits), with the capture time
(WARC-Date) as ``fetched_at``, and goes through extraction, dates, dedupe, learning and the sink.
The source of a page is the source of the sources file whose domains hold its host, else
``archive``. An archive read to its end, with every page of it written or dropped, is remembered
in the state: a rerun (after a kill, or over a folder that grew) passes over it; a page of an
archive read half-way is written once anyway, the state knowing it as emitted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import scrapy
from scrapy import signals

from crawler.cli import version
from crawler.discovery.sources import Source, load_sources
from crawler.discovery.warc import (
    ArchivedResponse,
    ArchiveError,
    archive_files,
    as_response,
    cc_news_files,
    display,
    host_of,
    is_remote,
    kept_pages,
    open_archive,
    responses,
)
from crawler.run.drops import count_drop
from crawler.run.stats import count
from crawler.spiders.base import NewsSpider
from crawler.state.access import store_for

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "archive"


class ArchiveUsageError(ValueError):
    """The archive command was given nothing usable (no archive, a bad filter)."""


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ArchiveUsageError(f"{what} {value!r}: expected a day as YYYY-MM-DD") from exc


class ArchiveSpider(NewsSpider):
    """Pages from WARC files: ``archives`` (locations), filters ``domains``, ``since``/``until``
    (the capture day, WARC-Date), ``published_since``/``published_until`` (the article's own
    publication day, once its dates are read), ``languages``."""

    name = "archive"
    custom_settings: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        archives: list[str] | str = (),  # type: ignore[assignment]
        *,
        domains: list[str] | str = (),  # type: ignore[assignment]
        since: str = "",
        until: str = "",
        published_since: str = "",
        published_until: str = "",
        languages: list[str] | str = (),  # type: ignore[assignment]
        only_sources: bool = False,
        cc_news: list[str] | str = (),  # type: ignore[assignment]
        reprocess: str = "",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.locations = _listed(archives)
        self.months = _listed(cc_news)
        # `news-ingest reprocess`: the WARC files our own crawls kept beside their parts
        self.reprocess = reprocess.rstrip("/")
        if self.reprocess and not is_remote(self.reprocess):
            self.reprocess = str(Path(self.reprocess).expanduser().resolve())
        if self.reprocess:
            self.locations = [self.reprocess]
        if not self.locations and not self.months:
            raise ArchiveUsageError(
                "give at least one archive: a WARC file, a folder, s3://... or https://..."
            )
        self.domains = [domain.lower().lstrip(".") for domain in _listed(domains)]
        self.since = parse_day(since, "--since") if since else None
        self.until = parse_day(until, "--until") if until else None
        if self.since and self.until and self.since > self.until:
            raise ArchiveUsageError(f"--since {self.since} is after --until {self.until}")
        self.published = [
            parse_day(published_since, "--published-since").isoformat() if published_since else None,
            parse_day(published_until, "--published-until").isoformat() if published_until else None,
        ]
        self.languages = [language.lower() for language in _listed(languages)]
        self.only_sources = bool(only_sources)
        self.source_table: dict[str, Source] = {}
        self._source_of_host: dict[str, Source | None] = {}
        self._inflight: dict[str, list[str]] = {}  # page URL -> the archive of each page in the pipelines
        self._left: dict[str, int] = {}  # archive -> its pages still in the pipelines
        self._finished: dict[str, int] = {}  # archive read to its end -> its responses
        self._pending = 0
        self._read_all = False
        self._failed: set[str] = set()  # archives with a page a step failed on
        self._lost_track = False
        self._room = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArchiveSpider:
        spider: ArchiveSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        path = Path(str(settings.get("NEWS_SOURCES") or "")).expanduser()
        if spider.only_sources or path.is_file():
            spider.source_table = load_sources(
                settings.get("NEWS_SOURCES"),
                max_depth=settings.getint("NEWS_DISCOVERY_MAX_DEPTH"),
                max_pages=settings.getint("NEWS_DISCOVERY_MAX_PAGES"),
            )
        for signal in (signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(spider._item_done, signal=signal)
        crawler.signals.connect(spider._item_error, signal=signals.item_error)
        return spider

    # --- reading ------------------------------------------------------------------

    async def start(self) -> AsyncIterator[dict[str, Any]]:
        settings = self.crawler.settings
        stats = self.crawler.stats
        store = store_for(self.crawler) if settings.getbool("NEWS_STATE_ENABLED") else None
        done = store.archives_done() if store is not None else set()
        max_bytes = settings.getint("DOWNLOAD_MAXSIZE") or 1 << 30
        # pages handed to the pipelines and not out of them yet: reading waits beyond this, so
        # that memory does not grow with the archive
        most = max(16, 4 * settings.getint("NEWS_EXTRACT_MAX_PENDING", 8))
        base = str(settings.get("NEWS_CC_NEWS_BASE") or "")
        wanted = [("cc-news", month) for month in self.months] + [("", place) for place in self.locations]
        for kind, location in wanted:
            try:
                if kind:
                    files = await asyncio.to_thread(cc_news_files, location, base)
                elif self.reprocess:
                    files = await asyncio.to_thread(kept_pages, location)
                else:
                    files = await asyncio.to_thread(archive_files, location)
            except ArchiveError as exc:  # an outage of the store: the other locations still count
                count(stats, "archive/files_failed")
                logger.error("Could not list %(location)s: %(error)s", {"location": location, "error": exc})
                continue
            if not files:
                logger.warning(
                    "No WARC file (*.warc, *.warc.gz) at %(location)s", {"location": display(location)}
                )
            for archive in files:
                if self._done_key(archive) in done:
                    count(stats, "archive/files_skipped_done")
                    logger.info(
                        "Passing over %(archive)s: read to its end by an earlier run", {"archive": archive}
                    )
                    continue
                async for item in self._pages_of(archive, max_bytes):
                    while self._pending >= most:
                        self._room.clear()
                        await self._room.wait()
                    yield item
                self._archive_read(archive)
        self._read_all = True

    async def _pages_of(self, archive: str, max_bytes: int) -> AsyncIterator[dict[str, Any]]:
        """The items of one archive; an archive that cannot be read is counted and logged, and the
        run goes on with the next."""
        stats = self.crawler.stats
        self._left[archive] = 0
        total = 0
        try:
            with open_archive(archive) as stream:
                records = responses(stream, max_bytes)
                while True:
                    # reading and decompressing are blocking: in a thread, so the pipelines keep going
                    response = await asyncio.to_thread(next, records, None)
                    if response is None:
                        break
                    total += 1
                    count(stats, "archive/responses")
                    page = self._page(response, archive)
                    if page is not None:
                        self._inflight.setdefault(page.url, []).append(archive)
                        self._pending += 1
                        self._left[archive] += 1
                        yield {"_page": page}
        except Exception as exc:  # a damaged file, a connection that broke mid-stream: the next one
            count(stats, "archive/files_failed")
            logger.error("Could not read %(archive)s: %(error)s", {"archive": archive, "error": exc})
            self._failed.add(archive)
            return
        self._finished[archive] = total
        count(stats, "archive/files_read")

    def _page(self, response: ArchivedResponse, archive: str) -> Any:
        stats = self.crawler.stats
        host = host_of(response.url)
        if not response.url.startswith(("http://", "https://")) or not host:
            count(stats, "skipped/bad_url")
            return None
        if self.reprocess:
            return self._kept_page(response, archive)
        source = self._source_for(host)
        if self.domains and not any(host == d or host.endswith("." + d) for d in self.domains):
            count(stats, "skipped/domain")
            return None
        if self.only_sources and source is None:
            count(stats, "skipped/domain")
            return None
        name = source.name if source is not None else DEFAULT_SOURCE
        day = response.captured_at.date()
        if (self.since and day < self.since) or (self.until and day > self.until):
            count(stats, "skipped/out_of_range", name)
            return None
        if not 200 <= response.status < 300:
            count(stats, "skipped/archive_status", name)
            return None
        if response.oversized:
            count_drop(stats, "fetch_error", response.url, "response over DOWNLOAD_MAXSIZE", source=name)
            return None
        count(stats, "pages_fetched", name)
        hints: dict[str, Any] = source.hints() if source is not None else {}
        if self.languages:
            hints["languages"] = list(self.languages)
        if any(self.published):
            hints["published_range"] = list(self.published)
        return self._made(response, name, hints)

    def _kept_page(self, response: ArchivedResponse, archive: str) -> Any:
        """A page our crawl kept: its source is its folder's, and the record points at the same
        WARC record as before (no new copy of the page is written)."""
        if not 200 <= response.status < 300:
            return None
        relative = archive[len(self.reprocess) + 1 :]
        name = unquote(relative.split("/", 1)[0].removeprefix("source="))
        source = self.source_table.get(name)  # its rules (strip, time zone, language) as in its crawl
        hints = {**(source.hints() if source is not None else {}), "warc_file": relative}
        hints["warc_record_id"] = response.record_id
        count(self.crawler.stats, "pages_fetched", name)
        return self._made(response, name, hints)

    def _made(self, response: ArchivedResponse, name: str, hints: dict[str, Any]) -> Any:
        """The page a crawl would have made of the same HTTP response."""
        request = scrapy.Request(response.url, meta={"news_source": name, "news_hints": hints})
        http = as_response(response.url, response.status, response.headers, response.body, request)
        return self.make_page(http, fetched_at=response.captured_at)

    def _source_for(self, host: str) -> Source | None:
        if host not in self._source_of_host:
            url = f"http://{host}/"
            self._source_of_host[host] = next(
                (source for source in self.source_table.values() if source.allows_domain(url)), None
            )
        return self._source_of_host[host]

    # --- completion ---------------------------------------------------------------

    def _done_key(self, archive: str) -> str:
        """How the state remembers an archive: a reprocess by the extractor's version, so that the
        next upgrade reprocesses the same files again."""
        return f"reprocess@{version()}:{archive}" if self.reprocess else archive

    def _item_error(self, item: Any, **kwargs: Any) -> None:
        """A page a pipeline step failed on: its archive is not remembered as done (a rerun reads it)."""
        page = item.get("_page") if isinstance(item, dict) else None
        archives = self._inflight.get(getattr(page, "url", None) or "") if page is not None else None
        if archives:
            self._failed.add(archives[0])
        else:
            self._lost_track = True
        self._item_done(item, **kwargs)

    def _item_done(self, item: Any, **kwargs: Any) -> None:
        """A page is out of the pipelines (written, dropped or failed). Scrapy reports a dropped
        item as the spider made it (its ``_page``), a written one as the record (its ``url``)."""
        if not isinstance(item, dict):
            return
        page = item.get("_page")
        url = getattr(page, "url", None) or item.get("url")
        archives = self._inflight.get(url) if url else None
        if not archives:
            # a page whose URL a step changed (an extraction plugin): counted out all the same, so
            # that reading goes on, but no archive is remembered as done in this run any more
            if self._pending > sum(len(waiting) for waiting in self._inflight.values()):
                self._pending -= 1
                self._room.set()
            if not self._lost_track:
                self._lost_track = True
                logger.warning(
                    "A page came out of the steps under another URL: no archive is remembered as done"
                )
            return
        archive = archives.pop(0)
        if not archives:
            del self._inflight[url]
        self._pending -= 1
        self._room.set()
        if archive in self._left:
            self._left[archive] -= 1
        if self._pending == 0 and self._read_all:
            # the last page is out: let the engine see now that the run is done, not at its next
            # heartbeat (seconds later)
            slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()
        if archive in self._finished and self._left.get(archive) == 0:
            self._remember(archive)

    def _archive_read(self, archive: str) -> None:
        if archive in self._finished and self._left.get(archive) == 0:
            self._remember(archive)

    def _remember(self, archive: str) -> None:
        responses_read = self._finished.pop(archive)
        self._left.pop(archive, None)
        if archive in self._failed or self._lost_track:
            return
        if self.crawler.settings.getbool("NEWS_STATE_ENABLED"):
            store_for(self.crawler).archive_done(self._done_key(archive), responses_read)
        logger.info("Read %(archive)s to its end: %(n)d responses", {"archive": archive, "n": responses_read})


def _listed(value: list[str] | tuple[str, ...] | str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]
