"""Live progress for people at a terminal; silent under cron or with output redirected."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.run.stats import SOURCES_PREFIX

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

_MODES = {"auto", "on", "off"}


def progress_line(stats: dict[str, Any], elapsed: float, width: int = 160) -> str:
    """``pages 120 | records 98 | dropped 7 | 52/min | herald 60/51 · courier 60/47``"""
    written = stats.get("news/written", 0)
    dropped = sum(value for key, value in stats.items() if key.startswith("news/dropped/"))
    rate = written / elapsed * 60 if elapsed > 0 else 0.0
    per_source = []
    names = sorted(
        {key[len(SOURCES_PREFIX) :].split("/", 1)[0] for key in stats if key.startswith(SOURCES_PREFIX)}
    )
    for name in names:
        pages = stats.get(f"{SOURCES_PREFIX}{name}/pages_fetched", 0)
        records = stats.get(f"{SOURCES_PREFIX}{name}/written", 0)
        per_source.append(f"{name} {pages}/{records}")
    line = (
        f"pages {stats.get('news/pages_fetched', 0)} | records {written} | dropped {dropped} | "
        f"{rate:.0f}/min | " + " · ".join(per_source)
    )
    return line[:width]


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO, interval: float):
        self.crawler = crawler
        self.stream = stream
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        mode = crawler.settings.get("NEWS_PROGRESS", "auto").lower()
        if mode not in _MODES:
            raise ValueError(f"NEWS_PROGRESS={mode!r}: expected one of {sorted(_MODES)}")
        if mode == "off" or (mode == "auto" and not sys.stderr.isatty()):
            raise NotConfigured  # off by design: no "Disabled" warning in every log
        extension = cls(crawler, sys.stderr, crawler.settings.getfloat("NEWS_PROGRESS_INTERVAL"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def show(self) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        # \r and "erase line": the progress line overwrites itself between log lines
        self.stream.write("\r\x1b[2K" + progress_line(stats, time.monotonic() - self.started) + "\r")
        self.stream.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.stream.write("\r\x1b[2K")
        self.stream.flush()
