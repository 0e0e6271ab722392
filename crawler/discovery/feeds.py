"""Feed entries (RSS 0.9x/1.0/2.0, Atom, JSON Feed) with their links, titles and dates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import feedparser

from crawler.discovery.xml_guard import declares_entities


class FeedError(ValueError):
    """The body is not a feed."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published: str | None  # as the feed states it; parsed by the dates step


@dataclass(frozen=True)
class Feed:
    entries: list[FeedEntry]
    problem: str | None = None  # damage that still left some entries readable


def _json_feed(body: bytes) -> Feed:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"unparseable JSON Feed: {exc}") from exc
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedError("JSON without a jsonfeed.org version")
    entries = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        url = item.get("url") or item.get("external_url")
        if isinstance(url, str) and url.strip():
            published = item.get("date_published") or item.get("date_modified")
            title = item.get("title")
            entries.append(
                FeedEntry(
                    url.strip(),
                    title if isinstance(title, str) else None,
                    published if isinstance(published, str) else None,
                )
            )
    return Feed(entries)


def parse_feed(body: bytes, content_type: str | None = None) -> Feed:
    """Entries of a feed; raises ``FeedError`` for what is not a feed at all.

    ``content_type`` is the HTTP header, whose charset counts when the XML declares none.
    """
    head = body[:2048].lstrip()
    if head.startswith(b"{"):
        return _json_feed(body)
    if declares_entities(body):
        raise FeedError("declares XML entities (refused: possible entity bomb)")
    headers = {"content-type": content_type} if content_type else None
    parsed: Any = feedparser.parse(
        body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )
    entries = []
    for entry in parsed.entries:
        # FeedBurner proxies every link through its own host; the original is kept aside
        link = entry.get("feedburner_origlink") or entry.get("link")
        if not link:
            links = [
                lnk.get("href") for lnk in entry.get("links", []) if lnk.get("rel") in (None, "alternate")
            ]
            link = next((href for href in links if href), None)
        if not link:
            continue
        published = entry.get("published") or entry.get("updated") or entry.get("created")
        entries.append(FeedEntry(link.strip(), entry.get("title"), published))
    if not parsed.get("version") and not entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not a feed{f' ({reason})' if reason else ''}")
    problem = None
    if parsed.get("bozo"):
        problem = f"damaged feed ({parsed.get('bozo_exception')}); kept {len(entries)} readable entries"
    return Feed(entries, problem)
