"""Extract step: a page's article fields and dates, computed in a pool of worker processes.

Extraction and date parsing are CPU-bound and Scrapy runs in one thread, so the
work goes to ``NEWS_EXTRACT_WORKERS`` processes (pebble's process pool: workers
start once, a task that crashes or hangs its worker fails alone). At most
``NEWS_EXTRACT_MAX_PENDING`` pages wait for a worker; beyond that this step
does not return, Scrapy's scraper fills up and the downloads pause, so memory
stays bounded when downloading outruns extraction. A page whose worker dies is
dropped as ``extract_error``, one that takes longer than ``NEWS_EXTRACT_TIMEOUT``
as ``extract_timeout``; the crawl goes on.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import resource
import sys
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from pebble import ProcessExpired, ProcessPool

from crawler.discovery.warc import page_records
from crawler.run.drops import DropArticle
from crawler.run.stats import count
from pipelines.boilerplate import LINK_PARAGRAPHS, LinkHints, link_hints_for
from pipelines.validate import WARC_PAYLOAD
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.pages.page import Page

logger = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.0005  # seconds


def worker_count(setting: int) -> int:
    """``NEWS_EXTRACT_WORKERS``: -1 means one per available core; 0 extracts in the crawl's own thread."""
    if setting >= 0:
        return setting
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class ExtractArticlePipeline:
    def __init__(
        self,
        options: WorkOptions,
        stats: StatsCollector,
        workers: int = 0,
        timeout: float = 30.0,
        max_pending: int = 0,
    ):
        self.options = options
        self.stats = stats
        self.workers = workers
        self.timeout = timeout
        self.max_pending = max_pending or 2 * max(workers, 1)
        self.pool: ProcessPool | None = None
        self._slots: asyncio.Semaphore | None = None
        # which paragraphs are a label and a link, for the template step (pipelines/boilerplate.py)
        self.link_hints: LinkHints | None = None
        self.warc_output = False  # NEWS_WARC_OUTPUT

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractArticlePipeline:
        settings = crawler.settings
        options = WorkOptions.from_settings(settings)
        pipeline = cls(
            options,
            crawler.stats,
            workers=worker_count(settings.getint("NEWS_EXTRACT_WORKERS")),
            timeout=settings.getfloat("NEWS_EXTRACT_TIMEOUT"),
            max_pending=settings.getint("NEWS_EXTRACT_MAX_PENDING"),
        )
        pipeline.link_hints = link_hints_for(crawler)
        pipeline.warc_output = settings.getbool("NEWS_WARC_OUTPUT")
        return pipeline

    def open_spider(self) -> None:
        if self.workers > 0:
            if multiprocessing.get_start_method() == "fork":
                # warmed up here, once: forked workers inherit the loaded data instead of each loading it
                init_worker(self.options)
                # and keep sharing it: a full garbage collection in a worker would otherwise write
                # to every inherited object and copy all of their pages (tens of MB a worker)
                gc.collect()
                gc.freeze()
            # The reactor's thread and the pool's result and scheduling threads hand every page
            # back and forth; at the default 5 ms switch interval a worker waits for that.
            sys.setswitchinterval(SWITCH_INTERVAL)
            self.pool = ProcessPool(
                max_workers=self.workers, initializer=init_worker, initargs=(self.options,)
            )
        else:
            init_worker(self.options)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join(timeout=60)
            # the largest resident size any worker reached (the workers are reaped by now)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
            self.stats.set_value("news/extract/worker_max_rss_mb", peak)

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        page: Page = item["_page"]
        result = await self._analyse(PagePayload.of(page))
        for note in result.pop("_notes", ()):  # what a per-page bound cut from this page
            count(self.stats, f"extract/{note}", page.source)
        if "_drop" in result:
            raise DropArticle(*result["_drop"])
        wanted = page.hints.get("languages")  # `news-ingest archive --language`
        if wanted and (result.get("language") or "") not in wanted:
            raise DropArticle("other_language", f"{result.get('language')}, not one of {', '.join(wanted)}")
        links = result.pop(LINK_PARAGRAPHS, None)
        if links and self.link_hints is not None:
            self.link_hints.put(result, links)
        result["_page"] = page
        if page.hints.get("warc_record_id"):  # reprocessed from a kept WARC file: the same copy
            result["warc_file"], result["warc_record_id"] = (
                page.hints["warc_file"],
                page.hints["warc_record_id"],
            )
        elif self.warc_output:  # the page as fetched, for the sink to keep beside the record's part
            result["warc_record_id"], result[WARC_PAYLOAD] = page_records(page)
        count(self.stats, "extracted", page.source)
        return result

    async def _analyse(self, payload: PagePayload) -> dict[str, Any]:
        if self.pool is None:
            return analyse(payload)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_pending)
        async with self._slots:
            for attempt in range(2):
                try:
                    future = self.pool.schedule(analyse, args=(payload,), timeout=self.timeout)
                except (OSError, RuntimeError) as exc:
                    # the pool cannot run here after all: go on in this thread rather than lose pages
                    logger.warning(
                        "Extraction workers failed (%(error)s); extracting in the crawl's thread",
                        {"error": exc},
                    )
                    self.pool.stop()
                    self.pool = None
                    init_worker(self.options)
                    return analyse(payload)
                # the pool enforces the timeout; this one only guards against a pool gone wrong
                done, _ = await asyncio.wait({asyncio.wrap_future(future)}, timeout=self.timeout * 2 + 30)
                if not done:
                    future.cancel()
                elif not isinstance(future.exception(), (TimeoutError, FutureTimeout)):
                    break
                if attempt:
                    break
                # A timeout, or no answer at all, once: a task handed to a worker that the pool was
                # replacing at that moment times out without having run (pebble's race, seen under
                # load). A fresh worker tries the page once more; a page that hangs hangs again.
                logger.warning(
                    "Extraction of %(url)s ran out of time; once more in a fresh worker", {"url": payload.url}
                )
            try:
                if not future.done():
                    future.cancel()
                    raise FutureTimeout
                return future.result()
            except (TimeoutError, FutureTimeout):
                return {
                    "_drop": (
                        "extract_timeout",
                        f"no result within {self.timeout:g} s, twice; worker replaced",
                    )
                }
            except ProcessExpired as exc:
                return {"_drop": ("extract_error", f"the worker died (exit code {exc.exitcode})")}
            except Exception as exc:  # an exception raised by the extractor on this page
                logger.warning(
                    "Extraction failed for %(url)s: %(error)r",
                    {"url": payload.url, "error": exc},
                    exc_info=exc,
                )
                return {"_drop": ("extract_error", f"{type(exc).__name__}: {exc}")}
