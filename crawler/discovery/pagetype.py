"""Is a page an article, or a listing (home, section, tag, author, search)?

Decided from what the page says about itself (JSON-LD type, og:type), the
shape of its URL and the shape of its markup. Shared by the extract step and,
later, by link-following discovery.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.etree import XPath

from crawler.discovery.urls import is_home
from crawler.pages.page import ARTICLE_TYPES, LISTING_TYPES, Page, json_ld_types

_LISTING_PATH = re.compile(
    r"/(?:tags?|topics?|categor(?:y|ies)|authors?|autor(?:en)?|auteur|section|sections|rubri[ck]|"
    r"search|suche|recherche|buscar|archives?|page|seite|pagina|calendar|kalender|agenda|events?)(?:/|$)",
    re.IGNORECASE,
)
# Paths that end in an article id or a dated slug are articles whatever words precede them
# (WordPress "/archives/12345", "/2023/09/04/slug").
_ARTICLE_PATH = re.compile(r"/\d{4,}(?:\.html?)?/?$|/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[^/]+", re.IGNORECASE)
_SEARCH_QUERY = re.compile(r"(?:^|&)(?:s|q|query|search)=", re.IGNORECASE)
# Headline links outside the page chrome: many of them make a list of teasers.
_TEASER_XPATH = (
    "//*[self::h2 or self::h3 or self::h4][.//a]"
    "[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::header)]"
)


# The last path segment of an article: a slug of several words, or one with a numeric id.
_ARTICLE_SLUG = re.compile(r"/(?:[^/]*\d{4,}[^/]*|[\w%]+(?:-[\w%]+){2,}[^/]*)(?:\.s?html?|\.php|\.aspx?)?/?$")


# One word, no digits: a section or a static page (/world/, /about), never an article.
_SECTION_PATH = re.compile(r"^/[^\W\d_]+/?$")
# Day, month and year archives: /2023/09/04/, /2023-09-04/, /2023/09/
_DATE_ARCHIVE = re.compile(r"/(?:19|20)\d{2}(?:[/-]\d{1,2}){0,2}/?$")
_ID_OR_SENTENCE = re.compile(r"\d{6,}|^[^-]+(?:-[^-]+){4,}$")
_PAGINATION = re.compile(r"(?:page|seite|pagina|p)/\d+$", re.IGNORECASE)


def _listing_path(path: str) -> bool:
    """A tag, category, author, search or archive path: the listing word names the last
    segment or the one before it ("/tag/budget/", "/category/politics/page/2/"). Deeper
    down, an article slug is an article filed under that word ("/topics/hiking/best-gps-watch")."""
    match = _LISTING_PATH.search(path)
    if match is None:
        return False
    rest = [segment for segment in path[match.end() :].split("/") if segment]
    return len(rest) <= 1 or not _ARTICLE_SLUG.search(path)


def _firm_listing_path(path: str) -> bool:
    """A URL that names a listing whatever the page holds: the listing word names the last
    segment or the one before it, with pagination at most ("/tag/budget/", "/author/jane-doe",
    "/category/politics/page/2/"); or a date archive with nothing before it but sections."""
    match = _LISTING_PATH.search(path)
    if match is not None:
        rest = [segment for segment in path[match.end() :].split("/") if segment]
        if not rest or (len(rest) == 3 and _PAGINATION.match("/".join(rest[1:]))):
            return True
        if len(rest) == 1:
            # a tag or an author is a word or a name, not an id or a sentence
            return not _ID_OR_SENTENCE.search(rest[0])
    archive = _DATE_ARCHIVE.search(path)
    return archive is not None and not _ARTICLE_SLUG.search(path[: archive.start()] or "/")


def url_kind(url: str) -> str:
    """What a link's URL alone suggests: ``"article"``, ``"listing"`` or ``"unknown"``."""
    parts = urlsplit(url)
    if (
        is_home(url)
        or (parts.query and _SEARCH_QUERY.search(parts.query))
        or _DATE_ARCHIVE.search(parts.path)
    ):
        return "listing"
    if _ARTICLE_PATH.search(parts.path):
        return "article"
    if _listing_path(parts.path) or _SECTION_PATH.match(parts.path):
        return "listing"
    if _ARTICLE_SLUG.search(parts.path):
        return "article"
    return "unknown"


def page_kind(page: Page) -> str:
    """``"article"``, ``"listing"`` or ``"unknown"``."""
    return page_verdict(page)[0]


def page_verdict(page: Page) -> tuple[str, bool]:
    """The page's kind, and whether the verdict is firm.

    A firm listing is one whose URL says so (home page, search, tag, category, author or
    date archive): no body changes that. The markup's hints (og:type "website", a listing
    JSON-LD type, a run of teaser headlines) are weak: templates set them on articles too,
    and a page whose extracted body is plainly an article overrules them (``prose_words``).
    """
    kinds: set[str] = set()
    for obj in page.json_ld:
        kinds |= json_ld_types(obj)
    url = page.url or ""  # HTML in hand without its address: nothing to read from a URL
    parts = urlsplit(url)
    og_type = [value.lower() for value in page.meta("og:type")]
    says_article = any(value.startswith("article") for value in og_type)
    if (url and is_home(url)) or (parts.query and _SEARCH_QUERY.search(parts.query)):
        # a single article served at a site's root says so and reads like one
        return "listing", not (says_article and _article_paragraphs(page))
    if kinds & ARTICLE_TYPES:
        return "article", True
    if _ARTICLE_PATH.search(parts.path) is None and _firm_listing_path(parts.path):
        # "/topic/history-of-coffee" on a reference site is an article under a listing word
        return "listing", not (says_article and _article_paragraphs(page))
    if _ARTICLE_PATH.search(parts.path) is None and (
        _listing_path(parts.path) or _SECTION_PATH.match(parts.path)
    ):
        return "listing", False
    if says_article:
        return "article", False
    if kinds & LISTING_TYPES:
        return "listing", False
    if "website" in og_type and url_kind(url) != "article":
        # og:type=website on a page whose URL does not look like an article: a front or section page
        return "listing", False
    if (
        page.tree is not None
        and len(page.tree.xpath(_TEASER_XPATH)) >= 4
        and not _article_paragraphs(page)
        and not _headed_by_its_title(page)
    ):
        # An article followed by "more stories" headlines has long paragraphs; a list of
        # teasers has one or two sentences under each headline.
        return "listing", False
    return "unknown", False


_FIRST_H1 = XPath("(//h1[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::a)])[1]")
# after the headline, a paragraph of text comes before the first linked heading
_PROSE_FIRST = XPath(
    "boolean((following::*[self::p[string-length(normalize-space()) >= 80]"
    " or self::*[self::h2 or self::h3 or self::h4][.//a]])[1][self::p])"
)
# a word, or one character of the scripts that do not separate words
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]|[^\W_]+")
# not a colon: "Analysis: the vote" is one headline
_TITLE_SEPARATOR = re.compile(r"\s+[-|–—·»]\s+|\s*[|｜]\s*")
# "Budget", "World news": a section's name is short; a headline says something
HEADLINE_WORDS = 5


def _headed_by_its_title(page: Page) -> bool:
    """Whether the page's first ``<h1>`` is its title (the ``<title>`` or ``og:title``, site
    name aside) and reads as a headline: a short news item followed by its "related" and
    "more from" boxes is an article, a section page is headed by the section's name."""
    h1 = _FIRST_H1(page.tree)
    if not h1 or not _PROSE_FIRST(h1[0]):
        return False  # a section's page goes from its name straight to the teasers
    words = _WORDS.findall(h1[0].text_content().casefold())
    if len(words) < HEADLINE_WORDS:
        return False
    titles = [*page.meta("og:title"), *(title.text_content() for title in page.tree.iter("title"))]
    for title in titles:
        segments = [_WORDS.findall(segment.casefold()) for segment in _TITLE_SEPARATOR.split(title)]
        if words in segments or words == _WORDS.findall(title.casefold()):
            return True
    return False


_LONG_PARAGRAPHS = XPath("//p[string-length(normalize-space(.)) >= 300]")


def _article_paragraphs(page: Page) -> bool:
    """Whether the page has the paragraphs of an article: three of 300 characters or more."""
    return page.tree is not None and len(_LONG_PARAGRAPHS(page.tree)) >= 3


# A paragraph of prose, not a teaser's one-line summary or a list item.
PROSE_PARAGRAPH_WORDS = 30
# This much prose in an extracted body is an article whatever the markup hints say.
ARTICLE_PROSE_WORDS = 100


def prose_words(paragraph_words: list[int]) -> int:
    """Words in the body's paragraphs of prose: what tells an article from a list of teasers,
    whose summaries are a sentence each."""
    return sum(words for words in paragraph_words if words >= PROSE_PARAGRAPH_WORDS)
