"""Source health: the figures that show a source broke, per run, against its recent runs.

When a site changes its layout a generic pipeline quietly emits stubs, or nothing. Per
source and run this keeps pages fetched, articles written, the share of fetched pages
dropped as ``not_article``, the median ``word_count``, and the shares of articles with
a date and with authors, in the state store. Once a source has ``NEWS_HEALTH_MIN_RUNS``
earlier runs, a sharp fall against the median of its last ``NEWS_HEALTH_HISTORY_RUNS``
marks it unhealthy:

- articles written fall under half of the usual while pages fetched do not;
- the median words per article fall under 40 % of the usual;
- the share of articles with a date, or with authors, falls by 30 points or more.

A run that wrote too few articles to say (fewer than ``_MIN_ARTICLES``) is not judged on
words and shares. The run summary (``crawler/extensions/summary.py``) reports the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import median
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.runid import run_id_for
from crawler.state import StateStore, store_for
from crawler.stats import SOURCES_PREFIX

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Fewer articles than this in a run (or in the usual run): too few to judge by. A cron run
# every 15 minutes often writes one to five; their shares and medians swing by chance.
_MIN_ARTICLES = 10
WRITTEN_FALL = 0.5
WORDS_FALL = 0.4
COVERAGE_FALL = 0.30


@dataclass
class _Tally:
    words: list[int] = field(default_factory=list)
    dated: int = 0
    authored: int = 0


def figures_of(pages_fetched: int, not_article: int, tally: _Tally) -> dict[str, Any]:
    written = len(tally.words)
    return {
        "pages_fetched": pages_fetched,
        "written": written,
        "not_article_share": round(not_article / pages_fetched, 3) if pages_fetched else None,
        "median_words": median(tally.words) if tally.words else None,
        "with_date": round(tally.dated / written, 3) if written else None,
        "with_authors": round(tally.authored / written, 3) if written else None,
    }


def usual_figures(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the runs that have it (shares: runs with enough articles)."""
    usual: dict[str, Any] = {}
    for name in ("pages_fetched", "written"):
        usual[name] = median(run[name] for run in history)
    judged = [run for run in history if run["written"] >= _MIN_ARTICLES]
    for name in ("median_words", "with_date", "with_authors"):
        values = [run[name] for run in judged if run.get(name) is not None]
        usual[name] = median(values) if values else None
    return usual


def judge(now: dict[str, Any], usual: dict[str, Any]) -> list[str]:
    """What fell, each as a sentence with the figure and its usual value."""
    problems = []
    if (
        usual["written"] >= _MIN_ARTICLES
        and now["written"] < WRITTEN_FALL * usual["written"]
        and now["pages_fetched"] >= WRITTEN_FALL * usual["pages_fetched"]
    ):
        problems.append(
            f"articles written fell to {now['written']} (usual {usual['written']:g}) while "
            f"{now['pages_fetched']} pages were fetched (usual {usual['pages_fetched']:g})"
        )
    if now["written"] < _MIN_ARTICLES:
        return problems
    if usual["median_words"] and now["median_words"] < WORDS_FALL * usual["median_words"]:
        problems.append(
            f"median words per article fell to {now['median_words']:g} (usual {usual['median_words']:g})"
        )
    for name, what in (("with_date", "a date"), ("with_authors", "authors")):
        if usual[name] is not None and usual[name] - now[name] >= COVERAGE_FALL:
            problems.append(f"articles with {what} fell to {now[name]:.0%} (usual {usual[name]:.0%})")
    return problems


class SourceHealth:
    def __init__(self, crawler: Crawler, store: StateStore):
        self.crawler = crawler
        self.store = store
        self.history_runs = crawler.settings.getint("NEWS_HEALTH_HISTORY_RUNS")
        self.min_runs = crawler.settings.getint("NEWS_HEALTH_MIN_RUNS")
        self.tallies: dict[str, _Tally] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceHealth:
        settings = crawler.settings
        if not (settings.getbool("NEWS_HEALTH_ENABLED") and settings.getbool("NEWS_STATE_ENABLED")):
            raise NotConfigured  # off by choice, or no history to compare with
        extension = cls(crawler, store_for(crawler))
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        # before the run summary, which reports what this finds
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self, item: dict[str, Any], response: Any, spider: Spider) -> None:
        source = item.get("source")
        if not source:
            return
        tally = self.tallies.setdefault(source, _Tally())
        tally.words.append(int(item.get("word_count") or 0))
        tally.dated += bool(item.get("published_date"))
        tally.authored += bool(item.get("authors"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        fetched: dict[str, int] = {}
        for key, value in stats.items():
            if key.startswith(SOURCES_PREFIX) and key.endswith("/pages_fetched"):
                fetched[key[len(SOURCES_PREFIX) : -len("/pages_fetched")]] = value
        run_id = run_id_for(self.crawler.settings)
        finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
        report: dict[str, dict[str, Any]] = {}
        for source in sorted(fetched):
            not_article = stats.get(f"{SOURCES_PREFIX}{source}/dropped/not_article", 0)
            now = figures_of(fetched[source], not_article, self.tallies.get(source, _Tally()))
            history = self.store.source_health(source, self.history_runs)
            entry: dict[str, Any] = {"figures": now, "runs_compared": len(history)}
            if len(history) >= self.min_runs:
                entry["usual"] = usual_figures(history)
                entry["problems"] = judge(now, entry["usual"])
                entry["healthy"] = not entry["problems"]
                for problem in entry["problems"]:
                    logger.warning(
                        "Source %(source)s looks broken: %(problem)s",
                        {"source": source, "problem": problem},
                        extra={"source": source},
                    )
            report[source] = entry
            # an interrupted run's figures would pull the usual values down
            if reason == "finished":
                self.store.add_source_health(source, run_id, finished, now)
        self.crawler.news_health = report  # read by the run summary
