"""Date strings to instants: an ISO 8601 fast path, dateparser for the rest.

Used by the spider (feed and sitemap dates, for the freshness filter) and by the dates
step (``pipelines/dates.py``) for the dates a page states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache

from dateparser.search import search_dates
from dateparser.timezone_parser import pop_tz_offset_from_string

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)
_RFC822 = re.compile(
    r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|[A-Z]{1,3})\s*$"
)
_TIME_OF_DAY = re.compile(
    r"(?<![\d.])\d{1,2}\s*(?::|h|ч)\s*\d{2}(?![\d.])|\b\d{1,2}\s*[ap]\.?m\b", re.IGNORECASE
)
_FULL_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)|(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{2}(?!\d)")
# Regions whose English dates are day-first; US and Canada are month-first.
_DMY_ENGLISH_REGIONS = {"GB", "UK", "IE", "AU", "NZ", "IN", "ZA", "SG", "HK", "NG", "KE", "PK", "MY"}
_MDY_LANGUAGES = {"en"}
# Reading times and counters ("5 min read", "12 comments") that dateparser would take
# for "N minutes ago": removed from a byline before it is parsed.
_COUNTER_WORDS = (
    r"(?:read|reading|lesezeit|lesedauer|lecture|lectura|leitura|чтени\w*|comments?|kommentare?|"
    r"commentaires?|comentarios?|комментари\w*|views?|shares?|likes?)"
)
_COUNTER_SEGMENT = re.compile(r"^.*\b" + _COUNTER_WORDS + r"\b.*$", re.IGNORECASE)
_COUNTER = re.compile(r"\d+\s*(?:[^\W\d]+\.?\s*){0,2}?" + _COUNTER_WORDS + r"\b", re.IGNORECASE)
# What makes a duration a date: "ago" and its translations, today, yesterday, just now.
_RELATIVE_WORDS = re.compile(
    r"\b(?:ago|today|yesterday|just now|vor|heute|gestern|il y a|aujourd'hui|hier|hace|hoy|ayer|"
    r"fa|oggi|ieri|geleden|vandaag|gisteren|temu|dzisiaj|wczoraj|atrás|há|hoje|ontem|sedan|siden|i dag|i går|"
    r"önce|bugün|dün|před|dnes|včera|lalu|acum|azi|ieri|sitten|tänään|eilen|trước|hôm nay|ezelőtt|órája|"
    r"napja|perce|tegnap|ma)\b"
    r"|назад|тому|сьогодні|вчора|сегодня|вчера|πριν|σήμερα|χθες|منذ|اليوم|أمس|पहले|आज|前|전|前日|昨日|今日",
    re.IGNORECASE,
)
_SEGMENTS = re.compile(r"\s*[·•|]\s*|\s+[-–—]\s+")


# AP style, the house style of US newsrooms: "Dec. 22, 2016, 6:47 p.m.". dateparser reads
# neither the dotted month ("Dec." stops its search at "Dec") nor the dotted "p.m." (a time
# read in the morning): both are written the way it reads them.
_DOTTED_MONTH = re.compile(r"\b(jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.(?=\s*\d)", re.IGNORECASE)
_DOTTED_MERIDIEM = re.compile(r"\b([ap])\.\s?m\.", re.IGNORECASE)


def _undotted(value: str) -> str:
    return _DOTTED_MERIDIEM.sub(r"\1m", _DOTTED_MONTH.sub(r"\1", value))


def _without_counters(value: str) -> str:
    segments = [segment for segment in _SEGMENTS.split(value) if not _COUNTER_SEGMENT.match(segment)]
    return _COUNTER.sub(" ", " · ".join(segments)).strip()


# The longest date string worth reading: a byline with a date ("By Jane Doe and John Smith,
# Senior Correspondents | Updated Tuesday, 5 September 2023, 07:15 AM EDT") is under 160
# characters. dateparser's time grows with the length of what it reads (10 KB: seconds), so
# anything longer is cut to the head, where a date value or a byline's date starts.
MAX_DATE_CHARS = 160
_DATE_SIGNAL = re.compile(r"\d|" + _RELATIVE_WORDS.pattern, re.IGNORECASE)

_SHIFT = timedelta(days=3, minutes=7)
_REFERENCES = (datetime(2004, 2, 11, 5, 17, 23), datetime(2017, 10, 26, 19, 41, 5))


@dataclass(frozen=True)
class ParsedDate:
    """A parsed date; ``moment`` is aware when the offset is known."""

    moment: datetime
    has_time: bool
    has_offset: bool
    relative: bool = False  # "3 hours ago": read against the fetch time

    @property
    def local_date(self) -> date:
        return self.moment.date()


def date_order_for(locale: str | None, default: str = "") -> str | None:
    """Day/month order for numeric dates from a locale such as ``en-GB``."""
    if default:
        return default
    if not locale:
        return None
    lang, _, region = locale.partition("-")
    if lang == "en":
        return "DMY" if region.upper() in _DMY_ENGLISH_REGIONS else "MDY"
    return "DMY" if lang not in _MDY_LANGUAGES else "MDY"


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text.upper() == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_iso(value: str) -> ParsedDate | None:
    """The fast path: ISO 8601 / RFC 3339 without calling dateparser."""
    match = _ISO.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=_offset(offset),
        )
    except ValueError:
        return None
    return ParsedDate(moment, has_time=hour is not None, has_offset=offset is not None and hour is not None)


@lru_cache(maxsize=4096)
def _search(
    value: str, language: str | None, order: str | None, base: datetime
) -> tuple[str, datetime] | None:
    settings: dict[str, object] = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if order:
        settings["DATE_ORDER"] = order
    languages = [language] if language else None
    try:
        found = search_dates(value, languages=languages, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    if not found:
        return None
    return found[0]


def _absolute(value: str, language: str | None, order: str | None) -> tuple[str, datetime] | None:
    """The reading of a date that takes nothing from the reference instant, or None.

    Read against two fixed, distant references: a date that comes out the same
    against both ("4. September 2023, 14:32 Uhr") is absolute, and its reading is
    cached across pages, since it no longer depends on when a page was fetched.
    """
    if not _YEAR.search(value):
        return None  # what dateparser finds is a part of ``value``: it would hold no year either
    first = _search(value, language, order, _REFERENCES[0])
    if first is None or not _YEAR.search(first[0]):
        return None
    if _FULL_YEAR.search(first[0]) and _shares_no_part(first[1], _REFERENCES[0]):
        return first
    return first if _search(value, language, order, _REFERENCES[1]) == first else None


def _shares_no_part(moment: datetime, reference: datetime) -> bool:
    """Whether ``moment`` holds no part of ``reference``: not its year, month, day, hour,
    minute or second. What dateparser takes from the reference it copies (a missing year or
    day) or moves by whole units ("3 days ago" keeps the time of day, "2 hours ago" the
    minutes and seconds): a reading that shares none took nothing from it, and the second
    reading, against the other reference, would only say so again. Only for a reading of a
    four-digit year: dateparser puts a two-digit one ("01/07/16") in the century the
    reference makes likely, 1916 against 2004 and 2016 against 2017."""
    return (
        moment.year != reference.year
        and moment.month != reference.month
        and moment.day != reference.day
        and moment.hour != reference.hour
        and moment.minute != reference.minute
        and moment.second != reference.second
    )


def parse_text(
    value: str, language: str | None, order: str | None, fetched_at: datetime
) -> ParsedDate | None:
    """A date in free text ("Veröffentlicht am 04.09.2023, 14:32 Uhr", "3 hours ago")."""
    value = _undotted(_without_counters(value))
    if not value:
        return None
    parsed = _parse_text_in(value, language, order, fetched_at)
    if parsed is None and language not in (None, "en") and _YEAR.search(value):
        # English dates on pages in other languages are common ("Updated: September 4, 2023").
        # Not every language at once: that costs 3 s and 40 MB to load, and 80 ms a string.
        parsed = _parse_text_in(value, "en", order, fetched_at)
    return parsed


def _parse_text_in(
    value: str, language: str | None, order: str | None, fetched_at: datetime
) -> ParsedDate | None:
    found = _absolute(value, language, order)
    if found is None:
        base = fetched_at.astimezone(timezone.utc).replace(tzinfo=None)
        first = _search(value, language, order, base)
        if first is None:
            return None
        matched, moment = first
        # A relative date moves with its base, by exactly as much; an absolute one does not.
        shifted = _search(value, language, order, base - _SHIFT)
        if shifted is not None and moment - shifted[1] == _SHIFT:
            if not _RELATIVE_WORDS.search(value):
                # "8 minutes" (a reading time), "3 days" (a duration): dateparser reads them as
                # "ago", the page does not say so
                return None
            delta = base - moment
            time_known = delta.seconds != 0 or delta.microseconds != 0
            return ParsedDate(
                moment.replace(tzinfo=timezone.utc), has_time=time_known, has_offset=time_known, relative=True
            )
        if shifted is None or shifted[1] != moment or not _YEAR.search(matched):
            # Part of the date came from the base: "4 September" (no year), "September 2023"
            # (no day). Filling it in would invent a date.
            return None
        found = first
    matched, moment = found
    has_time = bool(_TIME_OF_DAY.search(matched))
    _, zone = pop_tz_offset_from_string(matched)
    if zone is not None and has_time:
        offset = zone.utcoffset(moment)
        if offset is not None:
            return ParsedDate(moment.replace(tzinfo=timezone(offset)), has_time=True, has_offset=True)
    return ParsedDate(moment, has_time=has_time, has_offset=False)


def parse_rfc822(value: str) -> ParsedDate | None:
    """The other fast path: RFC 822 dates of RSS feeds and HTTP headers."""
    if not _RFC822.match(value):
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": the offset is unknown
        return ParsedDate(moment, has_time=True, has_offset=False)
    return ParsedDate(moment, has_time=True, has_offset=True)


def needs_text_parse(value: str) -> bool:
    """Whether ``parse_date`` hands ``value`` to dateparser (the costly step): not an ISO 8601
    or RFC 822 form, and with a digit, "ago" or "today" in it (else there is no date to find)."""
    value = value[:MAX_DATE_CHARS]
    return (
        parse_iso(value) is None
        and parse_rfc822(value) is None
        and not _ISO.match(value)
        and bool(_DATE_SIGNAL.search(value))
    )


def parse_date(
    value: str,
    language: str | None,
    order: str | None,
    fetched_at: datetime,
    zone: tzinfo | None = None,
    *,
    fast_only: bool = False,
) -> ParsedDate | None:
    """Any date string; a naive time is placed in ``zone`` when one is known.

    ``fast_only``: the ISO 8601 and RFC 822 forms only, no dateparser (a page's time for dates is spent).
    """
    value = value[:MAX_DATE_CHARS]
    parsed = parse_iso(value) or parse_rfc822(value)
    if parsed is None and _ISO.match(value):
        return None  # ISO 8601 in form, impossible in value (month 13, "+99:99"): no guessing at it
    if parsed is None and not fast_only and _DATE_SIGNAL.search(value):
        parsed = parse_text(value, language, order, fetched_at)
    if parsed is None:
        return None
    if parsed.has_time and not parsed.has_offset and zone is not None:
        parsed = ParsedDate(
            parsed.moment.replace(tzinfo=zone), has_time=True, has_offset=True, relative=parsed.relative
        )
    return parsed
