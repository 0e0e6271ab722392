"""``news-ingest``: the product's commands from any directory, with help of their own.

``news-ingest crawlall``, ``news-ingest crawl article -a url=...``, ``news-ingest flush``,
``news-ingest sources``: the same commands, options and exit codes as ``scrapy ...`` in the
project folder, and only those (Scrapy's own ``startproject``, ``genspider`` and the like are
for developers of spiders, not for running this product). The settings come from the installed
package rather than from a ``scrapy.cfg`` found by walking up from the working directory, and
relative paths (``NEWS_OUTPUT``, ``NEWS_STATE``, ``NEWS_SOURCES``) mean the working directory.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from importlib import metadata
from typing import Any

SETTINGS_MODULE = "settings.base"
PROG = "news-ingest"
COMMANDS = ("crawlall", "crawl", "archive", "reprocess", "flush", "sources")
EXIT_USAGE = 2

EXAMPLES = """\
Examples:
  news-ingest crawlall                                  every source of the sources file, once (cron, Docker)
  news-ingest crawlall --shard 0/4                      worker 0 of 4 over a shared PostgreSQL state
  news-ingest crawl news -a source=herald               one source of the sources file
  news-ingest crawl article -a url=https://example.org/news/story.html
  news-ingest crawl article -a urls=urls.txt -O out.jsonl
  news-ingest archive /data/warc/ --since 2026-12-01    records from web archives (WARC files)
  news-ingest reprocess                                 extract the kept pages again (NEWS_WARC_OUTPUT)
  news-ingest flush                                     upload the parts waiting in the S3 spool
  news-ingest sources --json                            each source's health and learned template lines
  NEWS_OUTPUT=s3://bucket/news news-ingest crawlall     settings as NEWS_* variables or -s NAME=VALUE

Exit codes: 0 ok, 1 the run failed, 2 it could not start (one line says why), 3 parts wait in
the S3 spool, 75 another run holds the lock.
`news-ingest <command> -h` shows a command's options."""


def version() -> str:
    try:
        return metadata.version("news-ingest")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


def _command(name: str) -> Any:
    module = importlib.import_module(f"{__package__ or 'crawler'}.commands.{name}")
    return module.Command()


def _overview() -> str:
    lines = [
        f"{PROG} {version()}: news articles from feeds, sitemaps and sites, as clean JSONL on disk or S3",
        "",
        f"Usage: {PROG} <command> [options]",
        "",
        "Commands:",
    ]
    lines += [f"  {name:<10} {_command(name).short_desc()}" for name in COMMANDS]
    return "\n".join([*lines, "", EXAMPLES])


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, COMMANDS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{PROG}: no command {name!r}{hint} (`{PROG} -h` lists the commands)"


def run(argv: list[str]) -> int:
    """Run one command as Scrapy's ``execute`` would, under the product's name; the exit code."""
    from scrapy.cmdline import _run_command, _run_print_help  # noqa: PLC0415
    from scrapy.commands import ScrapyHelpFormatter  # noqa: PLC0415
    from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess  # noqa: PLC0415
    from scrapy.utils.project import get_project_settings  # noqa: PLC0415
    from scrapy.utils.reactor import _asyncio_reactor_path  # noqa: PLC0415

    from crawler.commands._base import unexpected_error  # noqa: PLC0415

    name, args = argv[0], argv[1:]
    settings = get_project_settings()
    command = _command(name)
    parser = _parser(name, command, ScrapyHelpFormatter)
    settings.setdict(command.default_settings, priority="command")
    command.settings = settings
    command.add_options(parser)
    opts, rest = parser.parse_known_args(args=args)
    try:
        _run_print_help(parser, command.process_options, rest, opts)
        if command.requires_crawler_process:
            reactor = settings["TWISTED_REACTOR"] == _asyncio_reactor_path
            if (reactor and not settings.getbool("FORCE_CRAWLER_PROCESS")) or not settings.getbool(
                "TWISTED_REACTOR_ENABLED"
            ):
                command.crawler_process = AsyncCrawlerProcess(settings)
            else:
                command.crawler_process = CrawlerProcess(settings)
        _run_print_help(parser, _run_command, command, rest, opts)
    except Exception as exc:  # before the command's own guard (crawler/commands/_base.py) is in place
        return unexpected_error(name, exc, settings)
    return int(command.exitcode)


def _parser(name: str, command: Any, formatter: Any) -> Any:
    from scrapy.cmdline import ScrapyArgumentParser  # noqa: PLC0415

    class Formatter(formatter):  # type: ignore[misc,valid-type]
        def _fill_text(self, text: str, width: int, indent: str) -> str:
            # the descriptions are laid out by hand (lists of spiders, arguments, exit codes)
            return "".join(indent + line for line in text.splitlines(keepends=True))

    return ScrapyArgumentParser(
        prog=f"{PROG} {name}",
        formatter_class=Formatter,
        usage=f"{PROG} {name} {command.syntax()}",
        conflict_handler="resolve",
        description=command.long_desc(),
    )


def main(argv: list[str] | None = None) -> None:
    # Scrapy takes the project from SCRAPY_SETTINGS_MODULE before it looks for scrapy.cfg;
    # a value already set (another settings module built on ours) wins.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_overview())
        sys.exit(0)
    if args[0] in ("--version", "version"):
        print(f"{PROG} {version()}")
        sys.exit(0)
    if args[0] not in COMMANDS:
        print(_unknown(args[0]), file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sys.exit(run(args))


if __name__ == "__main__":
    main()
