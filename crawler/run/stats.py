"""Stats under ``news/``, and the same counts per source under ``news/sources/<source>/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

SOURCES_PREFIX = "news/sources/"


def count(stats: StatsCollector, key: str, source: str | None = None, value: int = 1) -> None:
    """Add ``value`` to ``news/<key>`` and, for a known source, to ``news/sources/<source>/<key>``."""
    stats.inc_value(f"news/{key}", value)
    if source:
        stats.inc_value(f"{SOURCES_PREFIX}{source}/{key}", value)
