"""The CPU-bound work on one page: parse once, extract, resolve dates. Runs in a worker process.

Everything a worker needs arrives in a small picklable payload (the raw body, not
a parsed tree), and the options are set once per worker by ``init_worker``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from crawler.discovery.pagetype import ARTICLE_PROSE_WORDS, page_verdict, prose_words
from crawler.discovery.urls import url_id
from crawler.pages.page import Page, PageLimits, undecodable_share, without_controls
from pipelines.dates import DatesConfig, resolve_dates
from pipelines.extraction.article import ExtractOptions, NotAnArticle, extract_article
from pipelines.extraction.text import content_hash, count_words

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

SCHEMA_VERSION = 1

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PagePayload:
    url: str
    body: bytes = field(repr=False)
    fetched_at: datetime
    source: str
    declared_encoding: str | None
    status: int
    hints: dict[str, Any]

    @classmethod
    def of(cls, page: Page) -> PagePayload:
        return cls(
            page.url, page.body, page.fetched_at, page.source, page.declared_encoding, page.status, page.hints
        )

    def page(self, limits: PageLimits | None = None) -> Page:
        return Page(
            limits=limits or PageLimits(),
            url=self.url,
            body=self.body,
            fetched_at=self.fetched_at,
            source=self.source,
            declared_encoding=self.declared_encoding,
            status=self.status,
            hints=dict(self.hints),
        )


@dataclass(frozen=True)
class WorkOptions:
    extract: ExtractOptions
    dates: DatesConfig
    plugins: tuple[str, ...] = ()
    limits: PageLimits = field(default_factory=PageLimits)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> WorkOptions:
        """The options of a crawl; a bad value raises ValueError, so that the crawl does not start."""
        plugins = tuple(settings.getlist("NEWS_EXTRACT_PLUGINS"))
        for path in plugins:  # a plugin that cannot be imported stops the crawl now, not in every worker
            try:
                load_plugin(path)
            except (ImportError, AttributeError, ValueError) as exc:
                raise ValueError(f"NEWS_EXTRACT_PLUGINS: cannot import {path!r}: {exc}") from exc
        options = cls(
            extract=ExtractOptions(
                min_words=settings.getint("NEWS_EXTRACT_MIN_WORDS"),
                strip=tuple(settings.getlist("NEWS_EXTRACT_STRIP")),
                favor=settings.get("NEWS_EXTRACT_FAVOR"),
            ),
            dates=DatesConfig.from_settings(settings),
            plugins=plugins,
            limits=PageLimits.from_settings(settings),
        )
        if settings.getint("NEWS_DISCOVERY_MAX_LINKS_PER_PAGE") < 1:
            raise ValueError(
                f"NEWS_DISCOVERY_MAX_LINKS_PER_PAGE: {settings.getint('NEWS_DISCOVERY_MAX_LINKS_PER_PAGE')} "
                "is not a positive number"
            )
        return options


_OPTIONS: WorkOptions | None = None
_PLUGINS: list[Any] = []


def load_plugin(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def init_worker(options: WorkOptions) -> None:
    """Once per worker process: the options, the plugins imported, the libraries warmed up."""
    global _OPTIONS  # noqa: PLW0603 - per-process configuration
    _OPTIONS = options
    _log_only_what_is_shown()
    _PLUGINS[:] = [load_plugin(path) for path in options.plugins]
    _options_with.cache_clear()
    warm_up()


def _log_only_what_is_shown() -> None:
    """The root logger at the level of its most verbose handler: Scrapy leaves the root at
    NOTSET and filters in the handler, so every debug message of trafilatura and htmldate
    (dozens a page) was built into a record and thrown away. Nothing changes where no handler
    is set up, or one takes every level (a test capturing the logs, a notebook)."""
    root = logging.getLogger()
    levels = [handler.level for handler in root.handlers]
    if root.level == logging.NOTSET and levels and min(levels) > logging.NOTSET:
        root.setLevel(min(levels))


_WARM_UP_SENTENCES = (
    "The harbour ferry carried its first passengers in six months on Monday morning.",
    "Engineers replaced both engines and the steering gear during a refit that ran over budget.",
    "Commuters from the north shore had faced a forty-minute detour by road since the spring.",
    "The operator said timetables would return to normal from next week, with extra evening sailings.",
    "Local businesses near the pier welcomed the news after a difficult summer season.",
    "A spokesperson for the council said the service remained a priority for the coming year.",
)
_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Harbour ferry returns - The Lantern</title>"
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbour ferry returns",'
    ' "datePublished": "2023-09-04T07:15:00+01:00"}</script></head><body><article><h1>Harbour ferry returns</h1>'
    "<p class='byline'>By Jane Doe, updated 5 September 2023, 07:15</p>"
    + "".join(f"<p>{sentence}</p>" for sentence in _WARM_UP_SENTENCES)
    + "</article></body></html>"
).encode()
_warm = False


def warm_up() -> None:
    """One page through every step, once per process: trafilatura, dateparser and the
    language model load their data on first use, a second or more that would otherwise
    stall the first pages of a crawl. A process forked after this inherits it warm."""
    global _warm  # noqa: PLW0603 - per-process state
    if _warm or _OPTIONS is None:
        return
    _warm = True
    page = Page(
        url="http://warm-up.invalid/news/ferry.html",
        body=_WARM_UP_PAGE,
        fetched_at=datetime.now(UTC),
        source="-",
    )
    try:
        analyse(PagePayload.of(page), plugins=False)  # a user's plugin never sees the sample page
    except Exception as exc:  # a failed warm-up only means a slower first page
        logger.warning("Extraction warm-up failed: %r", exc)


def ping() -> bool:
    """A no-op task: the pool is up when it returns."""
    return _OPTIONS is not None


@lru_cache(maxsize=256)
def _options_with(strip: tuple[str, ...]) -> ExtractOptions:
    """The worker's options plus a source's strip selectors, translated to XPath once per source."""
    assert _OPTIONS is not None
    base = _OPTIONS.extract
    if not strip:
        return base
    return ExtractOptions(min_words=base.min_words, strip=base.strip + strip, favor=base.favor)


def analyse(payload: PagePayload, *, plugins: bool = True) -> dict[str, Any]:
    """The record of a page, or ``{"_drop": (reason, detail)}``; the page is parsed once, here."""
    assert _OPTIONS is not None, "init_worker was not called"
    page = payload.page(_OPTIONS.limits)
    result = _analyse(page, _OPTIONS, plugins=plugins)
    if page.notes:
        result["_notes"] = sorted(set(page.notes))
    return result


def _analyse(page: Page, options: WorkOptions, *, plugins: bool) -> dict[str, Any]:
    if page.undecodable:
        # no declared or detected encoding reads these bytes: a record of them would be garbage
        share = undecodable_share(page.text)
        return {"_drop": ("undecodable", f"{share:.0%} of its non-ASCII characters undecodable")}
    kind, firm = page_verdict(page) if page.tree is not None else ("unknown", False)
    if kind == "listing" and firm:
        return {"_drop": ("not_article", "listing page")}
    extract_options = _options_with(tuple(page.hints.get("strip") or ()))
    try:
        fields = extract_article(page, extract_options)
    except NotAnArticle as exc:
        return {"_drop": ("not_article", str(exc))}
    if kind == "listing":
        paragraphs = [count_words(paragraph) for paragraph in fields["text"].split("\n\n")]
        if prose_words(paragraphs) < ARTICLE_PROSE_WORDS:
            return {"_drop": ("not_article", "listing page")}
    fallback_date = fields.pop("_fallback_date")  # a callable on this worker's tree: never pickled
    record: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": url_id(fields["canonical_url"])}
    record.update(without_controls(fields))
    if record["text"] != fields["text"]:
        record["word_count"], record["content_hash"] = (
            count_words(record["text"]),
            content_hash(record["text"]),
        )
    record["fetched_at"] = page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    record["version"] = 1
    try:
        dates = resolve_dates(page, options.dates, fields["language"], fields["_locale"], fallback_date)
    except (
        Exception
    ) as exc:  # one bad field never costs the article: a page that breaks the dates keeps its text
        logger.warning("Dates left empty at %s: %r", page.url, exc)
        page.notes.append("dates_failed")
        dates = dict.fromkeys(("published_at", "published_date", "modified_at", "date_source"))
    record.update(dates)
    for plugin in _PLUGINS if plugins else ():
        record = plugin(page, record)
    return record
