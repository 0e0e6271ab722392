"""The run's log: JSON lines for log collectors, and Scrapy's start-up dumps kept to DEBUG.

``NEWS_LOG_FORMAT=json``: one JSON object a line. Fields: ``time`` (RFC 3339 UTC),
``level``, ``logger``, ``message`` (arguments applied), ``run_id``, ``spider``,
``source`` (null where no one source applies), ``stats`` (an object, on the line that
dumps the run's stats) and, for errors, ``exc_info``. Scrapy builds its root log handler
before any component of ours exists, so the formatter is put in place at that point
(``install``), and set again on the root handlers when the crawler starts (``JsonLogs``),
whichever comes first.

Scrapy's component lists, versions and overridden settings (about 80 lines at INFO)
are logged at DEBUG instead: a cron log gets the run banner (``RunBanner``), progress,
drops and the summary.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.run.runid import run_id_for

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

LOG_FORMATS = {"text", "json"}


# Start-up dumps by logger: the messages (format strings) that begin so go to DEBUG.
_STARTUP_DUMPS = {
    "scrapy.utils.log": ("Scrapy %(version)s started", "Versions:"),
    "scrapy.addons": ("Enabled addons:",),
    "scrapy.middleware": ("Enabled ",),
    "scrapy.crawler": ("Overridden settings:",),
}


# Libraries whose INFO lines say how they found what they were given ("Found credentials
# in environment variables"): DEBUG detail, not news of the run.
_CHATTY_LIBRARIES = ("botocore.", "boto3.")


class StartupDumpsAtDebug(logging.Filter):
    """On a handler: Scrapy's start-up dumps become DEBUG records, shown only when the handler shows DEBUG."""

    def __init__(self, handler: logging.Handler):
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        prefixes = _STARTUP_DUMPS.get(record.name)
        if record.levelno == logging.INFO and (
            (prefixes and str(record.msg).startswith(prefixes)) or record.name.startswith(_CHATTY_LIBRARIES)
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.handler.level


class JsonFormatter(logging.Formatter):
    spider_name: str | None = None

    def __init__(self, run_id: str | None = None):
        super().__init__()
        self.run_id = run_id

    def format(self, record: logging.LogRecord) -> str:
        spider = getattr(record, "spider", None)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": getattr(record, "run_id", None) or self.run_id,
            "spider": getattr(spider, "name", spider) if spider is not None else self.spider_name,
            "source": getattr(record, "source", None),
        }
        stats = getattr(record, "stats", None)
        if stats is not None:
            entry["stats"] = stats
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _wants_json(settings: Any) -> bool:
    # a value that is neither is reported by the settings check (crawler/run/settings_check.py),
    # in the text format, as one line
    return str(settings.get("NEWS_LOG_FORMAT") or "text").lower() == "json"


def install() -> None:
    """Make Scrapy's root handler format as JSON when the settings ask for it, and keep its
    start-up dumps to DEBUG."""
    from scrapy.utils import log  # noqa: PLC0415 - patched where Scrapy builds its handler

    original = getattr(log, "_get_formatter", None)
    if original is None or getattr(original, "_news_json", False):
        return  # another Scrapy version: JsonLogs below still switches the format at crawler start

    def get_formatter(handler: logging.Handler, settings: Any) -> logging.Formatter:
        handler.addFilter(StartupDumpsAtDebug(handler))
        # the process's settings: each crawler's copy keeps the run id fixed here
        return JsonFormatter(run_id_for(settings)) if _wants_json(settings) else original(handler, settings)

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
        formatter = JsonFormatter(run_id_for(crawler.settings))
        for handler in logging.getLogger().handlers:
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(formatter)
            else:
                handler.formatter.run_id = formatter.run_id
        extension = cls(formatter)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        JsonFormatter.spider_name = spider.name
