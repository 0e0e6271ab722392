"""``crawl news`` or ``crawl article``: one crawl, with the exit codes of ``crawlall``.

Spiders and their arguments:

  news     the sources of the sources file (NEWS_SOURCES), through their feeds, sitemaps and
           pages, with the state: what was emitted before is not emitted again.
           -a source=NAME[,NAME...]   only these sources (default: every source)
  article  the given article URLs, once each, without the state (a one-off crawl); the
           records go to <NEWS_OUTPUT>/oneoff/ (NEWS_ONEOFF_FOLDER).
           -a url=URL[,URL...]        the URLs
           -a urls=FILE               a file of URLs, one a line ('#' starts a comment)
           -a source=NAME             the records' source (default: each URL's hostname)

Exit codes: 0 ok, 1 the run failed (the summary's problems say why), 2 it could not start
(one line says why), 3 parts wait in the S3 spool. Scrapy's -o/-O feed export writes the
same records to a file as well; a feed that cannot be written stops the crawl at start,
one that cannot be stored at the end fails the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.commands._base import NewsCommand
from crawler.commands._start import cannot_start, crawl_exit_code
from crawler.run.settings_check import settings_problems
from crawler.spiders.article import ArticleSpider
from settings.environment import did_you_mean

if TYPE_CHECKING:
    import argparse


class Command(NewsCommand, ScrapyCrawlCommand):
    command_name = "crawl"

    def syntax(self) -> str:
        return "news|article [-a NAME=VALUE ...] [options]"

    def short_desc(self) -> str:
        return "One crawl: `crawl news` (sources of the sources file) or `crawl article -a url=...`"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def run_command(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give one spider: `scrapy crawl news` or `scrapy crawl article -a url=...`")
        assert self.settings is not None and self.crawler_process is not None
        spider = args[0]
        problems = self.start_problems + settings_problems(self.settings)
        if problems:
            self.exitcode = self._cannot_start(spider, "; ".join(problems))
            return
        spiders = sorted(self.crawler_process.spider_loader.list())
        if spider not in spiders:
            problem = f"no spider {spider!r}{did_you_mean(spider, spiders)}: give news or article"
            self.exitcode = cannot_start("crawl", self.settings, problem, spider)
            return
        try:
            crawler = self._create_crawler(spider)
        except (ValueError, KeyError) as exc:  # settings the spider refuses
            self.exitcode = self._cannot_start(spider, exc)
            return
        task = self.crawler_process.crawl(crawler, **opts.spargs)
        self.exitcode = crawl_exit_code("crawl", self.crawler_process, crawler, task)

    def _cannot_start(self, spider: str, problem: BaseException | str) -> int:
        """The start failure, its summary where the run would have written (a one-off crawl's
        under its own folder)."""
        assert self.settings is not None
        settings = self.settings
        if spider == ArticleSpider.name:
            settings = settings.copy()
            ArticleSpider.update_settings(settings)
        return cannot_start("crawl", settings, problem, spider)
