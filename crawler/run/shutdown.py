"""SIGTERM and SIGINT end a run within a bounded time, whatever its download delays.

Scrapy's graceful shutdown waits for every request the downloader holds, and a request
held by a download delay (an hour with ``DOWNLOAD_DELAY=3600``, or a site's
``Crawl-delay``) holds the run, its lock and cron's next runs as long. Here the first
signal still starts Scrapy's graceful shutdown, and on top of it:

- requests that wait for their turn in the downloader (a delay, a full slot) are
  cancelled at once, and again every half second until the crawl has closed: they were
  never sent, the next run discovers them again (``news/shutdown/cancelled``);
- downloads in flight and pages being processed get ``NEWS_SHUTDOWN_GRACE`` seconds to
  finish, so the sink completes its parts and the run summary is written;
- after that the run stops as after a second signal: parts still open stay as they are,
  and the next run completes them (as after a kill), so no written record is lost.

A second signal stops at once, as in Scrapy.
"""

from __future__ import annotations

import logging
import signal
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet.error import ReactorNotRunning

from crawler.middlewares.retry_after import PausedRequest
from crawler.run.stats import count

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_SWEEP_SECONDS = 0.5


class ShutdownCancelled(PausedRequest):
    """A request that was still waiting for its turn when the run was told to stop. Like a paused
    request it is not a failed fetch: it was never sent, and the next run discovers it again."""


class ShutdownGrace:
    """Bounds a run's shutdown; ``install`` before the crawl starts."""

    def __init__(self, crawler: Crawler, grace: float):
        self.crawler = crawler
        self.grace = grace
        self.signalled = False
        self.closed = False
        self._previous: dict[int, Any] = {}
        self._sweeper: Any = None

    @classmethod
    def install(cls, crawler: Crawler) -> ShutdownGrace:
        guard = cls(crawler, crawler.settings.getfloat("NEWS_SHUTDOWN_GRACE", 8.0))
        # Scrapy installs its handlers once the reactor runs, before the engine starts
        crawler.signals.connect(guard._wrap_handlers, signal=signals.engine_started)
        crawler.signals.connect(guard._spider_closed, signal=signals.spider_closed)
        crawler._news_shutdown = guard  # type: ignore[attr-defined]  # signals hold their receivers weakly
        return guard

    def _wrap_handlers(self) -> None:
        for number in _SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous):
                self._previous[number] = previous
                signal.signal(number, self._handle)

    def _handle(self, number: int, frame: Any) -> None:
        previous = self._previous.get(number)
        if previous is not None:
            previous(number, frame)  # Scrapy's: a graceful stop now, and a forced one on the next signal
        if not self.signalled:
            self.signalled = True
            from twisted.internet import reactor  # noqa: PLC0415 - the installed one

            reactor.callFromThread(self._start)

    def _start(self) -> None:
        from twisted.internet import reactor  # noqa: PLC0415
        from twisted.internet.task import LoopingCall  # noqa: PLC0415

        logger.info(
            "Stopping: requests not yet sent are cancelled; downloads and pages in progress get "
            "%(grace)g s (NEWS_SHUTDOWN_GRACE)",
            {"grace": self.grace},
        )
        self._sweeper = LoopingCall(self._cancel_waiting)
        self._sweeper.start(_SWEEP_SECONDS, now=True)
        reactor.callLater(self.grace, self._force)

    def _cancel_waiting(self) -> None:
        """Fail every request a downloader slot holds back (delay, concurrency): it was never sent."""
        engine = self.crawler.engine
        downloader = getattr(engine, "downloader", None)
        if self.closed or downloader is None:
            return
        cancelled = 0
        for slot in list(downloader.slots.values()):
            if slot.latercall is not None:
                slot.latercall.cancel()
                slot.latercall = None
            while slot.queue:
                request, deferred = slot.queue.popleft()
                count(self.crawler.stats, "shutdown/cancelled", request.meta.get("news_source"))
                deferred.errback(ShutdownCancelled("the run is stopping"))
                cancelled += 1
        if cancelled:
            logger.debug("Stopping: %(n)d waiting request(s) cancelled", {"n": cancelled})

    def _spider_closed(self) -> None:
        self.closed = True
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()

    def _force(self) -> None:
        if self.closed:
            return
        from twisted.internet import reactor  # noqa: PLC0415

        logger.warning(
            "Still not stopped %(grace)g s after the signal (NEWS_SHUTDOWN_GRACE): stopping now; parts "
            "left open are completed by the next run",
            {"grace": self.grace},
        )
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        with suppress(ReactorNotRunning):
            reactor.stop()
