"""Skips article URLs already emitted by an earlier run, before they are downloaded.

Only article and followed pages are checked: feeds, sitemaps and start pages are
always fetched, since they are where new articles appear. A story still inside
its refresh window (``NEWS_REFRESH_WINDOW`` after publication) is fetched again
at most once per ``NEWS_REFRESH_INTERVAL``, so that updates to fresh stories
are caught; the dedupe step then decides whether its body changed. An article URL
that no earlier run emitted is counted as ``discovery/new_articles`` and marked
``news_new`` in its meta, for source health (``crawler/extensions/health.py``).

A URL is not fetched when the state cannot be asked about it (a database that did not
answer within ``NEWS_STATE_RETRY_SECONDS``: ``skipped/state_unavailable``, left to the next
run), nor when its site group's lock went to another worker during the run
(``skipped/group_lock_lost``, that worker crawls it): either way fetching it could write
an article twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.discovery.urls import normalize_url
from crawler.run.stats import count
from crawler.state.access import PrefetchedStates, prefetched_for
from crawler.state.store import ArticleState, StateStore

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_CHECKED_KINDS = {"article", "page"}


class SeenBefore(IgnoreRequest):
    """The article was emitted by an earlier run and is outside its refresh window."""


# Also SeenBefore, for the spider's errback: refused and counted here, not fetch errors


class StateUnavailable(SeenBefore):
    """The state could not be asked whether the URL was emitted before."""


class GroupLockLost(SeenBefore):
    """The lock of the request's site group went to another worker during the run."""


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
        self.store: StateStore = states.store if isinstance(states, PrefetchedStates) else states
        self.crawler: Crawler | None = None
        self._unavailable_logged = False
        self._lost: frozenset[str] = frozenset()
        self._lost_sources: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenUrlMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWS_STATE_ENABLED"):
            raise NotConfigured  # NEWS_STATE_ENABLED is off (by choice: no warning)
        middleware = cls(
            prefetched_for(crawler),
            crawler.stats,
            timedelta(seconds=settings.getfloat("NEWS_REFRESH_WINDOW")),
            timedelta(seconds=settings.getfloat("NEWS_REFRESH_INTERVAL")),
        )
        middleware.crawler = crawler
        return middleware

    def process_request(self, request: Request) -> None:
        source = request.meta.get("news_source")
        kind = request.meta.get("news_kind", "article")
        checked = kind in _CHECKED_KINDS and not request.meta.get("news_refresh")
        state = self._state_of(request, source) if checked else None
        # after the lookup: a connection to the state made again there is where a lost lock shows
        self._refuse_if_group_lost(source)
        if not checked:
            return
        if state is None:
            # counted once per article, not again for each of its redirects (source health
            # compares these with the articles written)
            if request.meta.get("news_article") and not request.meta.get("news_new"):
                request.meta["news_new"] = True
                count(self.stats, "discovery/new_articles", source)
            return
        if needs_refresh(state, datetime.now(timezone.utc), self.window, self.interval):
            count(self.stats, "refetched/fresh", source)
            request.meta["news_refresh"] = True  # redirects of this request are not checked again
            return
        count(self.stats, "skipped/seen", source)
        raise SeenBefore(f"emitted before (version {state.version}, last fetched {state.last_fetched})")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        # requests wait in their download slot (DOWNLOAD_DELAY) after process_request let them
        # through: what comes back for a group lost meanwhile is not used either
        self._refuse_if_group_lost(request.meta.get("news_source"))
        return response

    def _state_of(self, request: Request, source: str | None) -> ArticleState | None:
        url = normalize_url(request.url)
        try:
            return self.states.get_by_url(url)
        except Exception as exc:
            # the store waited what it may (NEWS_STATE_RETRY_SECONDS) and reports the run failed;
            # fetching a URL it cannot vouch for could write an article twice
            count(self.stats, "skipped/state_unavailable", source)
            log = logger.debug if self._unavailable_logged else logger.warning
            self._unavailable_logged = True
            log(
                "Not fetching %(url)s: the state cannot be asked whether it was emitted before (%(error)s)",
                {"url": request.url, "error": exc},
            )
            raise StateUnavailable(f"the state cannot be asked: {exc}") from exc

    def _refuse_if_group_lost(self, source: str | None) -> None:
        lost = self.store.lost_groups()
        if not lost or source is None:
            return
        if lost is not self._lost:
            spider = self.crawler.spider if self.crawler is not None else None
            groups: dict[str, list[str]] = getattr(spider, "groups", None) or {}
            self._lost, self._lost_sources = lost, {name for group in lost for name in groups.get(group, ())}
        if source in self._lost_sources:
            count(self.stats, "skipped/group_lock_lost", source)
            raise GroupLockLost(f"the lock of its site group went to another worker; source {source!r}")
