"""Dedupe step: across runs and within one, each article once, and again only when it changed.

Whether a body changed, and whether it is another article's, is decided on the body as
extracted, before learned template lines came out of it (``pipelines/boilerplate.py``): what
the learning knows changes from run to run, the article does not. The state keeps that hash.

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

from crawler.drops import DropArticle
from crawler.state import StateStore, is_database_url, store_for
from crawler.urls import url_id
from pipelines.boilerplate import HASH_BEFORE

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Emitted:
    article_id: str
    canonical_url: str
    content_hash: str
    version: int
    modified_at: str | None


class DedupeArticlePipeline:
    def __init__(self, store: StateStore, keep_duplicates: bool = False, shared: bool = False):
        self.store = store
        self.keep_duplicates = keep_duplicates
        # a state shared by shard workers: the same text on two sites crawled by two workers at
        # once is caught by a claim on its hash, which one of them wins
        self.shared = shared
        # what this run has passed to the sink, by canonical URL and by content hash
        self._by_url: dict[str, Emitted] = {}
        self._by_hash: dict[str, Emitted] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupeArticlePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWS_STATE_ENABLED"):
            raise NotConfigured  # NEWS_STATE_ENABLED is off (by choice: no warning)
        pipeline = cls(
            store_for(crawler),
            settings.getbool("NEWS_DEDUPE_KEEP_DUPLICATES"),
            shared=is_database_url(settings.get("NEWS_STATE")),
        )
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        """A later step (the sink) failed on an item this step passed: it was not emitted after all."""
        if not isinstance(item, dict) or "canonical_url" not in item:
            return
        emitted = self._by_url.get(item["canonical_url"])
        if (
            emitted is not None
            and emitted.article_id == item.get("id")
            and emitted.version == item.get("version")
        ):
            del self._by_url[item["canonical_url"]]
            if self._by_hash.get(emitted.content_hash) is emitted:
                del self._by_hash[emitted.content_hash]

    def _previous(self, canonical_url: str) -> Emitted | None:
        if canonical_url in self._by_url:
            return self._by_url[canonical_url]
        state = self.store.get(canonical_url)
        if state is None:
            return None
        return Emitted(
            state.article_id, state.canonical_url, state.content_hash, state.version, state.modified_at
        )

    def _known_content(self, content_hash: str) -> Emitted | None:
        found = self._by_hash.get(content_hash)
        if found is None:
            state = self.store.find_by_hash(content_hash)
            if state is not None:
                found = Emitted(
                    state.article_id, state.canonical_url, state.content_hash, state.version, None
                )
        return found

    def _same_content(self, hashes: tuple[str, ...], canonical_url: str) -> Emitted | None:
        """Another article with this body; ``hashes``: the body as extracted first, then as cleaned
        (what a state from before the extracted body's hash was kept holds)."""
        found = None
        for content_hash in dict.fromkeys(hashes):
            found = self._known_content(content_hash)
            if found is not None:
                break
        if found is None and self.shared:
            holder = self.store.claim_content(hashes[0], canonical_url)
            if holder is not None:
                return Emitted(url_id(holder), holder, hashes[0], 0, None)
        return found if found is not None and found.canonical_url != canonical_url else None

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        canonical, cleaned = item["canonical_url"], item["content_hash"]
        # the body as extracted (pipelines/boilerplate.py): what is learned is no change of the
        # article. The cleaned body matches a state or parts written before this hash was kept.
        content_hash = item.get(HASH_BEFORE) or cleaned
        previous = self._previous(canonical)
        if previous is not None:
            if previous.content_hash in (content_hash, cleaned):
                self.store.touch(canonical, item["fetched_at"])
                raise DropArticle("unchanged", f"version {previous.version}")
            item["version"] = previous.version + 1
            stated = item.get("modified_at")
            # the page's own update time when it states a newer one; else when the change was seen
            if not stated or (previous.modified_at and stated <= previous.modified_at):
                item["modified_at"] = item["fetched_at"]
        else:
            original = self._same_content((content_hash, cleaned), canonical)
            if original is not None:
                if not self.keep_duplicates:
                    raise DropArticle("duplicate_content", f"same text as {original.canonical_url}")
                item["duplicate_of"] = original.article_id
        emitted = Emitted(item["id"], canonical, content_hash, item["version"], item.get("modified_at"))
        self._by_url[canonical] = emitted
        self._by_hash.setdefault(content_hash, emitted)
        return item
