"""Source health: the figures that show a source broke, per run, against its recent runs.

When a site changes its layout a generic pipeline quietly emits stubs, or nothing; when its
home page becomes a JavaScript app, or its articles redirect to a consent page elsewhere, it
finds or fetches nothing. Per source and run of the news spider this keeps, in the state store:
what it discovered (article URLs found on its start pages, feeds and sitemaps, known ones
included; of those, the new ones requested, and how many of them were written; articles fetched
again, and how many of them came out as stubs; requests redirected off its domains) and what it
wrote (articles written, the share of fetched pages dropped as ``not_article``, the median
``word_count``, the shares of articles with a date and with authors). Once a source has
``NEWS_HEALTH_MIN_RUNS`` earlier runs, a run is compared with the median of its last
``NEWS_HEALTH_HISTORY_RUNS`` and marked unhealthy when:

- the article URLs found fall under a quarter of the usual (discovery collapsed);
- the articles written fall under half of the usual (to zero, for a source that usually writes
  fewer than ``_MIN_ARTICLES``) while the new article URLs requested and not written rise by half
  the usual written, and by ``_MIN_COLLAPSE`` at least: the articles were there and came out as
  nothing (stubs, consent pages, errors). A quiet hour finds fewer new articles and writes correspondingly fewer;
  refetches of known articles, which inflate pages fetched, do not enter;
- most of the article requests are redirected off the source's domains, 30 points more than usual;
- the share of the articles fetched again that came out as stubs rises 30 points over the usual, with
  ``_MIN_COLLAPSE`` stubs at least. Every article fetched again was written before, with a body
  of ``NEWS_EXTRACT_MIN_WORDS`` or more: one that now has a body under that is an article page
  whose text the page no longer holds (a redesign, a script that loads it), even in an hour that
  found nothing new. New URLs are not judged so: listing and tag pages a home page links are
  never written, and some of them come out short every run;
- the median words per article fall under 40 % of the usual;
- the share of articles with a date, or with authors, falls by 30 points or more.

Small numbers swing by chance: a source is judged on what it finds, writes or has redirected only
when the usual figure is at least ``_MIN_COLLAPSE`` (on stubs, when that many came out) (and the fall-under-half of articles written
only from ``_MIN_ARTICLES``); words and shares only in a run that wrote ``_MIN_ARTICLES`` or more.
A one-off ``crawl article`` run discovers nothing and is neither recorded nor judged. The run
summary (``crawler/extensions/summary.py``) reports the result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import median
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.run.runid import run_id_for
from crawler.run.stats import SOURCES_PREFIX, count
from crawler.spiders.news import NewsDiscoverySpider
from crawler.state.access import store_for
from crawler.state.store import StateStore

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Fewer articles than this in a run (or in the usual run): too few to judge a fall by. A cron run
# every 15 minutes often writes one to five; their shares and medians swing by chance.
_MIN_ARTICLES = 10
# A fall to nothing from a usual of this many or more is a break even for a small source: three
# article links gone from a home page, or three new articles in a row come out as nothing, are
# not chance. Under it a source is not judged on what it finds, writes or has redirected.
_MIN_COLLAPSE = 3
DISCOVERY_FALL = 0.25
WRITTEN_FALL = 0.5
WORDS_FALL = 0.4
COVERAGE_FALL = 0.30
REDIRECTED_SHARE = 0.5
STUB_RISE = 0.30
# How the extract step names a page that looks like an article (a headline, not a listing) whose
# body is under NEWS_EXTRACT_MIN_WORDS (pipelines/extraction/article.py); "listing page" and the rest are not stubs.
_STUB_DETAIL = re.compile(r"body of \d+ words")

# The source's stats (below news/sources/<source>/) that make its figures, by figure name.
_COUNTED = {
    "pages_fetched": "pages_fetched",
    "articles_found": "discovery/article_urls",
    "new_articles": "discovery/new_articles",
    "refetched": "refetched/fresh",
    "refetched_stubs": "refetched/stub",
    "redirected_offsite": "dropped/offsite",
    "not_article": "dropped/not_article",
}


@dataclass
class _Tally:
    words: list[int] = field(default_factory=list)
    dated: int = 0
    authored: int = 0
    new_written: int = 0  # written from a URL no earlier run had emitted


def figures_of(counts: Mapping[str, int], tally: _Tally) -> dict[str, Any]:
    """One run's figures, from its source's counts (named as in ``_COUNTED``) and its records."""
    pages_fetched, written = counts.get("pages_fetched", 0), len(tally.words)
    not_article = counts.get("not_article", 0)
    return {
        "pages_fetched": pages_fetched,
        "written": written,
        "articles_found": counts.get("articles_found", 0),
        "new_articles": counts.get("new_articles", 0),
        "new_written": tally.new_written,
        "refetched": counts.get("refetched", 0),
        "refetched_stubs": counts.get("refetched_stubs", 0),
        "redirected_offsite": counts.get("redirected_offsite", 0),
        "not_article_share": round(not_article / pages_fetched, 3) if pages_fetched else None,
        "median_words": median(tally.words) if tally.words else None,
        "with_date": round(tally.dated / written, 3) if written else None,
        "with_authors": round(tally.authored / written, 3) if written else None,
    }


def _unwritten(run: Mapping[str, Any]) -> int | None:
    """New article URLs requested that came out as no record (stubs, consent pages, errors)."""
    if run.get("new_articles") is None or run.get("new_written") is None:
        return None  # figures recorded before these were counted
    return max(0, run["new_articles"] - run["new_written"])


def _requests(run: Mapping[str, Any]) -> int:
    """Article requests: the new ones and the known ones fetched again (at least those redirected)."""
    return max(run["new_articles"] + run.get("refetched", 0), run["redirected_offsite"])


def _redirected_share(run: Mapping[str, Any]) -> float | None:
    if run.get("redirected_offsite") is None or run.get("new_articles") is None:
        return None
    requests = _requests(run)
    return run["redirected_offsite"] / requests if requests else 0.0


def _stub_share(run: Mapping[str, Any]) -> float | None:
    """The share of the articles fetched again that came out as stubs; none if none was fetched again."""
    if run.get("refetched_stubs") is None or not run.get("refetched"):
        return None
    return run["refetched_stubs"] / run["refetched"]


def _usual_stub_share(history: list[dict[str, Any]]) -> float | None:
    """The median share over the runs that fetched articles again. Not a figure runs lack when
    they fetched nothing again (most runs of a source have one per refresh interval at best): the
    runs recorded before stubs were counted are what must be few."""
    if 2 * sum(run.get("refetched_stubs") is not None for run in history) <= len(history):
        return None
    shares = [share for share in map(_stub_share, history) if share is not None]
    return median(shares) if shares else None


def _usual(values: list[Any], runs: int) -> float | None:
    """The median of the runs that have the figure; none unless most of the runs have it (the
    history of a source may start before a figure was counted)."""
    known = [value for value in values if value is not None]
    return median(known) if known and 2 * len(known) > runs else None


def usual_figures(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the runs that have it (shares: runs with enough articles)."""
    runs = len(history)
    usual: dict[str, Any] = {}
    for name in ("pages_fetched", "written"):
        usual[name] = median(run[name] for run in history)
    for name in (
        "articles_found",
        "new_articles",
        "new_written",
        "refetched",
        "refetched_stubs",
        "redirected_offsite",
    ):
        usual[name] = _usual([run.get(name) for run in history], runs)
    usual["new_unwritten"] = _usual([_unwritten(run) for run in history], runs)
    usual["redirected_share"] = _usual([_redirected_share(run) for run in history], runs)
    usual["refetched_stub_share"] = _usual_stub_share(history)
    judged = [run for run in history if run["written"] >= _MIN_ARTICLES]
    for name in ("median_words", "with_date", "with_authors"):
        values = [run[name] for run in judged if run.get(name) is not None]
        usual[name] = median(values) if values else None
    return usual


def _rose(share: float | None, usual_share: float | None, rise: float) -> bool:
    """Whether a share rose by ``rise`` or more over its usual value (both known)."""
    return share is not None and usual_share is not None and share - usual_share >= rise


def judge(now: dict[str, Any], usual: dict[str, Any]) -> list[str]:
    """What fell, each as a sentence with the figure and its usual value."""
    problems = []
    found, usual_found = now.get("articles_found"), usual.get("articles_found")
    if (
        found is not None
        and usual_found is not None
        and usual_found >= _MIN_COLLAPSE
        and found < DISCOVERY_FALL * usual_found
    ):
        problems.append(f"article URLs found fell to {found} (usual {usual_found:g})")
    written, usual_written = now["written"], usual["written"]
    unwritten, usual_unwritten = _unwritten(now), usual.get("new_unwritten")
    fell = written < WRITTEN_FALL * usual_written if usual_written >= _MIN_ARTICLES else written == 0
    if (
        usual_written >= _MIN_COLLAPSE
        and fell
        and unwritten is not None
        and usual_unwritten is not None
        and unwritten - usual_unwritten >= max(_MIN_COLLAPSE, WRITTEN_FALL * usual_written)
    ):
        problems.append(
            f"articles written fell to {written} (usual {usual_written:g}) while {unwritten} new "
            f"article URLs were requested and not written (usual {usual_unwritten:g})"
        )
    share = _redirected_share(now)
    if (
        share is not None
        and share >= REDIRECTED_SHARE
        and now["redirected_offsite"] >= _MIN_COLLAPSE
        and _rose(share, usual.get("redirected_share"), COVERAGE_FALL)
    ):
        problems.append(
            f"{now['redirected_offsite']} of {_requests(now)} article requests were redirected off the "
            f"source's domains (usual {usual['redirected_share']:.0%})"
        )
    if (
        _rose(_stub_share(now), usual.get("refetched_stub_share"), STUB_RISE)
        and now["refetched_stubs"] >= _MIN_COLLAPSE
    ):
        problems.append(
            f"{now['refetched_stubs']} of {now['refetched']} articles fetched again came out as stubs "
            f"(usual {usual['refetched_stub_share']:.0%})"
        )
    if written < _MIN_ARTICLES:
        return problems
    if usual["median_words"] and now["median_words"] < WORDS_FALL * usual["median_words"]:
        problems.append(
            f"median words per article fell to {now['median_words']:g} (usual {usual['median_words']:g})"
        )
    for name, what in (("with_date", "a date"), ("with_authors", "authors")):
        if usual[name] is not None and usual[name] - now[name] >= COVERAGE_FALL:
            problems.append(f"articles with {what} fell to {now[name]:.0%} (usual {usual[name]:.0%})")
    return problems


def _counts(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Each source's counts that make its figures, in one pass over the stats."""
    wanted = {stat: name for name, stat in _COUNTED.items()}
    counts: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith(SOURCES_PREFIX):
            source, _, stat = key[len(SOURCES_PREFIX) :].partition("/")
            if stat in wanted:
                counts.setdefault(source, {})[wanted[stat]] = value
    return counts


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
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        # before the run summary, which reports what this finds
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self, item: dict[str, Any], response: Any, spider: Spider) -> None:
        source = item.get("source")
        if not source or not isinstance(spider, NewsDiscoverySpider):
            return
        tally = self.tallies.setdefault(source, _Tally())
        tally.words.append(int(item.get("word_count") or 0))
        tally.dated += bool(item.get("published_date"))
        tally.authored += bool(item.get("authors"))
        with suppress(AttributeError):  # a response without its request
            tally.new_written += bool(response.meta.get("news_new"))  # set by the seen-URL middleware

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        meta = getattr(response, "meta", None) or {}  # a response without its request has none
        if (
            meta.get("news_refresh")  # fetched again: written before (the seen-URL middleware)
            and getattr(exception, "reason", None) == "not_article"
            and _STUB_DETAIL.fullmatch(getattr(exception, "detail", ""))
            and isinstance(spider, NewsDiscoverySpider)
        ):
            count(self.crawler.stats, "refetched/stub", meta.get("news_source"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if not isinstance(spider, NewsDiscoverySpider):
            return  # a one-off crawl of given URLs discovers nothing: its figures would mislead
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts = _counts(stats)
        # every source the run crawled, those that fetched nothing included (a start page
        # redirected away finds nothing too)
        sources = {name for name, found in counts.items() if "pages_fetched" in found} | set(spider.sources)
        run_id = run_id_for(self.crawler.settings)
        finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
        report: dict[str, dict[str, Any]] = {}
        for source in sorted(sources):
            now = figures_of(counts.get(source, {}), self.tallies.get(source, _Tally()))
            history = self.store.source_health(source, self.history_runs)
            entry: dict[str, Any] = {"figures": now, "runs_compared": len(history)}
            if history and len(history) >= self.min_runs:  # nothing to compare with: not judged
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
