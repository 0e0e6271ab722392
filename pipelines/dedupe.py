"""Dedupe step: across runs and within one, each article once, and again only when it changed.

Whether a body changed is decided on the body as extracted, before learned template lines
came out of it (the record's ``body_hash``, ``pipelines/boilerplate.py``): what the learning
knows changes from run to run, the article does not. Whether it is another article's is decided
on both that and the text as written (``content_hash``): a print copy without the template line
equals the text written of its original. The state keeps both hashes.

- same canonical URL, same content hash: dropped as ``unchanged``;
- same canonical URL, changed body: emitted with ``version`` + 1 and ``modified_at``;
- same content hash under another canonical URL (syndicated copies, mirrors):
  dropped as ``duplicate_content``, or kept with ``duplicate_of`` when
  ``NEWS_DEDUPE_KEEP_DUPLICATES`` is on.

Nothing is written to the state store here: the sink records an article as
emitted only once its record is durable (see ``pipelines/sink.py``). Until
then this step remembers what the run has passed on, so that two copies within
one run are caught too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.discovery.urls import url_id
from crawler.output.tree import BODY_HASH
from crawler.run.drops import DropArticle
from crawler.state.access import store_for
from crawler.state.store import ArticleState, StateStore, is_database_url
from pipelines.sink import WRITTEN

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Emitted:
    article_id: str
    canonical_url: str
    # the body as extracted first, then the text as written when learned lines came out of it
    hashes: tuple[str, ...]
    version: int
    modified_at: str | None

    @classmethod
    def of(cls, state: ArticleState, modified_at: str | None) -> Emitted:
        hashes = (state.content_hash, state.cleaned_hash) if state.cleaned_hash else (state.content_hash,)
        return cls(state.article_id, state.canonical_url, hashes, state.version, modified_at)


class DedupeArticlePipeline:
    def __init__(self, store: StateStore, keep_duplicates: bool = False, shared: bool = False):
        self.store = store
        self.keep_duplicates = keep_duplicates
        # a state shared by workers (a database, or shards of one SQLite file): the same text on
        # two sites crawled by two workers at once is caught by a claim on its hashes, which one wins
        self.shared = shared
        # what this run has passed to the sink, by canonical URL and by content hash
        self._by_url: dict[str, Emitted] = {}
        self._by_hash: dict[str, Emitted] = {}
        # what this step passed on and the steps after it have not finished, by the fetched URL
        self._in_flight: dict[str, tuple[Emitted, dict[str, Any]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupeArticlePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWS_STATE_ENABLED"):
            raise NotConfigured  # NEWS_STATE_ENABLED is off (by choice: no warning)
        pipeline = cls(
            store_for(crawler),
            settings.getbool("NEWS_DEDUPE_KEEP_DUPLICATES"),
            # shard workers share a SQLite state too, each with its own run lock (NEWS_LOCK_FILE)
            shared=is_database_url(settings.get("NEWS_STATE")) or bool(settings.get("NEWS_SHARD")),
        )
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        return pipeline

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        if isinstance(item, dict):
            self._in_flight.pop(item.get("url"), None)

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        """A later step (the sink) failed on an item this step passed: it was not emitted after all.
        An error after its record was written changes nothing.

        Scrapy reports the item as the spider made it (``{"_page": page}``), not as this step saw
        it: the page's URL, which its record holds, finds it."""
        page = item.get("_page") if isinstance(item, dict) else None
        passed = self._in_flight.pop(getattr(page, "url", None), None)
        if passed is None or passed[1].get(WRITTEN):
            return
        emitted = passed[0]
        if self._by_url.get(emitted.canonical_url) is emitted:
            del self._by_url[emitted.canonical_url]
        for content_hash in emitted.hashes:
            if self._by_hash.get(content_hash) is emitted:
                del self._by_hash[content_hash]

    def _previous(self, canonical_url: str) -> Emitted | None:
        if canonical_url in self._by_url:
            return self._by_url[canonical_url]
        state = self.store.get(canonical_url)
        return None if state is None else Emitted.of(state, state.modified_at)

    def _known_content(self, content_hash: str) -> Emitted | None:
        found = self._by_hash.get(content_hash)
        if found is None:
            state = self.store.find_by_hash(content_hash)
            if state is not None:
                found = Emitted.of(state, None)
        return found

    def _same_content(self, hashes: tuple[str, ...], canonical_url: str) -> Emitted | None:
        """Another article with this body; ``hashes``: the body as extracted, then the text as
        written. Either may equal either of an article's: a copy without the template line has the
        article's text as its body, a copy with it the article's body."""
        found = None
        for content_hash in hashes:
            found = self._known_content(content_hash)
            if found is not None:
                break
        if found is None and self.shared:
            # both hashes at once (all or none), whichever copy comes first: one claim per copy
            holder = self.store.claim_content(hashes[-1], canonical_url, also=hashes[:-1])
            if holder is not None:
                return Emitted(url_id(holder), holder, hashes, 0, None)
        return found if found is not None and found.canonical_url != canonical_url else None

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        canonical = item["canonical_url"]
        # the body as extracted (pipelines/boilerplate.py), then the text as written: what is learned
        # is no change of the article. A state from before the first was kept holds the second.
        hashes = tuple(dict.fromkeys((item.get(BODY_HASH) or item["content_hash"], item["content_hash"])))
        previous = self._previous(canonical)
        if previous is not None:
            # either of its hashes: the body as it was, or as it was written (the same text again
            # with the lines that are template now, or without lines that were template then)
            if set(previous.hashes) & set(hashes):
                self.store.touch(canonical, item["fetched_at"])
                raise DropArticle("unchanged", f"version {previous.version}")
            item["version"] = previous.version + 1
            stated = item.get("modified_at")
            # the page's own update time when it states a newer one; else when the change was seen
            if not stated or (previous.modified_at and stated <= previous.modified_at):
                item["modified_at"] = item["fetched_at"]
        else:
            original = self._same_content(hashes, canonical)
            if original is not None:
                if not self.keep_duplicates:
                    raise DropArticle("duplicate_content", f"same text as {original.canonical_url}")
                item["duplicate_of"] = original.article_id
        emitted = Emitted(item["id"], canonical, hashes, item["version"], item.get("modified_at"))
        self._by_url[canonical] = emitted
        for content_hash in hashes:
            self._by_hash.setdefault(content_hash, emitted)
        self._in_flight[item["url"]] = (emitted, item)
        return item
