"""``scrapy crawl <spider>`` with the exit codes of ``crawlall``.

Scrapy's own ``crawl`` exits 0 for a run that failed and 1 with a traceback for one
that could not start. This one checks the settings first and exits 0 (ok), 1 (the
run failed: see the summary's ``problems``), 2 (it could not start: one line says
why, no traceback) or 3 (parts wait in the S3 spool).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.commands._start import cannot_start, crawl_exit_code
from crawler.settings_check import settings_problems

if TYPE_CHECKING:
    import argparse


class Command(NewsCommand, ScrapyCrawlCommand):
    command_name = "crawl"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider: `scrapy crawl news` or `scrapy crawl article -a url=...`")
        assert self.settings is not None and self.crawler_process is not None
        problems = self.start_problems + settings_problems(self.settings)
        if problems:
            self.exitcode = cannot_start("crawl", self.settings, "; ".join(problems))
            return
        try:
            crawler = self._create_crawler(args[0])
        except (ValueError, KeyError) as exc:  # no such spider, settings it refuses
            self.exitcode = cannot_start("crawl", self.settings, exc)
            return
        task = self.crawler_process.crawl(crawler, **opts.spargs)
        self.exitcode = crawl_exit_code("crawl", self.crawler_process, crawler, task)
