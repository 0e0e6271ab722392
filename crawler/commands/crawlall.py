"""``scrapy crawlall``: the one command for cron and Docker.

Crawls every source of the sources file in one process (the sources in
parallel, each within its own politeness limits), under a lock so that runs
never overlap, and exits with a code that says how the run went:

- 0: the run succeeded;
- 1: the run failed (see the summary's ``problems``);
- 2: it could not start (bad sources file or settings, S3 output not writable);
- 3: the crawl went well but parts wait in the S3 spool (S3 unreachable): ``scrapy flush``;
- 75: another run holds the lock; nothing was done.

``--shard I/N`` (or ``NEWS_SHARD``, or ``JOB_COMPLETION_INDEX`` with ``NEWS_SHARDS``)
crawls this worker's part of the sources (``crawler/state/shards.py``): N workers over one
shared state; a worker whose index is at or beyond the number of site groups has nothing
to crawl (one warning, exit 0). Each site group is crawled under a lock in the state
store (a PostgreSQL advisory lock; with a SQLite state, workers of one machine each with
its own ``NEWS_LOCK_FILE``, a byte of a lock file beside the state), so a group another
worker holds is skipped, and a dead worker's groups are free again when its connection
(or process) goes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.commands._start import cannot_start, crawl_exit_code
from crawler.extensions.summary import EXIT_LOCKED, EXIT_OK
from crawler.run.settings_check import settings_problems
from crawler.spiders.news import sources_for
from crawler.state.shards import Shard, groups_of, parse_shard
from crawler.state.store import is_database_url, state_path

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


def lock_path(settings: Any) -> Path | None:
    """NEWS_LOCK_FILE, or the state file's absolute path + ".lock": runs from any folder exclude
    each other. A state on a database server has no file lock: its site-group locks keep two
    workers off the same sites."""
    if settings.get("NEWS_LOCK_FILE"):
        return Path(settings.get("NEWS_LOCK_FILE")).expanduser().resolve()
    if is_database_url(settings.get("NEWS_STATE")):
        return None
    state = state_path(settings.get("NEWS_STATE"))
    return state.with_name(state.name + ".lock")


def shard_of(settings: Any) -> Shard | None:
    return parse_shard(settings.get("NEWS_SHARD")) if settings.get("NEWS_SHARD") else None


class Command(NewsCommand, ScrapyCommand):
    command_name = "crawlall"

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Crawl every source of the sources file once (for cron and Docker); see exit codes"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--shard", metavar="I/N", help="crawl this worker's part of the sources: shard I (from 0) of N"
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if opts.shard is not None:
            assert self.settings is not None
            if not opts.shard.strip():  # `--shard=` (an unset variable in a script): not "every source"
                self.start_problems.append(
                    "--shard '': expected I/N, e.g. 0/4 (indexes count from 0); leave the option out "
                    "to crawl every source"
                )
            else:
                self.settings.set("NEWS_SHARD", opts.shard, priority="cmdline")

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError(
                "crawlall takes no arguments; select sources with `scrapy crawl news -a source=...`"
            )
        assert self.settings is not None and self.crawler_process is not None
        problems = self.start_problems + settings_problems(self.settings)
        if problems:
            self.exitcode = cannot_start("crawlall", self.settings, "; ".join(problems))
            return
        try:  # a sources file that cannot be used stops the run before the lock file is made
            sources_for(self.settings)
        except ValueError as exc:
            self.exitcode = cannot_start("crawlall", self.settings, exc)
            return
        path = lock_path(self.settings)
        if path is None:
            self.exitcode = self._crawl()
            return
        lock = RunLock(path)
        try:
            acquired = lock.acquire()
        except OSError as exc:
            where = (
                "NEWS_LOCK_FILE"
                if self.settings.get("NEWS_LOCK_FILE")
                else f"NEWS_STATE {state_path(self.settings.get('NEWS_STATE'))}"
            )
            self.exitcode = cannot_start(
                "crawlall",
                self.settings,
                f"{where}: cannot create the run lock {lock.path} ({exc.strerror or exc}); "
                "its folder is missing, read-only or not writable by this user",
            )
            return
        if not acquired:
            self.exitcode = EXIT_LOCKED
            return
        try:
            self.exitcode = self._crawl()
        finally:
            lock.release()

    def _crawl(self) -> int:
        assert self.settings is not None and self.crawler_process is not None
        shard = shard_of(self.settings)
        spider_args: dict[str, Any] = {}
        try:
            if shard is not None:
                groups, total = groups_of(sources_for(self.settings), shard)
                if not groups:
                    # N above the site groups (a site left the sources file): the other workers
                    # keep their groups, and this one has nothing to crawl
                    logger.warning(
                        "Shard %(shard)s has no site group: the sources file has %(total)d site group(s)",
                        {"shard": shard, "total": total},
                    )
                    return EXIT_OK
                names = sorted(name for members in groups.values() for name in members)
                logger.info(
                    "Shard %(shard)s: %(groups)d site group(s), %(sources)d source(s)",
                    {"shard": shard, "groups": len(groups), "sources": len(names)},
                )
                spider_args = {"source": ",".join(names), "groups": groups}
            elif is_database_url(self.settings.get("NEWS_STATE")):
                # a shared state takes no lock file: site-group locks keep two overlapping runs apart
                spider_args = {"groups": groups_of(sources_for(self.settings), Shard(0, 1))[0]}
            crawler = self.crawler_process.create_crawler("news")
        except ValueError as exc:  # SourcesError and bad settings
            return cannot_start("crawlall", self.settings, exc)
        crawler.news_command = "crawlall" + (f" --shard {shard}" if shard is not None else "")  # type: ignore[attr-defined]  # the banner's
        task = self.crawler_process.crawl(crawler, **spider_args)
        return crawl_exit_code("crawlall", self.crawler_process, crawler, task)
