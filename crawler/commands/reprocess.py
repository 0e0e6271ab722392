"""``reprocess``: the pages earlier crawls kept (NEWS_WARC_OUTPUT) extracted again, without refetching.

    news-ingest reprocess                        the WARC files beside the parts of NEWS_OUTPUT
    news-ingest reprocess --from /data/old       those of another output (local or s3://)

After an upgrade of the extraction, every kept page goes through the steps of a crawl again,
with its first fetch time: an article whose text comes out changed is written as a new version
(same ``id``, ``version`` + 1), an unchanged one is dropped as ``unchanged``. The records point
at the same WARC records (``warc_file``, ``warc_record_id``); no page is copied again. A WARC
file reprocessed to its end is remembered in the state, so a second run writes nothing. Exit
codes as ``crawl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.commands._start import cannot_start, crawl_exit_code
from crawler.discovery.warc import ArchiveError, is_remote, kept_pages
from crawler.run.settings_check import settings_problems

if TYPE_CHECKING:
    import argparse


class Command(NewsCommand, ScrapyCommand):
    command_name = "reprocess"

    def syntax(self) -> str:
        return "[--from OUTPUT] [options]"

    def short_desc(self) -> str:
        return "Extract the pages earlier crawls kept (NEWS_WARC_OUTPUT) again, as new versions where changed"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--from", dest="origin", default="", metavar="OUTPUT",
            help="the output whose kept WARC files are read (default: NEWS_OUTPUT)",
        )  # fmt: skip

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("reprocess takes no arguments; another output with --from OUTPUT")
        assert self.settings is not None and self.crawler_process is not None
        origin = opts.origin or str(self.settings.get("NEWS_OUTPUT") or "")
        problems = self.start_problems + settings_problems(self.settings)
        if not problems and not is_remote(origin):
            try:
                kept_pages(origin)
            except ArchiveError as exc:
                problems.append(f"--from {origin}: {exc}")
        if problems:
            self.exitcode = cannot_start("reprocess", self.settings, "; ".join(problems), "archive")
            return
        crawler = self.crawler_process.create_crawler("archive")
        crawler.news_command = "reprocess"  # type: ignore[attr-defined]  # the banner's
        task = self.crawler_process.crawl(crawler, reprocess=origin)
        self.exitcode = crawl_exit_code("reprocess", self.crawler_process, crawler, task)
