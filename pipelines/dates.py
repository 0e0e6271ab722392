"""Dates step: the published and modified dates, normalised to UTC, never invented."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.pages.dateparse import ParsedDate, date_order_for, needs_text_parse, parse_date
from crawler.run.drops import DropArticle
from pipelines.extraction.datefind import (
    SOURCE_RANK,
    Candidate,
    fallback_candidate,
    header_candidates,
    markup_candidates,
    text_candidates,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.pages.page import Page

logger = logging.getLogger(__name__)

_ORDERS = {"", "DMY", "MDY", "YMD"}
# Strings of a page read by dateparser (a few milliseconds each) before only the ISO 8601 and
# RFC 822 forms are read: a count of work, never of time, so that the same page gives the
# same dates on an idle or a busy machine (an archive or a hostile page holds hundreds)
PAGE_DATE_TEXT_READS = 20


@dataclass(frozen=True)
class DatesConfig:
    zone: tzinfo | None = None
    date_order: str = ""
    max_skew: timedelta = timedelta(minutes=10)
    min_year: int = 1995

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DatesConfig:
        order = settings.get("NEWS_DATES_DATE_ORDER", "").upper()
        if order not in _ORDERS:
            raise ValueError(f"NEWS_DATES_DATE_ORDER={order!r}: expected one of DMY, MDY, YMD")
        return cls(
            zone=_zone(settings.get("NEWS_DATES_TIMEZONE", "")),
            date_order=order,
            max_skew=timedelta(seconds=settings.getint("NEWS_DATES_MAX_SKEW", 600)),
            min_year=settings.getint("NEWS_DATES_MIN_YEAR", 1995),
        )


def _zone(name: str) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"NEWS_DATES_TIMEZONE: unknown IANA time zone {name!r}") from exc


@dataclass(frozen=True)
class Resolved:
    parsed: ParsedDate
    source: str
    rank: int

    @property
    def exact(self) -> bool:
        return self.parsed.has_time and self.parsed.has_offset


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plausible(parsed: ParsedDate, fetched_at: datetime, config: DatesConfig) -> bool:
    if parsed.moment.year < config.min_year:
        return False
    if parsed.has_offset:
        return parsed.moment <= fetched_at + config.max_skew
    # Without an offset, the publisher's calendar day may run up to 14 hours ahead of UTC.
    return parsed.local_date <= (fetched_at + timedelta(hours=14)).date()


def _choose(resolved: list[Resolved]) -> Resolved | None:
    """The most reliable candidate, upgraded to an exact instant on the same day when one exists."""
    if not resolved:
        return None
    best = min(resolved, key=lambda item: item.rank)
    if best.exact:
        return best
    same_day_exact = [
        item for item in resolved if item.exact and item.parsed.local_date == best.parsed.local_date
    ]
    if same_day_exact:
        return min(same_day_exact, key=lambda item: item.rank)
    return best


def _settled(resolved: list[Resolved], rank: int, exact_only: bool) -> bool:
    """Whether candidates ranked ``rank`` or below can no longer change what ``_choose`` picks."""
    if exact_only:
        return any(item.exact and item.rank < rank for item in resolved)
    best = min(resolved, key=lambda item: item.rank, default=None)
    return best is not None and best.exact and best.rank < rank


def resolve_dates(
    page: Page,
    config: DatesConfig,
    language: str | None,
    locale: str | None,
    fallback: Callable[[], str | None] | None = None,
) -> dict[str, Any]:
    """``published_at``, ``published_date``, ``modified_at`` and ``date_source`` for a page.

    Dates in free text go through dateparser, by far the costliest step, so they
    are parsed only when the markup's own dates leave the answer open; and
    ``fallback`` (htmldate) is called only when nothing else gives a published date.
    """
    hints = page.hints
    zone = _zone(hints["timezone"]) if hints.get("timezone") else config.zone
    order = date_order_for(locale or language, hints.get("date_order") or config.date_order)
    candidates = markup_candidates(page)
    parsed_of: dict[Candidate, ParsedDate | None] = {}
    text_reads = 0  # strings of this page read by dateparser (PAGE_DATE_TEXT_READS)

    def resolve(chosen: list[Candidate]) -> dict[str, list[Resolved]]:
        by_kind: dict[str, list[Resolved]] = {"published": [], "modified": []}
        naive: list[tuple[Candidate, ParsedDate]] = []
        offsets: list[timezone] = []
        nonlocal text_reads
        for candidate in chosen:
            if candidate not in parsed_of:
                slow = needs_text_parse(candidate.value)
                fast_only = slow and text_reads >= PAGE_DATE_TEXT_READS
                text_reads += slow and not fast_only
                parsed_of[candidate] = _parse(
                    candidate,
                    language=language,
                    order=order,
                    fetched_at=page.fetched_at,
                    zone=zone,
                    config=config,
                    fast_only=fast_only,
                )
            parsed = parsed_of[candidate]
            if parsed is None:
                continue
            if parsed.has_time and not parsed.has_offset:
                naive.append((candidate, parsed))
                continue
            offset = parsed.moment.utcoffset() if parsed.has_offset else None
            # A UTC offset in markup usually means the CMS normalised to UTC, which says
            # nothing about the zone in which the page prints its local times.
            if offset and candidate.source != "text":
                offsets.append(timezone(offset))
            by_kind[candidate.kind].append(Resolved(parsed, candidate.source, candidate.rank))
        for candidate, parsed in naive:
            # A time without an offset takes the offset the page states elsewhere; else its day only.
            placed = ParsedDate(parsed.moment, has_time=False, has_offset=False)
            if offsets:
                borrowed = ParsedDate(
                    parsed.moment.replace(tzinfo=offsets[0]), has_time=True, has_offset=True
                )
                if _plausible(borrowed, page.fetched_at, config):
                    placed = borrowed
            by_kind[candidate.kind].append(Resolved(placed, candidate.source, candidate.rank))
        return by_kind

    chosen = [candidate for candidate in candidates if candidate.source != "text"]
    by_kind = resolve(chosen)
    text_rank = SOURCE_RANK["text"]
    open_kinds = {
        kind
        for kind in ("published", "modified")
        if not _settled(by_kind[kind], text_rank, exact_only=kind == "modified")
    }
    if open_kinds:
        # the dates printed in the page's lines: searched for only when the markup leaves one open
        candidates = sorted([*candidates, *text_candidates(page)], key=lambda candidate: candidate.rank)
    text = [
        candidate for candidate in candidates if candidate.source == "text" and candidate.kind in open_kinds
    ]
    if text:
        # in rank order
        chosen = [candidate for candidate in candidates if candidate.source != "text" or candidate in text]
        by_kind = resolve(chosen)
    if not by_kind["published"]:
        # a date the article's header prints in a line with no date markup, before htmldate's
        # guess over the whole page (a "today" widget, a copyright line, another story's date)
        for candidate in header_candidates(page):
            by_kind = resolve([*chosen, candidate])
            if by_kind["published"]:
                chosen = [*chosen, candidate]
                break
    if not by_kind["published"] and fallback is not None:
        extra = fallback_candidate(page, _guarded(fallback))
        if extra is not None:
            chosen = [*chosen, extra]
            by_kind = resolve(chosen)

    result: dict[str, Any] = {
        "published_at": None,
        "published_date": None,
        "modified_at": None,
        "date_source": None,
    }
    published = _choose(by_kind["published"])
    if published is not None:
        result["published_date"] = _publisher_day(published, by_kind, zone).isoformat()
        result["published_at"] = rfc3339(published.parsed.moment) if published.exact else None
        result["date_source"] = "text" if published.source == "fallback" else published.source
    modified = _choose([item for item in by_kind["modified"] if item.exact])
    if modified is not None and (
        published is None or not published.exact or modified.parsed.moment >= published.parsed.moment
    ):
        result["modified_at"] = rfc3339(modified.parsed.moment)
    return result


def _guarded(fallback: Callable[[], str | None]) -> str | None:
    """htmldate's answer; an exception in it (a date it cannot represent) means no answer."""
    try:
        return fallback()
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        logger.debug("htmldate failed: %r", exc)
        return None


def _publisher_day(published: Resolved, by_kind: dict[str, list[Resolved]], zone: tzinfo | None) -> date:
    """The publisher's calendar day of the published date.

    An instant stated in UTC ("2021-03-10T03:40:00Z") says nothing of the publisher's day:
    for a site in New York that is the 9th. It is placed in the source's time zone when one
    is configured; else in the offset the page states on its other dates; else on the day
    that the page's own day-only dates (its URL, a visible date) give, when the instant falls
    on that day somewhere (UTC-12 to UTC+14).
    """
    moment = published.parsed.moment
    if not published.exact or moment.utcoffset() != timedelta(0):
        return published.parsed.local_date
    if zone is not None:
        return moment.astimezone(zone).date()
    items = by_kind["published"] + by_kind["modified"]
    for item in items:
        offset = item.parsed.moment.utcoffset() if item.parsed.has_offset else None
        if offset and item.source != "text":
            return moment.astimezone(timezone(offset)).date()
    earliest, latest = (moment - timedelta(hours=12)).date(), (moment + timedelta(hours=14)).date()
    days = [
        item.parsed.local_date
        for item in sorted(by_kind["published"], key=lambda item: item.rank)
        if not item.parsed.has_time and earliest <= item.parsed.local_date <= latest
    ]
    return days[0] if days else moment.date()


def _parse(
    candidate: Candidate,
    *,
    language: str | None,
    order: str | None,
    fetched_at: datetime,
    zone: tzinfo | None,
    config: DatesConfig,
    fast_only: bool = False,
) -> ParsedDate | None:
    """A candidate's date, or None when it does not parse or cannot be right.

    One bad value ("+99:99" as an offset, a year 0) costs that candidate, never the page.
    """
    try:
        parsed = parse_date(candidate.value, language, order, fetched_at, zone, fast_only=fast_only)
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        logger.debug("Unreadable %s date %r: %r", candidate.source, candidate.value[:80], exc)
        return None
    if parsed is None or (parsed.relative and not candidate.near_headline):
        return None
    if parsed.has_time and parsed.moment.time() == time(0, 0) and candidate.source != "text":
        # 00:00:00 in markup is how CMSs fill an unknown time: keep the day only.
        parsed = ParsedDate(parsed.moment.replace(tzinfo=None), has_time=False, has_offset=False)
    return parsed if _plausible(parsed, fetched_at, config) else None


class NormalizeDatesPipeline:
    """Dates step: drops articles published before the source's ``max_age``.

    The date fields themselves are resolved by ``resolve_dates`` in the extraction
    worker, on the tree parsed there (see ``pipelines/work.py``).
    """

    def __init__(self, config: DatesConfig):
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizeDatesPipeline:
        return cls(DatesConfig.from_settings(crawler.settings))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Freshness: the dates were resolved with the extraction, on the same parse of the page."""
        page: Page = item["_page"]
        max_age = page.hints.get("max_age_seconds")
        if max_age and is_older(item, page.fetched_at - timedelta(seconds=max_age)):
            raise DropArticle("too_old", f"published {item['published_at'] or item['published_date']}")
        since, until = page.hints.get("published_range") or (None, None)  # `news-ingest archive`
        day = item.get("published_date")
        if day and ((since and day < since) or (until and day > until)):
            raise DropArticle("out_of_range", f"published {day}, outside {since or '…'} to {until or '…'}")
        return item


def is_older(record: dict[str, Any], cutoff: datetime) -> bool:
    """Published before ``cutoff``; an unknown date is never too old."""
    if record.get("published_at"):
        return datetime.fromisoformat(record["published_at"].replace("Z", "+00:00")) < cutoff
    if record.get("published_date"):
        return record["published_date"] < cutoff.date().isoformat()
    return False
