"""Where a page states its dates: candidates for the published and modified dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import XPath

from crawler.page import Page, article_json_ld

# Most reliable first; the rank orders candidates from different places. Feed and
# sitemap dates come from outside the page: they count when the page itself has none.
SOURCE_RANK = {
    "json-ld": 1,
    "meta": 2,
    "time": 3,
    "text": 4,
    "url": 5,
    "feed": 6,
    "sitemap": 7,
    "fallback": 8,
}

PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "article.published",
    "date",
    "cxenseparse:recs:publishtime",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
    "article.updated",
)

# Predicates cheapest first: most elements have no class or id at all.
_DATE_CLASS = (
    "//*[@class or @id]"
    "[not(self::script or self::style or self::meta or self::html or self::body or self::article)]"
    "[re:test(concat(@class, ' ', @id), "
    "'(^|[-_ ])(date|dateline|datum|fecha|data|dates?|time|posted|published|publish|publication|pubdate|"
    "byline|meta|timestamp|post-meta|entry-meta|article-meta|article-date|news-date|"
    "date-publication|updated|modified)([-_ ]|$)', 'i')]"
    "[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::a or "
    "ancestor::*[re:test(concat(@class, ' ', @id), 'related|teaser|recommend|more-stories|promo|widget|comment', 'i')])]"
)
_RE_NS = {"re": "http://exslt.org/regular-expressions"}
_MODIFIED_WORDS = re.compile(
    r"updated|modified|aktualisiert|geändert|mis à jour|modifié|actualizado|actualización|"
    r"обновлено|изменено|aggiornato",
    re.IGNORECASE,
)
# /2023/09/04/slug, /2023-09-04-slug, /20230904/; not /2023/08/10-things-to-know/.
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)"
    r"|/((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:/|-|\.|_|$)"
    r"|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:/|$)"
)
# Dates inside these blocks belong to other stories.
_OTHER_STORIES = (
    "ancestor::*[self::nav or self::footer or self::aside or self::a or "
    "re:test(concat(@class, ' ', @id), 'related|teaser|recommend|more-stories|promo|sidebar|widget|comment', 'i')]"
)

_ITEMPROP_DATES = XPath("//*[@itemprop='datePublished' or @itemprop='dateModified'][not(self::meta)]")
_TIMES = XPath(f"//time[not({_OTHER_STORIES})]", namespaces=_RE_NS)
_DATED_ELEMENTS = XPath(_DATE_CLASS, namespaces=_RE_NS)
_PROSE = XPath(f"//p[string-length(normalize-space(.)) >= 120][not({_OTHER_STORIES})]", namespaces=_RE_NS)
_MAIN_H1 = XPath(f"(//h1[not({_OTHER_STORIES})])[1]", namespaces=_RE_NS)


@dataclass(frozen=True)
class Candidate:
    kind: str  # "published" or "modified"
    value: str
    source: str
    # in the article's header or byline: the only place where "2 hours ago" is the article's date
    # and not that of a story in a "latest news" box
    near_headline: bool = True

    @property
    def rank(self) -> int:
        return SOURCE_RANK.get(self.source, 9)


def _ld_value(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def find_candidates(page: Page) -> list[Candidate]:
    """All date statements of the page, in order of reliability."""
    found: list[Candidate] = []
    hint = page.hints.get("published")
    if isinstance(hint, dict) and hint.get("value"):
        found.append(Candidate("published", str(hint["value"]), str(hint.get("source", "feed"))))
    for obj in article_json_ld(page):
        for key, kind in (
            ("datePublished", "published"),
            ("dateCreated", "published"),
            ("dateModified", "modified"),
        ):
            value = _ld_value(obj.get(key))
            if value:
                found.append(Candidate(kind, value, "json-ld"))
    found += [Candidate("published", value, "meta") for value in page.meta(*PUBLISHED_META)]
    found += [Candidate("modified", value, "meta") for value in page.meta(*MODIFIED_META)]
    tree = page.tree
    if tree is not None:
        for element in _ITEMPROP_DATES(tree):
            value = element.get("content") or element.get("datetime") or element.text_content()
            kind = "modified" if element.get("itemprop") == "dateModified" else "published"
            if value and value.strip():
                found.append(Candidate(kind, value.strip(), "meta"))
        for element in _TIMES(tree):
            value = (element.get("datetime") or "").strip()
            if not value:
                continue
            # Not the class: WordPress themes mark the published date "updated" (hentry).
            label = " ".join(filter(None, [element.get("itemprop"), _context(element)]))
            modified = _MODIFIED_WORDS.search(label) or "modified" in (element.get("class") or "")
            kind = "modified" if modified else "published"
            found.append(Candidate(kind, value, "time"))
        seen_text: set[str] = set()
        near = _near_headline(tree)
        for element in _DATED_ELEMENTS(tree):
            text = " ".join(element.text_content().split())
            if not text or len(text) > 160 or text in seen_text:
                continue
            seen_text.add(text)
            if not re.search(r"\d", text):
                continue
            kind = "modified" if _MODIFIED_WORDS.search(text) else "published"
            found.append(Candidate(kind, text, "text", near_headline=near(element)))
    match = _URL_DATE.search(urlsplit(page.url).path)
    if match:
        year, month, day = (group for group in match.groups() if group)
        found.append(Candidate("published", f"{year}-{int(month):02d}-{int(day):02d}", "url"))
    return sorted(found, key=lambda candidate: candidate.rank)


# How far after the headline, in elements of the document, its header and byline may run;
# and how far before it (a dateline above the headline).
_HEADER_AFTER = 400
_HEADER_BEFORE = 30


def _near_headline(tree: object, *, to_body: bool = True) -> Callable[[object], bool]:
    """A test of whether an element sits in the article's header: from just above its main
    headline to where its text begins (``to_body``), or to a fixed distance after it."""
    headline = _MAIN_H1(tree)
    if not headline:
        return lambda element: True  # no headline to measure from: nothing to tell
    positions: dict[object, int] = {}

    bounds: list[int] = []

    def near(element: object) -> bool:
        if not positions:
            positions.update((node, index) for index, node in enumerate(tree.iter()))  # type: ignore[attr-defined]
            start = positions[headline[0]]
            # the header ends where the article's text begins: its first paragraph of prose
            body = [positions[p] for p in _PROSE(tree) if positions.get(p, -1) > start] if to_body else []
            bounds[:] = [start - _HEADER_BEFORE, min([start + _HEADER_AFTER, *body[:1]])]
        return bounds[0] <= positions.get(element, -(10**9)) <= bounds[1]

    return near


# An absolute date in a line of text: a month's name next to a year, or a numeric date.
_MONTH_WORDS = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni|juli|oktober|dezember|"
    r"janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|"
    r"abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|"
    r"giugno|luglio|settembre|ottobre|dicembre|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|"
    r"октября|ноября|декабря"
)
_TEXT_DATE = re.compile(
    rf"(?:\b(?:{_MONTH_WORDS})\w*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?(?:{_MONTH_WORDS})\w*\.?\s+(?:de\s+)?(?:19|20)\d{{2}}"
    r"|\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"
    r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日)",
    re.IGNORECASE,
)
_NOT_THE_ARTICLES = re.compile(r"©|copyright|\(c\)|all rights reserved", re.IGNORECASE)
_HEADER_LINES = XPath(
    "//*[self::p or self::div or self::span or self::li or self::small or self::em or self::strong or self::header]"
    f"[not(*[self::p or self::div or self::li])][not({_OTHER_STORIES})]"
    "[string-length(normalize-space(.)) > 7][string-length(normalize-space(.)) < 160]",
    namespaces=_RE_NS,
)
_MAX_HEADER_DATES = 3


def header_candidates(page: Page) -> list[Candidate]:
    """Dates printed near the headline in lines that carry no date markup ("Filed on 14
    February 2022 by the newsroom"): for pages whose markup states no date at all. Only
    absolute dates, only in the article's header, never a copyright line."""
    tree = page.tree
    if tree is None:
        return []
    near = _near_headline(tree, to_body=False)
    if not _MAIN_H1(tree):
        return []
    found: list[Candidate] = []
    for element in _HEADER_LINES(tree):
        text = " ".join(element.text_content().split())
        match = _TEXT_DATE.search(text)
        if match is None or _NOT_THE_ARTICLES.search(text) or not near(element):
            continue
        kind = "modified" if _MODIFIED_WORDS.search(text[: match.start()]) else "published"
        if kind == "published":
            found.append(Candidate("published", match.group(0), "text"))
        if len(found) >= _MAX_HEADER_DATES:
            break
    return found


def fallback_candidate(page: Page, value: str | None) -> Candidate | None:
    """htmldate's date for a page with no other: the last resort."""
    if not value:
        return None
    if value.endswith("-01-01") and value[:4] not in urlsplit(page.url).path:
        # htmldate's stand-in for a bare year: "© 2021" in a footer, not a publication day
        return None
    if _URL_DATE.search(urlsplit(page.url).path) is None and _loose_url_date(page.url, value):
        # htmldate also reads dates out of URLs, more loosely than _URL_DATE does
        # ("/2023/08/10-things-to-know/"): such a date is not taken from it either.
        return None
    return Candidate("published", value, "fallback")


def _loose_url_date(url: str, value: str) -> bool:
    digits = re.findall(r"\d+", urlsplit(url).path)
    parts = value.split("-")
    return (
        len(parts) == 3 and parts[0] in digits and any(d.lstrip("0") == parts[1].lstrip("0") for d in digits)
    )


def _context(element: object) -> str:
    parent = element.getparent()  # type: ignore[attr-defined]
    if parent is None:
        return ""
    return " ".join(parent.text_content().split())[:80]
