"""Skips article URLs already emitted by an earlier run, before they are downloaded.

Only article and followed pages are checked: feeds, sitemaps and start pages are
always fetched, since they are where new articles appear. A story still inside
its refresh window (``NEWS_REFRESH_WINDOW`` after publication) is fetched again
at most once per ``NEWS_REFRESH_INTERVAL``, so that updates to fresh stories
are caught; the dedupe step then decides whether its body changed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.state import ArticleState, PrefetchedStates, StateStore, prefetched_for
from crawler.stats import count
from crawler.urls import normalize_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_CHECKED_KINDS = {"article", "page"}


class SeenBefore(IgnoreRequest):
    """The article was emitted by an earlier run and is outside its refresh window."""


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def needs_refresh(state: ArticleState, now: datetime, window: timedelta, interval: timedelta) -> bool:
    """Still fresh enough to be updated, and not fetched within the interval."""
    if state.published_at:
        published = _instant(state.published_at)
    elif state.published_date:
        published = datetime.fromisoformat(state.published_date).replace(tzinfo=timezone.utc)
    else:
        return False  # an undated article has no window: once is enough
    return now - published <= window and now - _instant(state.last_fetched) >= interval


class SeenUrlMiddleware:
    def __init__(
        self,
        states: PrefetchedStates | StateStore,
        stats: StatsCollector,
        window: timedelta,
        interval: timedelta,
    ):
        self.states = states
        self.stats = stats
        self.window = window
        self.interval = interval

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenUrlMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWS_STATE_ENABLED"):
            raise NotConfigured  # NEWS_STATE_ENABLED is off (by choice: no warning)
        return cls(
            prefetched_for(crawler),
            crawler.stats,
            timedelta(seconds=settings.getfloat("NEWS_REFRESH_WINDOW")),
            timedelta(seconds=settings.getfloat("NEWS_REFRESH_INTERVAL")),
        )

    def process_request(self, request: Request) -> None:
        if request.meta.get("news_kind", "article") not in _CHECKED_KINDS or request.meta.get("news_refresh"):
            return
        state = self.states.get_by_url(normalize_url(request.url))
        if state is None:
            return
        source = request.meta.get("news_source")
        if needs_refresh(state, datetime.now(timezone.utc), self.window, self.interval):
            count(self.stats, "refetched/fresh", source)
            request.meta["news_refresh"] = True  # redirects of this request are not checked again
            return
        count(self.stats, "skipped/seen", source)
        raise SeenBefore(f"emitted before (version {state.version}, last fetched {state.last_fetched})")
