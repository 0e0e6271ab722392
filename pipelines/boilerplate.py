"""Template step: the lines a source's template repeats in its bodies, taken out of its records.

What is template is learned per source across its articles (``crawler/boilerplate.py``);
here each record's body is counted and cleaned, and ``text``, ``word_count`` and
``content_hash`` follow. A body is never cut below ``NEWS_EXTRACT_MIN_WORDS``: such a
record keeps its body, and the event is counted. Records already written stay as they are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.boilerplate import TemplateLearner, learner_for
from crawler.stats import count
from pipelines._text import content_hash, count_words

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# The hash of the body before template lines came out: the dedupe step takes an article
# whose only change is a line learned since its last fetch as unchanged.
HASH_BEFORE = "_content_hash_before_template"
# Learned counts are saved to the state store every so many records (and at the end).
SAVE_EVERY = 200


class LearnedBoilerplatePipeline:
    def __init__(self, learner: TemplateLearner, stats: StatsCollector, min_words: int):
        self.learner = learner
        self.stats = stats
        self.min_words = min_words
        self._since_save = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LearnedBoilerplatePipeline:
        settings = crawler.settings
        if not (settings.getbool("NEWS_BOILERPLATE_LEARN") and settings.getbool("NEWS_STATE_ENABLED")):
            raise NotConfigured  # off by choice, or nowhere to keep what is learned
        assert crawler.stats is not None
        pipeline = cls(learner_for(crawler), crawler.stats, settings.getint("NEWS_EXTRACT_MIN_WORDS"))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_closed(self) -> None:
        self.learner.flush()

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        source = item["source"]
        cleaned = self.learner.clean(source, item["id"], item["text"].split("\n\n"), item["fetched_at"])
        for line in cleaned.learned:
            count(self.stats, "boilerplate/learned", source)
            logger.info(
                "Learned a template line of %(source)s (in %(count)d articles): %(text)r",
                {"source": source, "count": line.count, "text": line.sample},
                extra={"source": source},
            )
        self._since_save += 1
        if self._since_save >= SAVE_EVERY:
            self.learner.flush()
            self._since_save = 0
        if not cleaned.removed:
            return item
        text = "\n\n".join(cleaned.paragraphs)
        words = count_words(text)
        if words < self.min_words:
            count(self.stats, "boilerplate/kept_short", source)
            return item
        count(self.stats, "boilerplate/removed", source, len(cleaned.removed))
        item[HASH_BEFORE] = item["content_hash"]
        item.update(text=text, word_count=words, content_hash=content_hash(text))
        return item
