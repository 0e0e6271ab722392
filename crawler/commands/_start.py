"""What every command that crawls shares: the start checks, and one set of exit codes.

0 ok, 1 failed run, 2 could not start, 3 uploads pending (see ``crawler/extensions/summary.py``);
``crawlall`` adds 75 for a run that found the lock taken.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from pathlib import Path
from typing import Any

from crawler.commands._base import unexpected_error
from crawler.extensions.metrics import write_metrics
from crawler.extensions.summary import (
    EXIT_FAILED,
    EXIT_UPLOADS_PENDING,
    EXIT_USAGE,
    DeferredRun,
    start_failure,
)
from crawler.run.shutdown import ShutdownGrace
from crawler.state.dsn import scrub

logger = logging.getLogger(__name__)


def startup_error(task: Any) -> BaseException | None:
    """The exception that stopped the crawl from starting, if any."""
    if isinstance(task, asyncio.Future) and task.done() and not task.cancelled():
        return task.exception()
    return None


def cannot_start(command: str, settings: Any, problem: BaseException | str, spider: str = "crawlall") -> int:
    """One line saying why, and exit code 2; the run summary and the metrics file say so where they can.

    The line goes through logging, so that it is where the run's log goes (stderr, ``LOG_FILE``).
    Whatever raised it, it shows no secret of the state's connection string."""
    problem = scrub(str(problem), str(settings.get("NEWS_STATE") or ""))
    logger.error("%(command)s: cannot start: %(problem)s", {"command": command, "problem": problem})
    summary = start_failure(settings, str(problem), spider=spider)
    if settings.get("NEWS_METRICS_FILE"):
        try:
            write_metrics(Path(settings.get("NEWS_METRICS_FILE")), summary)
        except OSError as error:
            logger.debug("No metrics written: %s", error)
    return EXIT_USAGE


def crawl_exit_code(command: str, process: Any, crawler: Any, task: Any) -> int:
    """Run the crawl started as ``task`` and say how it went."""
    ShutdownGrace.install(crawler)
    process.start()
    error = startup_error(task)
    if isinstance(error, ValueError):  # state, output, sources or a spider argument unusable
        return cannot_start(command, crawler.settings, error, crawler.spidercls.name)
    if isinstance(error, DeferredRun):  # nothing wrong with the settings: the next run tries again
        reason = scrub(str(error), str(crawler.settings.get("NEWS_STATE") or ""))
        logger.warning("%(command)s: not crawling now: %(reason)s", {"command": command, "reason": reason})
        summary = start_failure(
            crawler.settings, reason, "deferred", EXIT_UPLOADS_PENDING, crawler.spidercls.name
        )
        if crawler.settings.get("NEWS_METRICS_FILE"):
            with suppress(OSError):
                write_metrics(Path(crawler.settings.get("NEWS_METRICS_FILE")), summary)
        return EXIT_UPLOADS_PENDING
    if error is not None:  # nothing anyone planned for: one line, the traceback at DEBUG
        return unexpected_error(command, error, crawler.settings)
    summary = getattr(crawler, "news_summary", None)
    if process.bootstrap_failed or summary is None:
        return EXIT_FAILED
    return int(summary["exit_code"])
