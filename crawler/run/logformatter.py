"""Log lines for dropped items that name the page and the reason, not the whole item."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class NewsLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> LogFormatterResult:
        level = getattr(exception, "log_level", None) or logging.WARNING
        if isinstance(level, str):
            level = getattr(logging, level)
        url = (
            response.url if hasattr(response, "url") else item.get("url") if isinstance(item, dict) else None
        )
        return {
            "level": level,
            "msg": "Dropped %(url)s: %(exception)s",
            "args": {"url": url, "exception": exception},
        }
