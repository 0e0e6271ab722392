"""``NEWS_LOG_FORMAT=json``: one JSON object a line, for log collectors.

Fields: ``time`` (RFC 3339 UTC), ``level``, ``logger``, ``message`` (arguments
applied), ``spider``, ``source`` and, for errors, ``exc_info``. Scrapy builds its
root log handler before any component of ours exists, so the formatter is put in
place at that point (``install``), and set again on the root handlers when the
crawler starts (``JsonLogs``), whichever comes first.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

_FORMATS = {"text", "json"}


class JsonFormatter(logging.Formatter):
    spider_name: str | None = None

    def format(self, record: logging.LogRecord) -> str:
        spider = getattr(record, "spider", None)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "spider": getattr(spider, "name", spider) if spider is not None else self.spider_name,
            "source": getattr(record, "source", None),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _wants_json(settings: Any) -> bool:
    value = (settings.get("NEWS_LOG_FORMAT") or "text").lower()
    if value not in _FORMATS:
        raise ValueError(f"NEWS_LOG_FORMAT={value!r}: expected one of {sorted(_FORMATS)}")
    return value == "json"


def install() -> None:
    """Make Scrapy's root handler format as JSON when the settings ask for it."""
    from scrapy.utils import log  # noqa: PLC0415 - patched where Scrapy builds its handler

    original = getattr(log, "_get_formatter", None)
    if original is None or getattr(original, "_news_json", False):
        return  # another Scrapy version: JsonLogs below still switches the format at crawler start

    def get_formatter(handler: logging.Handler, settings: Any) -> logging.Formatter:
        return JsonFormatter() if _wants_json(settings) else original(handler, settings)

    get_formatter._news_json = True  # type: ignore[attr-defined]
    log._get_formatter = get_formatter


class JsonLogs:
    """Extension: JSON on the root handlers, and the spider's name in every line."""

    def __init__(self, formatter: JsonFormatter):
        self.formatter = formatter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonLogs:
        if not _wants_json(crawler.settings):
            raise NotConfigured
        formatter = JsonFormatter()
        for handler in logging.getLogger().handlers:
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(formatter)
        extension = cls(formatter)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        JsonFormatter.spider_name = spider.name
