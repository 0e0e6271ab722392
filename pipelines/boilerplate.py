"""Template steps: the lines a source's template repeats in its bodies, taken out of its records.

What is template is learned per source across its written articles (``crawler/state/template_lines.py``).
Two steps share one learner:

- ``LearnedBoilerplatePipeline`` (before dedupe) takes the lines known to be template so far
  out of each body; ``text``, ``word_count`` and ``content_hash`` follow, and the record keeps
  the hash of the body as extracted as ``body_hash``. The dedupe step decides on that hash
  whether a refetched article changed (so that learning never makes a version), and the state
  store keeps it, read back from the record itself after a kill or a lost state.
- ``CountTemplatePipeline`` (after the sink) counts the lines of each article written as its
  first version: an unchanged refetch, a duplicate (dropped or kept) and a later version of an
  article never count, so no copy and no article counts twice. Counting is best effort: the
  record is written by then, and a state that cannot be read or saved at that moment costs
  that article's count only (``news/boilerplate/count_failed``).

A body is never cut below ``NEWS_EXTRACT_MIN_WORDS``: such a record keeps its body, and the
event is counted. Records already written stay as they are.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.output.tree import BODY_HASH
from crawler.run.stats import count
from crawler.state.template_lines import Keys, TemplateLearner, learner_for
from pipelines.extraction.text import content_hash, count_words

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# What the counting step needs of a record: its paragraphs as extracted and their keys.
PENDING = "_template_pending"
# Set by the extraction (pipelines/extraction/article.py): the fingerprints of the body's paragraphs that
# are a label and a link to another page.
LINK_PARAGRAPHS = "_link_paragraphs"


def learning_enabled(settings: Any) -> bool:
    return settings.getbool("NEWS_BOILERPLATE_LEARN") and settings.getbool("NEWS_STATE_ENABLED")


class LinkHints:
    """From the extract step to the template step, which paragraphs of a page are a label and a
    link: the validate step between them passes on only the record's own fields. Keyed by the
    record's id, URL and fetch time; the oldest are let go beyond a bound (records dropped on
    the way never collect theirs)."""

    MAX = 4096

    def __init__(self) -> None:
        self._hints: OrderedDict[tuple[Any, ...], frozenset[int]] = OrderedDict()

    @staticmethod
    def _key(item: dict[str, Any]) -> tuple[Any, ...]:
        return item.get("id"), item.get("url"), item.get("fetched_at")

    def put(self, item: dict[str, Any], fingerprints: list[int]) -> None:
        self._hints[self._key(item)] = frozenset(fingerprints)
        while len(self._hints) > self.MAX:
            self._hints.popitem(last=False)

    def take(self, item: dict[str, Any]) -> frozenset[int]:
        return self._hints.pop(self._key(item), frozenset())


def link_hints_for(crawler: Crawler) -> LinkHints | None:
    """The crawl's hints, or None when nothing learns from them."""
    if not learning_enabled(crawler.settings):
        return None
    hints = getattr(crawler, "_news_link_hints", None)
    if hints is None:
        hints = crawler._news_link_hints = LinkHints()  # type: ignore[attr-defined]
    return hints


@dataclass(frozen=True)
class Pending:
    source: str
    paragraphs: list[str]
    keys: list[Keys]


class LearnedBoilerplatePipeline:
    def __init__(
        self, learner: TemplateLearner, stats: StatsCollector, min_words: int, hints: LinkHints | None = None
    ):
        self.learner = learner
        self.stats = stats
        self.min_words = min_words
        self.hints = hints or LinkHints()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LearnedBoilerplatePipeline:
        settings = crawler.settings
        if not learning_enabled(settings):
            raise NotConfigured  # off by choice, or nowhere to keep what is learned
        assert crawler.stats is not None
        return cls(
            learner_for(crawler),
            crawler.stats,
            settings.getint("NEWS_EXTRACT_MIN_WORDS"),
            link_hints_for(crawler),
        )

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        source = item["source"]
        paragraphs = item["text"].split("\n\n")
        keys = self.learner.keys(paragraphs, self.hints.take(item))
        item[PENDING] = Pending(source, paragraphs, keys)
        cleaned = self.learner.remove(source, paragraphs, keys)
        if not cleaned.removed:
            return item
        text = "\n\n".join(cleaned.paragraphs)
        words = count_words(text)
        if words < self.min_words:
            count(self.stats, "boilerplate/kept_short", source)
            return item
        count(self.stats, "boilerplate/removed", source, len(cleaned.removed))
        before = item["content_hash"]
        item.update(text=text, word_count=words, content_hash=content_hash(text))
        # beside content_hash in the record (the fields after it moved behind it)
        after = list(item)[list(item).index("content_hash") + 1 :]
        moved = {key: item.pop(key) for key in after}
        item[BODY_HASH] = before
        item.update(moved)
        return item


class CountTemplatePipeline:
    """After the sink: count each record written as an article's first version."""

    def __init__(self, learner: TemplateLearner, stats: StatsCollector):
        self.learner = learner
        self.stats = stats
        self._failures = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CountTemplatePipeline:
        if not learning_enabled(crawler.settings):
            raise NotConfigured
        assert crawler.stats is not None
        pipeline = cls(learner_for(crawler), crawler.stats)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_closed(self) -> None:
        try:
            self.learner.flush()
        except Exception as exc:
            self._failed("Could not save the template counts of this run", exc)

    def _failed(self, what: str, exc: Exception, source: str | None = None) -> None:
        count(self.stats, "boilerplate/count_failed", source)
        # once at WARNING: a state that is down fails every count until it is back
        log = logger.debug if self._failures else logger.warning
        self._failures += 1
        log(
            "%(what)s: %(error)s; the records are written, only the learning misses them "
            "(news/boilerplate/count_failed)",
            {"what": what, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]},
        )

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        pending: Pending | None = item.pop(PENDING, None)
        if pending is None or item.get("version") != 1 or item.get("duplicate_of"):
            return item
        try:
            learned = self.learner.count(
                pending.source, item["id"], pending.paragraphs, pending.keys, item["fetched_at"]
            )
        except Exception as exc:
            # the record is written: an error here must not fail the item (a pipeline error, which
            # fails the run, for a record that stands)
            self._failed(f"Could not count {item.get('url')} for the template learning", exc, pending.source)
            return item
        for line in learned:
            count(self.stats, "boilerplate/learned", pending.source)
            logger.info(
                "Learned a template line of %(source)s (in %(count)d articles): %(text)r",
                {"source": pending.source, "count": line.count, "text": line.sample},
                extra={"source": pending.source},
            )
        return item
