"""The range of every number a user can set: ``NEWS_*`` settings, the Scrapy settings users
touch, and the values of the sources file.

A value out of range stops the run at start (one line, exit code 2) instead of crashing it
later (``timedelta`` overflows, a ``nan`` timeout that fails every fetch, an infinite delay
that holds the run and its lock for ever). Where a value would be merely absurd rather than
fatal (a delay of a year), the maximum is what still makes sense for a crawl run from cron.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

DAY = 86_400.0
GIB = 1024**3


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    integer: bool = False
    above_low: bool = False  # the low end itself is excluded (a timeout of 0 is no timeout)
    unit: str = ""

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        low, high = _number(self.low), _number(self.high)
        unit = f" {self.unit}" if self.unit else ""
        if self.above_low:
            return f"{kind} above {low} and at most {high}{unit}"
        return f"{kind} from {low} to {high}{unit}"

    def check(self, value: Any) -> str | None:
        """What is wrong with ``value`` (a number, or a string as ``-s`` gives it), or None."""
        expected = f"expected {self.describe()}"
        if isinstance(value, str):
            try:
                value = int(value.strip()) if self.integer else float(value.strip())
            except ValueError:
                return expected
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return expected
        if not math.isfinite(value):
            return f"{expected}, not {value}"
        if self.integer and value != int(value):
            return expected
        if value < self.low or (self.above_low and value == self.low) or value > self.high:
            return f"out of range: {expected}"
        return None


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def _int(low: float, high: float, unit: str = "") -> Range:
    return Range(low, high, integer=True, unit=unit)


def _num(low: float, high: float, unit: str = "", above_low: bool = False) -> Range:
    return Range(low, high, above_low=above_low, unit=unit)


# One row for each number of settings/base.py; a numeric NEWS_* setting without one (a new
# setting) is still checked by ``generic_range``.
NEWS_RANGES: dict[str, Range] = {
    "NEWS_SHARDS": _int(0, 100_000),  # Kubernetes' own bound on an Indexed Job's completions
    "NEWS_DISCOVERY_MAX_DEPTH": _int(0, 100, "links"),
    "NEWS_DISCOVERY_MAX_PAGES": _int(1, 10_000_000, "pages"),
    "NEWS_DISCOVERY_MAX_QUERY_VARIANTS": _int(0, 10_000),
    "NEWS_DISCOVERY_MAX_SITEMAPS": _int(0, 100_000),
    "NEWS_DISCOVERY_MAX_LINKS_PER_PAGE": _int(1, 1_000_000),
    "NEWS_SITEMAP_MAXSIZE": _int(1, 4 * GIB, "bytes"),
    "NEWS_RETRY_AFTER_MAX": _num(0, DAY, "seconds"),
    "NEWS_STATE_RETRY_SECONDS": _num(0, DAY, "seconds"),
    "NEWS_REFRESH_WINDOW": _int(0, 3650 * DAY, "seconds"),
    "NEWS_REFRESH_INTERVAL": _int(0, 3650 * DAY, "seconds"),
    "NEWS_EXTRACT_MIN_WORDS": _int(0, 100_000, "words"),
    "NEWS_EXTRACT_WORKERS": _int(-1, 1024),
    "NEWS_EXTRACT_TIMEOUT": _num(0, 3600, "seconds", above_low=True),
    "NEWS_EXTRACT_MAX_PENDING": _int(0, 100_000),
    "NEWS_BOILERPLATE_MIN_PAGES": _int(1, 1_000_000, "articles"),
    "NEWS_BOILERPLATE_MIN_SHARE": _num(0, 1),
    "NEWS_BOILERPLATE_WINDOW": _int(1, 100_000_000, "articles"),
    "NEWS_BOILERPLATE_MAX_LINES": _int(0, 100_000_000, "lines"),
    "NEWS_BOILERPLATE_MIN_ARTICLES": _int(1, 100_000_000, "articles"),
    "NEWS_BOILERPLATE_MEMORY_LINES": _int(1, 1_000_000_000, "lines"),
    "NEWS_HEALTH_HISTORY_RUNS": _int(1, 1000, "runs"),
    "NEWS_HEALTH_MIN_RUNS": _int(1, 1000, "runs"),
    "NEWS_PAGE_MAX_HTML_CHARS": _int(1, 1_000_000_000, "characters"),
    "NEWS_PAGE_MAX_JSON_LD_CHARS": _int(0, 1_000_000_000, "characters"),
    "NEWS_PAGE_MAX_DEPTH": _int(1, 100_000, "levels"),
    "NEWS_DATES_MAX_SKEW": _int(0, 7 * DAY, "seconds"),
    "NEWS_DATES_MIN_YEAR": _int(1, 9999),
    "NEWS_SINK_MAX_ITEMS": _int(1, 100_000_000, "records"),
    "NEWS_SINK_MAX_BYTES": _int(1, 1024 * GIB, "bytes"),
    "NEWS_S3_MULTIPART_THRESHOLD": _int(1, 5 * GIB, "bytes"),  # S3's largest part
    "NEWS_S3_MAX_ATTEMPTS": _int(1, 100),
    "NEWS_PROGRESS_INTERVAL": _num(0, 3600, "seconds", above_low=True),
    "NEWS_MAX_ERROR_RATE": _num(0, 1),
    "NEWS_SHUTDOWN_GRACE": _num(0, 3600, "seconds"),
}

# The Scrapy settings users set (with -s, and per source: crawler/discovery/sources.py), with Scrapy's own
# meanings: 0 turns off DOWNLOAD_MAXSIZE, DOWNLOAD_WARNSIZE, DEPTH_LIMIT, the CLOSESPIDER_* limits and
# LOGSTATS_INTERVAL, and means "per domain" for CONCURRENT_REQUESTS_PER_IP; a timeout of 0 is not
# "none" in Scrapy but an immediate timeout, and AutoThrottle refuses a target concurrency of 0.
# The delay's maximum is an hour: beyond it a run from cron fetches one page, and a graceful
# shutdown would have nothing to wait for.
SCRAPY_RANGES: dict[str, Range] = {
    "DOWNLOAD_DELAY": _num(0, 3600, "seconds"),
    "DOWNLOAD_TIMEOUT": _num(0, 3600, "seconds", above_low=True),
    "DOWNLOAD_MAXSIZE": _int(0, 4 * GIB, "bytes"),
    "DOWNLOAD_WARNSIZE": _int(0, 4 * GIB, "bytes"),
    "DNS_TIMEOUT": _num(0, 3600, "seconds", above_low=True),
    "CONCURRENT_REQUESTS": _int(1, 10_000),
    "CONCURRENT_REQUESTS_PER_DOMAIN": _int(1, 10_000),
    "CONCURRENT_REQUESTS_PER_IP": _int(0, 10_000),
    "CONCURRENT_ITEMS": _int(1, 10_000),
    "AUTOTHROTTLE_START_DELAY": _num(0, 3600, "seconds"),
    "AUTOTHROTTLE_MAX_DELAY": _num(0, 3600, "seconds"),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _num(0, 10_000, above_low=True),
    "REDIRECT_MAX_TIMES": _int(0, 100),
    "RETRY_TIMES": _int(0, 100),
    "DEPTH_LIMIT": _int(0, 10_000),
    "CLOSESPIDER_TIMEOUT": _num(0, 30 * DAY, "seconds"),
    "CLOSESPIDER_ITEMCOUNT": _int(0, 1_000_000_000),
    "CLOSESPIDER_PAGECOUNT": _int(0, 1_000_000_000),
    "CLOSESPIDER_ERRORCOUNT": _int(0, 1_000_000_000),
    "CLOSESPIDER_TIMEOUT_NO_ITEM": _int(0, 30 * DAY, "seconds"),
    "CLOSESPIDER_PAGECOUNT_NO_ITEM": _int(0, 1_000_000_000),
    "LOGSTATS_INTERVAL": _num(0, DAY, "seconds"),  # 0 turns LogStats off
    "REACTOR_THREADPOOL_MAXSIZE": _int(1, 1000),
}

# A source's max_age, and any duration of the sources file
MAX_DURATION_SECONDS = 3650 * DAY


def generic_range(default: Any) -> Range | None:
    """The range of a numeric ``NEWS_*`` setting without a row: finite, not below its default's
    sign allows, and bounded so that nothing it sizes or times can overflow."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return None
    low = min(0, default)
    return Range(low, 1e12, integer=isinstance(default, int))
