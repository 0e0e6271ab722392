"""Where a page states its dates: candidates for the published and modified dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml.etree import XPath

from crawler.pages.naming import NamedElements
from crawler.pages.page import Page, article_json_ld
from pipelines.extraction.bylines import main_headline
from pipelines.extraction.placement import LowercaseWords, elements_named, in_document_order, in_other_box

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

# Labels that open a published date in a line that states both ("Published 3 May 2023.
# Updated 5 May 2023", "Updated 5 May 2023, originally published 3 May 2023").
_PUBLISHED_WORDS = re.compile(
    r"published|posted|written|veröffentlicht|erschienen|publié|publicado|publicada|pubblicato|"
    r"опубликовано",
    re.IGNORECASE,
)
# A class or id word that marks a date, a byline or the article's meta line.
_DATE_WORDS = LowercaseWords(
    r"(?:^|[-_ ])(?:date|dateline|datum|fecha|data|dates?|time|posted|published|publish|publication|pubdate|"
    r"byline|meta|timestamp|post-meta|entry-meta|article-meta|article-date|news-date|"
    r"date-publication|updated|modified)(?:[-_ ]|$)"
)
_NOT_DATED = frozenset({"script", "style", "meta", "html", "body", "article"})
# Dates inside these blocks belong to other stories; links too (a teaser's date).
_BOX_TAGS = frozenset({"nav", "footer", "aside", "a"})
_MODIFIED_WORDS = re.compile(
    r"updated|modified|aktualisiert|geändert|mis à jour|modifié|actualizado|actualización|"
    r"обновлено|изменено|aggiornato",
    re.IGNORECASE,
)
_LABELS = re.compile(f"{_MODIFIED_WORDS.pattern}|{_PUBLISHED_WORDS.pattern}", re.IGNORECASE)
# /2023/09/04/slug, /2023-09-04-slug, /20230904/; not /2023/08/10-things-to-know/.
_URL_DATE = re.compile(
    r"/((?:19|20)\d{2})/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)"
    r"|/((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:/|-|\.|_|$)"
    r"|/((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:/|$)"
)
_CARD_DATES = 4
# from the attribute values: a test of every element's itemprop costs ten times as much
_TIMES = XPath("//time[@datetime]")
_ITEMPROP_DATES = XPath("//@itemprop[. = 'datePublished' or . = 'dateModified']/parent::*[not(self::meta)]")


def _dated_elements(named: NamedElements) -> list[Any]:
    """Elements whose class or id marks a date, outside the boxes of other stories."""
    return [
        element
        for element in elements_named(named, _DATE_WORDS)
        if element.tag not in _NOT_DATED and not in_other_box(element, tags=_BOX_TAGS)
    ]


_LONG_PARAGRAPHS = XPath("//p[string-length(normalize-space(.)) >= 120]")


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


def labelled_parts(text: str) -> list[tuple[str, str]]:
    """A line of dates cut where each label starts, each part with the kind its label says.

    "Published 3 May 2023. Updated 5 May 2023" read whole is one modified date (the first one
    dateparser finds: 3 May); cut, it is a published and a modified date. A line with no
    "updated" word is one published date, as before; a part without a digit holds no date,
    and an unlabelled opening part counts only with an absolute date in it.
    """
    if not _MODIFIED_WORDS.search(text):
        return [("published", text)]
    labels = _LABELS.finditer(text)
    starts = sorted({0, *(label.start() for label in labels)})
    parts = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        part = text[start:end].strip(" ,.;|·•-–—/()")
        if not re.search(r"\d", part):
            continue
        kind = "modified" if _MODIFIED_WORDS.match(part) else "published"
        if start == 0 and kind == "published" and not _TEXT_DATE.search(part):
            continue  # what comes before the labels with no date of its own: "5 min read"
        parts.append((kind, part))
    return parts


def _ld_value(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def find_candidates(page: Page) -> list[Candidate]:
    """All date statements of the page, in order of reliability."""
    return sorted([*markup_candidates(page), *text_candidates(page)], key=lambda candidate: candidate.rank)


def markup_candidates(page: Page) -> list[Candidate]:
    """The dates the page's markup, its feed entry and its URL state, in order of reliability."""
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
            if not value or in_other_box(element, tags=_BOX_TAGS):  # another story's date
                continue
            # Not the class: WordPress themes mark the published date "updated" (hentry).
            label = " ".join(filter(None, [element.get("itemprop"), _context(element)]))
            modified = _MODIFIED_WORDS.search(label) or "modified" in (element.get("class") or "")
            kind = "modified" if modified else "published"
            found.append(Candidate(kind, value, "time"))
    match = _URL_DATE.search(urlsplit(page.url).path)
    if match:
        year, month, day = (group for group in match.groups() if group)
        found.append(Candidate("published", f"{year}-{int(month):02d}-{int(day):02d}", "url"))
    return sorted(found, key=lambda candidate: candidate.rank)


def text_candidates(page: Page) -> list[Candidate]:
    """The dates in the page's elements named for a date ("posted-on", "dateline"): the costliest
    search, for the pages whose markup leaves a date open."""
    if page.tree is None:
        return []
    found: list[Candidate] = []
    seen_text: set[str] = set()
    named = page.named
    assert named is not None  # a page with a tree has its names
    dated = _dated_elements(named)
    near = _near_headline(page.tree, dated)
    texts: list[tuple[Any, str]] = []
    for element in dated:
        text = " ".join(element.text_content().split())
        if not text or len(text) > 160 or text in seen_text:
            continue
        seen_text.add(text)
        if re.search(r"\d", text):
            texts.append((element, text))
    # as many different dates as a list of cards has: only the header's is the article's
    cards = len(texts) >= _CARD_DATES
    for element, text in texts:
        is_near = near(element)
        if cards and not is_near:
            continue
        for kind, part in labelled_parts(text):
            found.append(Candidate(kind, part, "text", near_headline=is_near))
    return found


# How many paragraphs of the article's text the header's dates may run into: one for a
# relative date (a standfirst may come before the byline), a few for a date printed in a line.
_BYLINE_PARAGRAPHS = 1
_HEADER_PARAGRAPHS = 8


def _near_headline(
    tree: Any, elements: list[Any], *, paragraphs: int = _BYLINE_PARAGRAPHS
) -> Callable[[Any], bool]:
    """A test of whether one of ``elements`` sits in the article's header: in the block that
    holds the main headline, just above it (a dateline), or after it until ``paragraphs``
    paragraphs of the article's text have gone by."""
    headline = main_headline(tree)
    if headline is None:
        return lambda element: True  # no headline to measure from: nothing to tell
    window: set[Any] = set()

    def near(element: Any) -> bool:
        if not window:
            window.add(headline)
            block = headline.getparent()
            outer = block.getparent() if block is not None else None
            # one level up, to a dateline just above the headline's own box; never to the page's
            # <body>, whose masthead prints today's date
            if outer is not None and outer.tag not in ("body", "html"):
                block = outer
            above = set(block.iter()) if block is not None else set()
            # the first paragraphs are enough to know where the header ends; libxml2's union
            # of node sets grows with the square of their size
            prose = [p for p in _LONG_PARAGRAPHS(tree)[:50] if not in_other_box(p, tags=_BOX_TAGS)]
            prose_set = set(prose)
            started, seen = False, 0
            for node in in_document_order(tree, [headline], prose, elements):
                if node is headline:
                    started = True
                elif not started:
                    if node in above:
                        window.add(node)
                elif node in prose_set:
                    seen += 1
                    if seen > paragraphs:
                        break
                else:
                    window.add(node)
        return element in window

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
# every form of _TEXT_DATE has a year: a line without one is ruled out before its slow search
_YEAR = re.compile(r"(?:19|20)\d\d")


def _has_text_date(text: str) -> bool:
    return _YEAR.search(text) is not None and _TEXT_DATE.search(text) is not None


_NOT_THE_ARTICLES = re.compile(r"©|copyright|\(c\)|all rights reserved", re.IGNORECASE)
_HEADER_LINES = XPath(
    "//*[self::p or self::div or self::span or self::li or self::small or self::em or self::strong or self::header]"
    "[not(*[self::p or self::div or self::li])]"
    "[string-length(normalize-space(.)) > 7][string-length(normalize-space(.)) < 160]"
)
_MAX_HEADER_DATES = 3
_MAX_HEADER_LINES = 300


def header_candidates(page: Page) -> list[Candidate]:
    """Dates printed near the headline in lines that carry no date markup ("Filed on 14
    February 2022 by the newsroom"): for pages whose markup states no date at all. Only
    absolute dates, only in the article's header, never a copyright line."""
    tree = page.tree
    if tree is None:
        return []
    if main_headline(tree) is None:
        return []
    lines = [
        line
        for line in _HEADER_LINES(tree)[:_MAX_HEADER_LINES]
        if _has_text_date(line.text_content()) and not in_other_box(line, tags=_BOX_TAGS)
    ]
    near = _near_headline(tree, lines, paragraphs=_HEADER_PARAGRAPHS)
    found: list[Candidate] = []
    for element in lines:
        text = " ".join(element.text_content().split())
        if _NOT_THE_ARTICLES.search(text) or not near(element):
            continue
        # "Updated" may stand in the element before the date's ("<span>Updated</span>
        # <span>5 May 2023</span>"): it labels a line that opens with the date
        label = _label_before(element)
        for match in _TEXT_DATE.finditer(text):
            before = text[: match.start()]
            if not before.strip():
                before = label
            labels = list(_LABELS.finditer(before))
            if labels and _MODIFIED_WORDS.match(labels[-1].group(0)):
                continue  # the nearest label before the date says "updated"
            found.append(Candidate("published", match.group(0), "text"))
            break
        if len(found) >= _MAX_HEADER_DATES:
            break
    return found


def _label_before(element: Any) -> str:
    """The words just before ``element``: its previous sibling's, or its parent's opening text."""
    previous, between = element.getprevious(), ""
    while previous is not None and not isinstance(previous.tag, str):
        between = f"{previous.tail or ''} {between}"  # a comment's text is no label; what follows it is
        previous = previous.getprevious()
    if previous is not None:
        text = f"{previous.text_content()} {previous.tail or ''} {between}"
    else:
        parent = element.getparent()
        text = f"{(parent.text or '') if parent is not None else ''} {between}"
    text = " ".join(text.split())[-40:]
    return "" if re.search(r"\d", text) else text


def fallback_candidate(page: Page, value: str | None) -> Candidate | None:
    """htmldate's date for a page with no other: the last resort."""
    if not value:
        return None
    if value.endswith("-01-01") and value[:4] not in urlsplit(page.url).path:
        # htmldate's stand-in for a bare year: "© 2021" in a footer, not a publication day
        return None
    if _URL_DATE.search(urlsplit(page.url).path) is None and _loose_url_date(page.url, value):
        # htmldate also reads dates out of URLs, more loosely than _URL_DATE does: such a
        # date is not taken from it either.
        return None
    return Candidate("published", value, "fallback")


def _loose_url_date(url: str, value: str) -> bool:
    """Whether htmldate's date is one it made up from a URL that names no day: the first of
    the month for "/2023/08/slug" (a blog archive's path names the month only), or the count
    that opens the slug of "/2023/08/10-things-to-know/". Any other day on such a URL comes
    from the page itself (a Blogger or WordPress post under /yyyy/mm/ prints its day)."""
    parts = value.split("-")
    if len(parts) != 3:
        return False
    year, month, day = parts
    path = urlsplit(url).path
    digits = re.findall(r"\d+", path)
    if year not in digits or not any(d.lstrip("0") == month.lstrip("0") for d in digits):
        return False
    if day == "01":
        return True
    opening = re.search(rf"/{year}/0?{int(month)}/0?{int(day)}(?=[^\d/])", path)
    return opening is not None


def _context(element: object) -> str:
    parent = element.getparent()  # type: ignore[attr-defined]
    if parent is None:
        return ""
    return " ".join(parent.text_content().split())[:80]
