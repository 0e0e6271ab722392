"""``archive``: the HTML pages of web archives (WARC, WARC.gz) into records, as a crawl makes them.

    news-ingest archive crawl-2026-12.warc.gz                  one file
    news-ingest archive /data/warc/ --domain example.org       a folder's *.warc[.gz], one site
    news-ingest archive s3://bucket/warc/ --since 2026-12-01   the objects under a prefix, captured since
    news-ingest archive warc/ --published-since 2026-11-01     articles published since
    news-ingest archive https://example.org/a.warc.gz --language de,fr
    news-ingest archive --cc-news 2026/11 --domain example.org       a month of Common Crawl's CC-NEWS

Every HTML response goes through the extract, dates, dedupe, learning and sink steps of a
crawl, on the same worker processes; ``fetched_at`` is the capture time (WARC-Date). The
source of a page is the source of the sources file (NEWS_SOURCES, when it exists) whose
domains hold its host, else ``archive``. An archive read to its end is remembered in the state,
so a rerun after a kill goes on with the next, and the same article in two archives is written
once. Exit codes as ``crawl``: 0 ok, 1 failed, 2 could not start, 3 parts wait in the S3 spool.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.commands._start import cannot_start, crawl_exit_code
from crawler.discovery.warc import ArchiveError, archive_files, is_remote
from crawler.run.settings_check import settings_problems
from crawler.spiders.archive import ArchiveUsageError, parse_day

if TYPE_CHECKING:
    import argparse


class Command(NewsCommand, ScrapyCommand):
    command_name = "archive"

    def syntax(self) -> str:
        return "FILE|FOLDER|s3://...|https://... [...] [options]"

    def short_desc(self) -> str:
        return "Records from web archives (WARC files, folders, s3://, https://), as a crawl makes them"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--domain", action="append", default=[], metavar="DOMAIN[,DOMAIN]",
            help="only pages of these hosts (and their subdomains)",
        )  # fmt: skip
        parser.add_argument(
            "--cc-news", action="append", default=[], metavar="YYYY/MM",
            help="the WARC files of a month of Common Crawl's CC-NEWS (from NEWS_CC_NEWS_BASE)",
        )  # fmt: skip
        parser.add_argument(
            "--sources-only", action="store_true",
            help="only pages of the sources file's domains (NEWS_SOURCES)",
        )  # fmt: skip
        for option, what in (
            ("--since", "captured (WARC-Date) on or after"),
            ("--until", "captured (WARC-Date) on or before"),
            ("--published-since", "articles published on or after (their own date)"),
            ("--published-until", "articles published on or before (their own date)"),
        ):
            parser.add_argument(option, default="", metavar="YYYY-MM-DD", help=what)
        parser.add_argument(
            "--language", action="append", default=[], metavar="LANG[,LANG]",
            help="only articles in these languages (ISO 639-1, as in the record)",
        )  # fmt: skip

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args and not opts.cc_news:
            raise UsageError(
                "give at least one archive: a WARC file, a folder, s3://... or https://..., or --cc-news YYYY/MM"
            )
        assert self.settings is not None and self.crawler_process is not None
        problems = self.start_problems + settings_problems(self.settings)
        try:
            for day, option in (
                (opts.since, "--since"), (opts.until, "--until"),
                (opts.published_since, "--published-since"), (opts.published_until, "--published-until"),
            ):  # fmt: skip
                if day:
                    parse_day(day, option)
            for month in opts.cc_news:
                if not re.fullmatch(r"\d{4}/(0[1-9]|1[0-2])", month):
                    raise ArchiveUsageError(f"--cc-news {month!r}: expected a month as YYYY/MM")
            for location in args:
                if not is_remote(location):
                    archive_files(location)  # a local path that is not there stops the run now
        except (ArchiveUsageError, ArchiveError) as exc:
            problems.append(str(exc))
        if problems:
            self.exitcode = cannot_start("archive", self.settings, "; ".join(problems), "archive")
            return
        try:
            crawler = self.crawler_process.create_crawler("archive")
        except ValueError as exc:
            self.exitcode = cannot_start("archive", self.settings, exc, "archive")
            return
        crawler.news_command = "archive"  # type: ignore[attr-defined]  # the banner's
        task = self.crawler_process.crawl(
            crawler,
            archives=list(args),
            domains=[part for value in opts.domain for part in value.split(",")],
            since=opts.since,
            until=opts.until,
            published_since=opts.published_since,
            published_until=opts.published_until,
            languages=[part for value in opts.language for part in value.split(",")],
            only_sources=opts.sources_only,
            cc_news=list(opts.cc_news),
        )
        self.exitcode = crawl_exit_code("archive", self.crawler_process, crawler, task)
