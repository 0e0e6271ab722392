"""The sources file: which news sites to crawl and how, validated before any request.

```toml
[sources.herald]
start_urls = ["https://herald.example/"]
feeds = ["https://herald.example/feed/"]
sitemaps = ["https://herald.example/robots.txt"]
max_age = "3d"
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import GenericTranslator, SelectorError

from crawler.run.limits import MAX_DURATION_SECONDS, NEWS_RANGES, SCRAPY_RANGES

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A source's name is a folder of the output (source=<name>) and a key of the state: matched
# whole (a '$' would let a trailing newline through)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
# Per-source Scrapy settings we can apply to one source's requests in a shared crawl: their
# types; numbers have the range of crawler/run/limits.py.
SOURCE_SETTINGS: dict[str, tuple[type, ...]] = {
    "DOWNLOAD_DELAY": (int, float),
    "RANDOMIZE_DOWNLOAD_DELAY": (bool,),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (int,),
    "DOWNLOAD_TIMEOUT": (int, float),
    "DOWNLOAD_MAXSIZE": (int,),
    "USER_AGENT": (str,),
}


class SourcesError(ValueError):
    """The sources file is missing or invalid; the message names the source and the key."""


def parse_duration(value: str) -> timedelta:
    """``"3d"``, ``"12h"``, ``"30m"``, ``"1w"`` or ``"90s"`` as a timedelta, above zero and at most
    ten years."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a duration such as '3d', '12h', '30m', '1w'")
    seconds = float(match.group(1)) * timedelta(**{_UNITS[match.group(2).lower()]: 1}).total_seconds()
    if not 0 < seconds <= MAX_DURATION_SECONDS:
        raise ValueError(
            f"{value.strip()[:40]!r} is out of range: a duration above 0 and at most "
            f"{MAX_DURATION_SECONDS / 86_400:g} days"
        )
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Source:
    """One news site: where to discover its articles and how to treat them."""

    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    max_depth: int = 2
    max_pages: int = 1000
    max_age: timedelta | None = None
    language: str | None = None
    timezone: str | None = None
    date_order: str | None = None
    strip: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def allows_domain(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == domain or host.endswith("." + domain) for domain in self.allowed_domains)

    def is_denied(self, url: str) -> bool:
        return any(pattern.search(url) for pattern in self.deny)

    def is_allowed_article(self, url: str) -> bool | None:
        """True or False when ``allow`` decides; ``None`` when the source has no ``allow``."""
        if not self.allow:
            return None
        return any(pattern.search(url) for pattern in self.allow)

    def hints(self) -> dict[str, Any]:
        """What the extract and dates steps need to know about this source."""
        hints: dict[str, Any] = {}
        for key in ("language", "timezone", "date_order"):
            if getattr(self, key):
                hints[key] = getattr(self, key)
        if self.strip:
            hints["strip"] = list(self.strip)
        if self.max_age is not None:
            hints["max_age_seconds"] = self.max_age.total_seconds()
        return hints


_KEYS = {
    "start_urls", "feeds", "sitemaps", "allowed_domains", "allow", "deny", "max_depth", "max_pages",
    "max_age", "language", "timezone", "date_order", "strip", "settings",
}  # fmt: skip


class _Checker:
    def __init__(self, path: Path, name: str, table: dict[str, Any]):
        self.where = f"{path}: [sources.{name}]"
        self.table = table

    def fail(self, key: str, problem: str) -> SourcesError:
        return SourcesError(f"{self.where} key {key!r}: {problem}")

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(key, "expected a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def urls(self, key: str) -> tuple[str, ...]:
        urls = self.strings(key)
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
                raise self.fail(key, f"{url!r} is not an absolute http(s) URL")
        return urls

    def regexes(self, key: str) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for pattern in self.strings(key):
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise self.fail(key, f"bad regular expression {pattern!r}: {exc}") from exc
        return tuple(compiled)

    def integer(self, key: str, default: int, setting: str) -> int:
        """An integer in the range of the setting that gives its default."""
        value = self.table.get(key, default)
        limits = NEWS_RANGES[setting]
        if isinstance(value, bool) or not isinstance(value, int) or limits.check(value):
            raise self.fail(key, f"expected {limits.describe()}, got {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(key, "expected a non-empty string")
        return value.strip() if value else None


def _source(path: Path, name: str, table: Any, defaults: dict[str, Any]) -> Source:
    if not _NAME.fullmatch(name):
        raise SourcesError(
            f"{path}: [sources.{name[:100]!r}]: a source name is 1 to 100 letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    if not isinstance(table, dict):
        raise SourcesError(f"{path}: [sources.{name}] must be a table")
    check = _Checker(path, name, table)
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        close = get_close_matches(unknown[0], sorted(_KEYS), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(sorted(_KEYS))}"
        raise check.fail(unknown[0], f"unknown key; {hint}")
    start_urls, feeds, sitemaps = check.urls("start_urls"), check.urls("feeds"), check.urls("sitemaps")
    if not (start_urls or feeds or sitemaps):
        raise check.fail("start_urls", "a source needs at least one of start_urls, feeds, sitemaps")
    domains = tuple(domain.lower().lstrip(".") for domain in check.strings("allowed_domains"))
    for domain in domains:
        if not re.match(r"^[a-z0-9.-]+$", domain):
            raise check.fail("allowed_domains", f"{domain!r} is not a domain name (no scheme, port or path)")
    if not domains:
        hosts = {urlsplit(url).hostname or "" for url in (*start_urls, *feeds, *sitemaps)}
        domains = tuple(sorted({host[4:] if host.startswith("www.") else host for host in hosts}))
    max_age = None
    if "max_age" in table:
        try:
            max_age = parse_duration(table["max_age"])
        except ValueError as exc:
            raise check.fail("max_age", str(exc)) from exc
    timezone = check.optional_string("timezone")
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise check.fail("timezone", f"unknown IANA time zone {timezone!r}") from exc
    date_order = check.optional_string("date_order")
    if date_order and date_order.upper() not in ("DMY", "MDY", "YMD"):
        raise check.fail("date_order", f"{date_order!r}: expected DMY, MDY or YMD")
    language = check.optional_string("language")
    if language and not re.match(r"^[a-z]{2}(?:-[A-Za-z]{2})?$", language):
        raise check.fail("language", f"{language!r}: expected an ISO 639-1 code such as 'de' or 'en-GB'")
    strip = check.strings("strip")
    for selector in strip:
        try:
            GenericTranslator().css_to_xpath(selector)
        except SelectorError as exc:
            raise check.fail("strip", f"bad CSS selector {selector!r}: {exc}") from exc
    settings = table.get("settings", {})
    if not isinstance(settings, dict):
        raise check.fail("settings", "expected a table of Scrapy settings")
    for key, value in settings.items():
        if key not in SOURCE_SETTINGS:
            raise check.fail(
                "settings", f"{key!r} cannot be set per source; use one of {', '.join(SOURCE_SETTINGS)}"
            )
        types = SOURCE_SETTINGS[key]
        # a bool is an int to isinstance: it counts only where a bool is meant
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join(t.__name__ for t in types)
            raise check.fail("settings", f"{key}={value!r} has the wrong type (expected {expected})")
        problem = SCRAPY_RANGES[key].check(value) if key in SCRAPY_RANGES else None
        if problem:
            raise check.fail("settings", f"{key}={value!r}: {problem}")
    return Source(
        name=name,
        start_urls=start_urls,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=domains,
        allow=check.regexes("allow"),
        deny=check.regexes("deny"),
        max_depth=check.integer("max_depth", defaults["max_depth"], "NEWS_DISCOVERY_MAX_DEPTH"),
        max_pages=check.integer("max_pages", defaults["max_pages"], "NEWS_DISCOVERY_MAX_PAGES"),
        max_age=max_age,
        language=language,
        timezone=timezone,
        date_order=date_order.upper() if date_order else None,
        strip=strip,
        settings=dict(settings),
    )


def load_sources(path: str | Path, max_depth: int = 2, max_pages: int = 1000) -> dict[str, Source]:
    """Every source of the file, validated; raises ``SourcesError`` naming the source and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourcesError(
            f"sources file {path} not found (set NEWS_SOURCES; see sources.example.toml)"
        ) from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourcesError(f"{path}: {exc}") from exc
    except RecursionError as exc:  # thousands of nested '[' or '{': the parser recurses per level
        raise SourcesError(f"{path}: arrays or tables nested too deeply to be a sources file") from exc
    unknown = sorted(set(data) - {"sources"})
    if unknown:
        raise SourcesError(f"{path}: unknown top-level key {unknown[0]!r}; sources go under [sources.NAME]")
    tables = data.get("sources", {})
    if not isinstance(tables, dict) or not tables:
        raise SourcesError(f"{path}: no [sources.NAME] table")
    defaults = {"max_depth": max_depth, "max_pages": max_pages}
    return {name: _source(path, name, table, defaults) for name, table in tables.items()}
