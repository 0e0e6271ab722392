"""Dropping with a reason: every page or item that is not written is counted."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawler.run.stats import count

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

STAT_PREFIX = "news/dropped/"


class DropArticle(DropItem):
    """Raised by a pipeline to drop an item; ``reason`` names the stats key."""

    def __init__(self, reason: str, detail: str = "", log_level: str = "INFO"):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason, log_level=log_level)


def count_drop(
    stats: StatsCollector, reason: str, url: str, detail: str = "", source: str | None = None
) -> None:
    """Count and log a page dropped before it became an item (download, content type)."""
    count(stats, f"dropped/{reason}", source)
    logger.info(
        "Dropped %(url)s: %(reason)s %(detail)s",
        {"url": url, "reason": reason, "detail": detail},
        extra={"source": source},
    )
