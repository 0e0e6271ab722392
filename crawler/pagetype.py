"""Is a page an article, or a listing (home, section, tag, author, search)?

Decided from what the page says about itself (JSON-LD type, og:type), the
shape of its URL and the shape of its markup. Shared by the extract step and,
later, by link-following discovery.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crawler.page import ARTICLE_TYPES, LISTING_TYPES, Page, json_ld_types
from crawler.urls import is_home

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
    if _LISTING_PATH.search(parts.path) or _SECTION_PATH.match(parts.path):
        return "listing"
    if _ARTICLE_SLUG.search(parts.path):
        return "article"
    return "unknown"


def page_kind(page: Page) -> str:
    """``"article"``, ``"listing"`` or ``"unknown"``."""
    kinds: set[str] = set()
    for obj in page.json_ld:
        kinds |= json_ld_types(obj)
    parts = urlsplit(page.url)
    if is_home(page.url) or (parts.query and _SEARCH_QUERY.search(parts.query)):
        return "listing"
    if kinds & ARTICLE_TYPES:
        return "article"
    if _LISTING_PATH.search(parts.path) and not _ARTICLE_PATH.search(parts.path):
        return "listing"
    if kinds & LISTING_TYPES:
        return "listing"
    og_type = [value.lower() for value in page.meta("og:type")]
    if any(value == "article" or value.startswith("article") for value in og_type):
        return "article"
    if "website" in og_type and url_kind(page.url) != "article":
        # og:type=website on a page whose URL does not look like an article: a front or section page
        return "listing"
    if page.tree is not None and len(page.tree.xpath(_TEASER_XPATH)) >= 4:
        # An article followed by "more stories" headlines has long paragraphs; a list of
        # teasers has one or two sentences under each headline.
        long_paragraphs = page.tree.xpath("//p[string-length(normalize-space(.)) >= 300]")
        if len(long_paragraphs) < 3:
            return "listing"
    return "unknown"
