"""The store ``NEWS_STATE`` names, opened once per crawl and shared by its spider, middleware and steps."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from crawler.state.sqlite import SqliteStateStore
from crawler.state.store import (
    ArticleState,
    StateStore,
    StateUnavailableError,
    display_location,
    is_database_url,
    state_path,
)

logger = logging.getLogger(__name__)


def open_store(location: str, retry_seconds: float = 30.0) -> StateStore:
    """The store named by ``NEWS_STATE``: a SQLite path, or a ``postgresql://`` URL (shared by workers).
    ``retry_seconds``: how long a database server that stops answering is waited for
    (``NEWS_STATE_RETRY_SECONDS``, whose default this is)."""
    if location.startswith(("redis://", "rediss://")):
        raise ValueError(
            f"NEWS_STATE={display_location(location)!r}: there is no Redis state store; "
            "use a SQLite path or postgresql://"
        )
    if location.startswith(("postgresql://", "postgres://")):
        try:
            from crawler.state.postgres import PostgresStateStore  # noqa: PLC0415 - psycopg only when used
        except ImportError as exc:
            raise StateUnavailableError(
                f"NEWS_STATE {display_location(location)}: PostgreSQL support is not installed ({exc}); "
                "install it with: pip install 'news-ingest[postgres]'"
            ) from exc
        return PostgresStateStore(location, retry_seconds)
    if is_database_url(location):
        raise StateUnavailableError(
            f"NEWS_STATE {display_location(location)}: not a state store this version knows "
            "(a SQLite file path, sqlite://path, or postgresql://...)"
        )
    return SqliteStateStore(state_path(location))


class PrefetchedStates:
    """States read for a batch of URLs in one query (a feed's or a sitemap's entries) for the
    seen-URL check of their requests: one round trip to a shared state instead of one a URL.
    Each prefetched state is used once; a URL not prefetched is asked of the store."""

    MAX = 100_000  # a bound: entries that never became requests (skipped for another reason)

    def __init__(self, store: StateStore):
        self.store = store
        self._known: dict[str, ArticleState | None] = {}

    def prefetch(self, urls: Iterable[str]) -> None:
        wanted = [url for url in dict.fromkeys(urls) if url not in self._known]
        if not wanted:
            return
        if len(self._known) + len(wanted) > self.MAX:
            self._known.clear()
        found = self.store.get_many_by_url(wanted)
        self._known.update((url, found.get(url)) for url in wanted)

    def get_by_url(self, url: str) -> ArticleState | None:
        if url in self._known:
            return self._known.pop(url)
        return self.store.get_by_url(url)


def prefetched_for(crawler: Any) -> PrefetchedStates:
    """The crawl's prefetch of states, shared by the spider (which fills it) and the seen-URL check."""
    prefetched = getattr(crawler, "_news_prefetched", None)
    if prefetched is None:
        prefetched = crawler._news_prefetched = PrefetchedStates(store_for(crawler))
    return prefetched


def store_for(crawler: Any) -> StateStore:
    """One store per crawl, shared by the middleware, the dedupe step and the sink."""
    store = getattr(crawler, "_news_state", None)
    if store is None:
        settings = crawler.settings
        store = open_store(settings.get("NEWS_STATE"), settings.getfloat("NEWS_STATE_RETRY_SECONDS"))
        if hasattr(store, "stop_waiting"):
            # a run told to stop (crawler/run/shutdown.py) must end within its grace, not wait for a database
            store.stop_waiting = lambda: bool(
                getattr(getattr(crawler, "_news_shutdown", None), "signalled", False)
            )
        crawler._news_state = store
    return store
