"""``scrapy crawl news``: discover and fetch the articles of the sources in the sources file.

Feeds, sitemaps (robots.txt, indexes, gzip, Google News) and link following from
start pages. Feed and sitemap dates are checked against ``max_age`` before an
article is downloaded; listing pages are followed, and emitted only when their markup
merely hints at a listing (the extract step then keeps a page whose body is an article).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.sitemap import sitemap_urls_from_robots

from crawler.discovery.feeds import FeedError, parse_feed
from crawler.discovery.pagetype import page_verdict, url_kind
from crawler.discovery.sitemaps import SitemapError, parse_sitemap, sitemap_body
from crawler.discovery.sources import Source, SourcesError, load_sources
from crawler.discovery.urls import normalize_url
from crawler.middlewares.seen import needs_refresh
from crawler.pages.dateparse import parse_date
from crawler.pages.page import Page
from crawler.run.stats import count
from crawler.spiders.base import NewsSpider
from crawler.state.access import prefetched_for, store_for
from crawler.state.store import StateStore, StateUnavailableError

logger = logging.getLogger(__name__)

# not plain application/json: WordPress links its REST API that way on every page
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/feed+json"}
# Query parameters that name an article rather than a view of a listing.
_ID_PARAM = re.compile(
    r"^(?:id|p|sid|story|storyid|article|articleid|art|item|itemid|page_id|post|nid|cid)$", re.I
)
_IGNORED_EXTENSIONS = tuple(f".{extension}" for extension in IGNORED_EXTENSIONS)
_MAX_SITEMAP_NESTING = 3
_ARTICLE_PRIORITY = 10


def sources_for(settings: Any) -> dict[str, Source]:
    return load_sources(
        settings.get("NEWS_SOURCES"),
        max_depth=settings.getint("NEWS_DISCOVERY_MAX_DEPTH"),
        max_pages=settings.getint("NEWS_DISCOVERY_MAX_PAGES"),
    )


def _slot(source: Source) -> str:
    return f"source:{source.name}"


def _base_url(page: Page) -> str:
    """The page's ``<base href>`` when it has one: relative links resolve against it."""
    if page.tree is not None:
        for href in page.tree.xpath("//head/base/@href")[:1]:
            try:
                return urljoin(page.url, href.strip())
            except ValueError:
                break
    return page.url


class NewsDiscoverySpider(NewsSpider):
    """Crawl every source of ``NEWS_SOURCES``, or ``-a source=NAME[,NAME]``."""

    name = "news"

    def __init__(self, source: str = "", groups: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.wanted = [name.strip() for name in source.split(",") if name.strip()]
        # `crawlall --shard`: this worker's site groups, each crawled only under its lock
        self.groups = groups or {}
        self.sources: dict[str, Source] = {}
        self._seen: set[str] = set()
        self._pages: dict[str, int] = defaultdict(int)
        self._query_variants: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._sitemaps: dict[str, int] = defaultdict(int)
        self._store: StateStore | None = None
        self._refresh_window = timedelta(0)
        self._refresh_interval = timedelta(0)

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        # The sources file is read and validated here, before the crawl starts.
        sources = sources_for(settings)
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for source in sources.values():
            slot = {}
            if "DOWNLOAD_DELAY" in source.settings:
                slot["delay"] = float(source.settings["DOWNLOAD_DELAY"])
            if "CONCURRENT_REQUESTS_PER_DOMAIN" in source.settings:
                slot["concurrency"] = int(source.settings["CONCURRENT_REQUESTS_PER_DOMAIN"])
            if "RANDOMIZE_DOWNLOAD_DELAY" in source.settings:
                slot["jitter"] = 0.5 if source.settings["RANDOMIZE_DOWNLOAD_DELAY"] else 0.0
            if slot:
                slots[_slot(source)] = slot
        if slots:
            settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsDiscoverySpider:
        spider: NewsDiscoverySpider = super().from_crawler(crawler, *args, **kwargs)
        spider.sources = spider.select(sources_for(crawler.settings))
        spider.allowed_domains = sorted(
            {d for source in spider.sources.values() for d in source.allowed_domains}
        )
        return spider

    def select(self, sources: dict[str, Source]) -> dict[str, Source]:
        unknown = [name for name in self.wanted if name not in sources]
        if unknown:
            raise SourcesError(
                f"unknown source {unknown[0]!r}; the sources file has: {', '.join(sorted(sources))}"
            )
        return {name: sources[name] for name in (self.wanted or sources)}

    def claim_groups(self) -> None:
        """Keep the sources of the site groups this worker could lock; another worker (the same
        shard started twice, or an overlapping run) holds the rest, and crawls them. Called while
        the crawl starts (``crawler/extensions/groups.py``), so that locks that cannot be taken at
        all (the state unreachable, its folder not writable) stop the start: one line, exit 2."""
        if not self.groups or not self.crawler.settings.getbool("NEWS_STATE_ENABLED"):
            return
        try:
            store = store_for(self.crawler)
            for group, names in self.groups.items():
                if store.try_lock_group(group):
                    continue
                count(self.crawler.stats, "shard/groups_held_elsewhere")
                logger.info(
                    "Site group %(group)s is being crawled by another worker; skipping %(sources)s",
                    {"group": group, "sources": ", ".join(names)},
                )
                for name in names:
                    self.sources.pop(name, None)
        except OSError as exc:  # the stores say why as a StateUnavailableError; anything else too
            raise StateUnavailableError(f"cannot take the site group locks: {exc}") from exc

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources.values():
            for url in source.feeds:
                yield self._request(source, url, self.parse_feed, "feed")
            for url in source.sitemaps:
                request = self._sitemap_request(source, url, 0)
                if request is not None:
                    yield request
            for url in source.start_urls:
                yield self._request(source, url, self.parse_page, "start", depth=0, emit=False)

    # --- requests -------------------------------------------------------------

    def _request(
        self,
        source: Source,
        url: str,
        callback: Callable[..., Any],
        kind: str,
        *,
        depth: int = 0,
        hints: dict[str, Any] | None = None,
        emit: bool = True,
        priority: int = 0,
    ) -> scrapy.Request:
        meta: dict[str, Any] = {
            "news_source": source.name,
            "news_kind": kind,
            "news_depth": depth,
            "news_emit": emit,
            "news_hints": {**source.hints(), **(hints or {})},
        }
        if _slot(source) in self.crawler.settings.getdict("DOWNLOAD_SLOTS"):
            meta["download_slot"] = _slot(source)
            if "DOWNLOAD_DELAY" in source.settings:
                # AutoThrottle would otherwise lower the source's delay towards the global one
                meta["autothrottle_dont_adjust_delay"] = True
        if kind in ("feed", "sitemap"):
            # feeds and sitemaps may live on another host (a CDN, a feed service)
            meta["allow_offsite"] = True
        if "DOWNLOAD_TIMEOUT" in source.settings:
            meta["download_timeout"] = source.settings["DOWNLOAD_TIMEOUT"]
        if "DOWNLOAD_MAXSIZE" in source.settings:
            meta["download_maxsize"] = source.settings["DOWNLOAD_MAXSIZE"]
        headers = {"User-Agent": source.settings["USER_AGENT"]} if "USER_AGENT" in source.settings else None
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, meta=meta, headers=headers, priority=priority
        )

    def _page_request(
        self,
        source: Source,
        url: str,
        callback: Callable[..., Any],
        *,
        depth: int,
        hints: dict[str, Any] | None = None,
        emit: bool = True,
        priority: int = 0,
        from_links: bool = False,
        article: bool = True,
    ) -> scrapy.Request | None:
        """A request for an article or listing page, or ``None`` (counted) when it must not be made.

        ``article``: the URL names an article (a feed or sitemap entry, a link whose URL is not a
        listing's), counted as found (``discovery/article_urls``), known or new, for source health.
        """
        stats = self.crawler.stats
        try:
            key = normalize_url(url)
        except ValueError:
            count(stats, "skipped/bad_url", source.name)
            return None
        # one fetch per article, whatever the scheme or the tracking parameters of the link
        seen_key = key.split("://", 1)[-1]
        if seen_key in self._seen:
            return None
        self._seen.add(seen_key)
        if not source.allows_domain(key):
            count(stats, "skipped/offsite", source.name)
            return None
        if source.is_denied(key):
            count(stats, "skipped/denied", source.name)
            return None
        if from_links and self._is_trap(source, key):
            count(stats, "skipped/trap", source.name)
            return None
        if article:
            count(stats, "discovery/article_urls", source.name)
        if self._seen_before(key):
            count(stats, "skipped/seen", source.name)  # before it costs any of max_pages
            return None
        if self._pages[source.name] >= source.max_pages:
            count(stats, "skipped/max_pages", source.name)
            return None
        self._pages[source.name] += 1
        kind = "article" if callback == self.parse_article else "page"
        try:
            request = self._request(
                source, url, callback, kind, depth=depth, hints=hints, emit=emit, priority=priority
            )
        except ValueError:
            count(stats, "skipped/bad_url", source.name)
            return None
        request.meta["news_article"] = article  # the seen-URL middleware counts the new ones
        if from_links:  # a 404 or 410 of it is link rot on the site, not a failure of the run (link_error)
            request.meta["news_followed"] = True
        return request

    def _prefetch(self, base: str, links: list[str]) -> None:
        """The states of a feed's or sitemap's entries, read in one query before their requests
        are checked one by one (a shared state on a database server: one round trip, not one a URL)."""
        if not self.crawler.settings.getbool("NEWS_STATE_ENABLED") or not links:
            return
        urls = []
        for link in links:
            with suppress(ValueError):
                urls.append(normalize_url(urljoin(base, link)))
        prefetched_for(self.crawler).prefetch(urls)

    def _seen_before(self, url: str) -> bool:
        """Emitted by an earlier run and not due for a refresh (the seen-URL middleware's rule)."""
        if self._store is None:
            return False
        state = self._store.get_by_url(url)
        return state is not None and not needs_refresh(
            state, datetime.now(timezone.utc), self._refresh_window, self._refresh_interval
        )

    def _is_trap(self, source: Source, url: str) -> bool:
        parts = urlsplit(url)
        if len(url) > 2000:
            return True
        segments = [segment for segment in parts.path.split("/") if segment]
        if len(segments) > 12 or any(segments.count(segment) > 2 for segment in segments):
            return True  # /a/b/a/b/a/b: relative links that nest for ever
        if parts.query:
            names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
            if names and all(_ID_PARAM.match(name) for name in names):
                return False  # article.php?id=123: one article per value, not a view
            variants = self._query_variants[(source.name, parts.path)]
            variants.add(parts.query)
            limit = self.crawler.settings.getint("NEWS_DISCOVERY_MAX_QUERY_VARIANTS")
            if len(variants) > limit:
                return True  # faceted navigation: sort=, filter=, view= combinations
        return False

    def _too_old(self, source: Source, value: str | None) -> bool:
        if source.max_age is None or not value:
            return False
        now = datetime.now(timezone.utc)
        parsed = parse_date(value, source.language, source.date_order, now)
        if parsed is None:
            return False
        cutoff = now - source.max_age
        if parsed.has_offset:
            return parsed.moment < cutoff
        return parsed.local_date < cutoff.date()

    # --- callbacks ------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.sources[response.meta["news_source"]]
        stats = self.crawler.stats
        try:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            feed = parse_feed(response.body, content_type)
        except FeedError as exc:
            count(stats, "discovery/errors/feed", source.name)
            logger.warning("Broken feed %(url)s: %(error)s", {"url": response.url, "error": exc})
            return
        if feed.problem:
            count(stats, "discovery/errors/feed", source.name)
            logger.warning(
                "Damaged feed %(url)s: %(problem)s", {"url": response.url, "problem": feed.problem}
            )
        self._prefetch(response.url, [entry.url for entry in feed.entries])
        for entry in feed.entries:
            count(stats, "discovery/feed_entries", source.name)
            if self._too_old(source, entry.published):
                count(stats, "skipped/too_old", source.name)
                count(stats, "discovery/article_urls", source.name)  # found all the same (source health)
                continue
            hints: dict[str, Any] = {}
            if entry.published:
                hints["published"] = {"value": entry.published, "source": "feed"}
            if entry.title:
                hints["title"] = entry.title
            try:
                url = urljoin(response.url, entry.url)
            except ValueError:
                count(stats, "skipped/bad_url", source.name)
                continue
            request = self._page_request(
                source,
                url,
                self.parse_article,
                depth=1,
                hints=hints,
                priority=_ARTICLE_PRIORITY,
            )
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.sources[response.meta["news_source"]]
        stats = self.crawler.stats
        nesting = response.meta.get("news_sitemap_nesting", 0)
        if urlsplit(response.url).path.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                request = self._sitemap_request(source, url, nesting)
                if request is not None:
                    yield request
            return
        max_size = self.crawler.settings.getint("NEWS_SITEMAP_MAXSIZE")
        try:
            kind, entries, problem = parse_sitemap(sitemap_body(response.body, max_size))
        except SitemapError as exc:
            count(stats, "discovery/errors/sitemap", source.name)
            logger.warning("Broken sitemap %(url)s: %(error)s", {"url": response.url, "error": exc})
            return
        if problem:
            count(stats, "discovery/errors/sitemap", source.name)
            logger.warning("Damaged sitemap %(url)s: %(problem)s", {"url": response.url, "problem": problem})
        # newest first, so that max_pages is spent on what is new (undated entries last)
        entries.sort(
            key=lambda entry: entry.get("news_publication_date") or entry.get("lastmod") or "", reverse=True
        )
        if kind != "sitemapindex":
            self._prefetch(response.url, [entry["loc"] for entry in entries])
        for entry in entries:
            try:
                url = urljoin(response.url, entry["loc"])
            except ValueError:
                count(stats, "skipped/bad_url", source.name)
                continue
            if kind == "sitemapindex":
                if self._too_old(source, entry.get("lastmod")):
                    # not changed since before max_age: everything in it is older
                    count(stats, "skipped/too_old_sitemap", source.name)
                    continue
                if nesting < _MAX_SITEMAP_NESTING:
                    request = self._sitemap_request(source, url, nesting + 1)
                    if request is not None:
                        yield request
                continue
            count(stats, "discovery/sitemap_entries", source.name)
            published = entry.get("news_publication_date")
            if self._too_old(source, published or entry.get("lastmod")):
                count(stats, "skipped/too_old", source.name)
                count(stats, "discovery/article_urls", source.name)  # found all the same (source health)
                continue
            is_news = any(name.startswith("news_") for name in entry)
            if source.is_allowed_article(url) is False or (not is_news and url_kind(url) == "listing"):
                count(stats, "skipped/listing", source.name)  # sitemaps list sections and tags too
                continue
            hints: dict[str, Any] = {}
            if published:
                hints["published"] = {"value": published, "source": "sitemap"}
            if entry.get("news_title"):
                hints["title"] = entry["news_title"]
            if entry.get("news_language") and not source.language:
                hints["language"] = entry["news_language"]
            request = self._page_request(
                source, url, self.parse_article, depth=1, hints=hints, priority=_ARTICLE_PRIORITY
            )
            if request is not None:
                yield request

    def _sitemap_request(self, source: Source, url: str, nesting: int) -> scrapy.Request | None:
        if self._sitemaps[source.name] >= self.crawler.settings.getint("NEWS_DISCOVERY_MAX_SITEMAPS"):
            count(self.crawler.stats, "skipped/max_sitemaps", source.name)
            return None
        try:
            request = self._request(source, url, self.parse_sitemap, "sitemap")
        except ValueError:
            count(self.crawler.stats, "skipped/bad_url", source.name)
            return None
        self._sitemaps[source.name] += 1
        request.meta["news_sitemap_nesting"] = nesting
        request.meta["download_maxsize"] = self.crawler.settings.getint("NEWS_SITEMAP_MAXSIZE")
        return request

    def parse_page(self, response: Response) -> Iterator[Any]:
        """A start page or a followed link: emitted when it is an article, followed when a listing."""
        source = self.sources[response.meta["news_source"]]
        depth = response.meta.get("news_depth", 0)
        page = self.make_page(response)
        if page is None:
            return
        if depth == 0:
            yield from self._autodiscovered_feeds(source, page)
        kind, firm = page_verdict(page) if page.tree is not None else ("unknown", False)
        # a page whose markup only hints at a listing goes to extraction too, which keeps it
        # when its body is plainly an article; its links are followed either way
        if response.meta.get("news_emit", True) and depth > 0 and not (kind == "listing" and firm):
            yield {"_page": page}
            if kind == "article":
                return  # related-article links would take the crawl sideways
        if depth < source.max_depth:
            yield from self._follow_links(source, page, depth)

    def _autodiscovered_feeds(self, source: Source, page: Page) -> Iterator[scrapy.Request]:
        if page.tree is None:
            return
        for link in page.tree.xpath(
            "//link[@href][contains(concat(' ', normalize-space(@rel), ' '), ' alternate ')]"
        ):
            if (link.get("type") or "").lower().split(";")[0].strip() in _FEED_TYPES:
                try:
                    url = urljoin(_base_url(page), link.get("href"))
                    normalize_url(url)
                except ValueError:
                    continue
                if source.allows_domain(url) and normalize_url(url) not in self._seen:
                    self._seen.add(normalize_url(url))
                    count(self.crawler.stats, "discovery/feeds_autodiscovered", source.name)
                    yield self._request(source, url, self.parse_feed, "feed")

    def _follow_links(self, source: Source, page: Page, depth: int) -> Iterator[scrapy.Request]:
        """Links of a listing page, from the tree parsed once for the page."""
        if page.tree is None:
            return
        next_depth = depth + 1
        base = _base_url(page)
        limit = self.crawler.settings.getint("NEWS_DISCOVERY_MAX_LINKS_PER_PAGE")
        anchors = page.tree.iterfind(".//a[@href]")
        for anchor in islice(anchors, limit):
            if "nofollow" in (anchor.get("rel") or "").lower():
                continue
            try:
                url = urljoin(base, anchor.get("href").strip())
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises ValueError for a bad port
            except ValueError:
                count(self.crawler.stats, "skipped/bad_url", source.name)
                continue
            if parts.scheme not in ("http", "https") or parts.path.lower().endswith(_IGNORED_EXTENSIONS):
                continue
            decided = source.is_allowed_article(url)
            kind = ("article" if decided else "listing") if decided is not None else url_kind(url)
            if next_depth >= source.max_depth and kind == "listing":
                continue  # at the last level a listing page leads nowhere
            count(self.crawler.stats, "discovery/links", source.name)
            request = self._page_request(
                source,
                url,
                self.parse_page,
                depth=next_depth,
                emit=decided is not False,
                # the nearer an article is to a start page, the sooner: a copy found deeper
                # (a syndicated duplicate on page 2 of a section) comes after its original
                priority=_ARTICLE_PRIORITY - next_depth if kind == "article" else 0,
                from_links=True,
                # a link whose URL says nothing (not "listing") counts: a site whose article URLs
                # look like nothing still shows its links vanish when its discovery collapses
                article=kind != "listing",
            )
            if request is not None:
                yield request
        capped = sum(1 for _ in anchors)  # what is left of the iterator past the limit
        if capped:
            count(self.crawler.stats, "discovery/links_capped", source.name, capped)
