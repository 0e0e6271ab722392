"""``scrapy crawlall``: the one command for cron and Docker.

Crawls every source of the sources file in one process (the sources in
parallel, each within its own politeness limits), under a lock so that runs
never overlap, and exits with a code that says how the run went:

- 0: the run succeeded;
- 1: the run failed (see the summary's ``problems``);
- 2: it could not start (bad sources file or settings, S3 output not writable);
- 3: the crawl went well but parts wait in the S3 spool (S3 unreachable): ``scrapy flush``;
- 75: another run holds the lock; nothing was done.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.extensions.metrics import write_metrics
from crawler.extensions.summary import EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE, start_failure
from crawler.settings_check import settings_problems
from crawler.state import state_path

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)


class RunLock:
    """An exclusive ``flock`` on a file, released by the OS if the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: Any = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            print(f"Another run holds {self.path} ({holder or 'pid unknown'}); exiting.", file=sys.stderr)
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def lock_path(settings: Any) -> Path:
    """NEWS_LOCK_FILE, or the state file's absolute path + ".lock": runs from any folder exclude each other."""
    if settings.get("NEWS_LOCK_FILE"):
        return Path(settings.get("NEWS_LOCK_FILE")).expanduser().resolve()
    state = state_path(settings.get("NEWS_STATE"))
    return state.with_name(state.name + ".lock")


def _startup_error(task: Any) -> BaseException | None:
    """The exception that stopped the crawl from starting, if any."""
    if isinstance(task, asyncio.Future) and task.done() and not task.cancelled():
        return task.exception()
    return None


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Crawl every source of the sources file once (for cron and Docker); see exit codes"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(
                "crawlall takes no arguments; select sources with `scrapy crawl news -a source=...`"
            )
        assert self.settings is not None and self.crawler_process is not None
        problems = settings_problems(self.settings)
        if problems:
            self._cannot_start("; ".join(problems))
            return
        lock = RunLock(lock_path(self.settings))
        try:
            acquired = lock.acquire()
        except OSError as exc:
            where = (
                "NEWS_LOCK_FILE"
                if self.settings.get("NEWS_LOCK_FILE")
                else f"NEWS_STATE {state_path(self.settings.get('NEWS_STATE'))}"
            )
            self._cannot_start(
                f"{where}: cannot create the run lock {lock.path} ({exc.strerror or exc}); "
                "its folder is missing, read-only or not writable by this user"
            )
            return
        if not acquired:
            self.exitcode = EXIT_LOCKED
            return
        try:
            try:
                crawler = self.crawler_process.create_crawler("news")
            except ValueError as exc:  # SourcesError and bad settings
                self._cannot_start(exc)
                return
            task = self.crawler_process.crawl(crawler)
            self.crawler_process.start()
            startup_error = _startup_error(task)
            summary = getattr(crawler, "news_summary", None)
            if isinstance(startup_error, ValueError):  # state or output unusable (S3 preflight)
                self._cannot_start(startup_error)
            elif self.crawler_process.bootstrap_failed or summary is None:
                self.exitcode = EXIT_FAILED
            else:
                self.exitcode = summary["exit_code"]
        finally:
            lock.release()

    def _cannot_start(self, exc: BaseException | str) -> None:
        """One line saying why, exit 2; the run summary and the metrics file still say so where they can."""
        print(f"crawlall: cannot start: {exc}", file=sys.stderr)
        self.exitcode = EXIT_USAGE
        assert self.settings is not None
        summary = start_failure(self.settings, str(exc))
        if self.settings.get("NEWS_METRICS_FILE"):
            try:
                write_metrics(Path(self.settings.get("NEWS_METRICS_FILE")), summary)
            except OSError as error:
                logger.debug("No metrics written: %s", error)
