"""The headline: the one the page shows its reader, in the words the publisher gave it.

A page names its headline up to four times: the ``<h1>`` a reader sees, the JSON-LD
``headline`` and ``og:title`` written for search engines and social cards, and the
``<title>`` of the browser tab, which adds the site's name. They often differ: a
shorter social title, an SEO rewrite, a kicker ("Krieg in Nahost: ...") on one and not
the other. The ``<h1>`` is the headline as printed, so it wins whenever it is
recognisably the same story as the declared title; the declared title covers pages
whose ``<h1>`` is a logo, a section label or missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from html import unescape
from typing import Any

from lxml.etree import XPath

from crawler.discovery.urls import registered_host

SEPARATORS = re.compile(r"\s+(?:[-|–—:·»/•~]|::)\s+|\s*[|｜_]\s*|\s*[：:]\s*(?=\S)")
_STRICT_SEPARATORS = re.compile(r"\s+(?:[-|–—:·»/•~]|::)\s+")
# characters that show as nothing: soft hyphens, zero-width spaces and joiners, BOMs
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_WORD = re.compile(r"\w+")
# headings a reader never takes for the article's: menus, dialogs, footers, sidebars (not forms:
# ASP.NET pages sit in one <form>)
_HEADINGS = XPath(
    "//h1[not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::dialog"
    " or ancestor::*[@role='dialog' or @aria-modal='true' or @hidden])]"
)
MAX_CHARS = 400
_KICKER = re.compile(r"^[^:]{2,60}?(?::|\s[-–—|])\s+")


def clean_text(value: str | None) -> str:
    """Markup escapes decoded ("&#8217;"), invisible characters out, white space folded."""
    if not value:
        return ""
    if "&" in value:
        # twice: CMSs escape headlines once more when they put them in JSON-LD or meta tags
        value = unescape(unescape(value))
    return " ".join(value.translate(_INVISIBLE).split())


def _key(value: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", value).casefold()))


def _words(value: str) -> set[str]:
    return set(_WORD.findall(unicodedata.normalize("NFKC", value).casefold()))


def similarity(a: str, b: str) -> float:
    """Share of the shorter text's words found in the other: the same story, retold or cut."""
    first, second = _words(a), _words(b)
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


SiteNames = str | Sequence[str] | None
_COMPACT = re.compile(r"\W|_")
# "Headline | Section | Site": a section label between the headline and the site's name
_SECTION_WORDS = 3
# a brand is a few words, fewer than the headline it follows
_BRAND_WORDS = 5
# a name long enough that a segment starting with it is the brand ("Bridgestone Tires"): short
# ones ("TIME", "Apple") start headlines
_LONG_NAME = 6


def _compact(value: str) -> str:
    return _COMPACT.sub("", unicodedata.normalize("NFKC", value).casefold())


def _listed(site_name: SiteNames) -> list[str]:
    if site_name is None:
        return []
    return [site_name] if isinstance(site_name, str) else list(site_name)


def _names(site_name: SiteNames) -> list[str]:
    return [compact for compact in map(_compact, _listed(site_name)) if compact]


def strip_site_name(title: str, site_name: SiteNames, url: str) -> str:
    """Remove a trailing (or leading) " - Site Name" from a headline, and a section label
    between the headline and a trailing site name ("Headline | Section | Site").

    A segment is the site's name when it equals one of ``site_name`` or the host's name;
    failing that, when it reads as the brand of the host ("Rust Blog" on rust-lang.org,
    "Bridgestone Tires" on bridgestone.com, "DianaHR" on getdianahr.com) or of a site name
    ("Thrive Internet Marketing" for "Thrive Internet Marketing Agency") and is a few
    words, fewer than the rest of the title.
    """
    separators = list(_STRICT_SEPARATORS.finditer(title))
    if not separators:
        return title
    parts = _STRICT_SEPARATORS.split(title)
    # the host's names: "blog.rust-lang.org" gives "blog" and "rustlang"
    host = registered_host(url or "").removeprefix("www.")
    hosts = [_compact(label) for label in host.split(".")[:-1]]
    hosts = [name for name in [*hosts, _compact(host)] if len(name) >= 3 and name != "www"]
    names = _names(site_name)

    def exact(part: str) -> bool:
        compact = _compact(part)
        return bool(compact) and (compact in names or compact in hosts)

    site_words = [
        _WORD.findall(unicodedata.normalize("NFKC", name).casefold()) for name in _listed(site_name)
    ]

    def brand(part: str, rest: str) -> bool:
        compact, words = _compact(part), _WORD.findall(unicodedata.normalize("NFKC", part).casefold())
        if len(compact) < 4 or not words or len(words) > _BRAND_WORDS:
            return False
        for name in site_words:
            if name and words == name[: len(words)]:
                return True  # the site's name shortened, word by word ("Thrive Internet Marketing")
        if len(words) >= len(_WORD.findall(rest)):
            return False  # a brand is fewer words than the headline it follows
        for name in site_words:
            if len("".join(name)) >= _LONG_NAME and words[: len(name)] == name:
                return True  # lengthened: "Coastline Weekly Online"; never "Time to act" for "TIME"
        return any(
            (len(name) >= _LONG_NAME and (compact.startswith(name) or compact in name))  # "Bridgestone Tires"
            or (len(words) <= 2 and len(words[0]) >= 4 and name.startswith(_compact(words[0])))  # "Rust Blog"
            for name in hosts
        )

    head = title[: separators[-1].start()].strip()
    if exact(parts[-1]):
        stripped = head
    elif exact(parts[0]):
        # "Site | Site.com - Headline": the name can come twice
        cut = 1 if len(parts) >= 3 and exact(parts[1]) else 0
        return title[separators[cut].end() :].strip()
    elif brand(parts[-1], head):  # only at the end: "Rust - a language for everyone" is a headline
        stripped = head
    else:
        return title
    # pipes only: "Best Bread Machines - My Favorites! - Bread Dad" is a headline with a dash in it
    if len(parts) >= 3 and separators[-1].group(0).strip() == separators[-2].group(0).strip() == "|":
        section, rest = parts[-2], title[: separators[-2].start()].strip()
        section_words = len(_WORD.findall(section))
        if section_words <= _SECTION_WORDS and section_words < len(_WORD.findall(rest)):
            return rest
    return stripped


def _without_segment(title: str, segment: str) -> str | None:
    """``title`` without ``segment`` when that is a whole part at its start or its end."""
    for match in SEPARATORS.finditer(title):
        head, tail = title[: match.start()], title[match.end() :]
        if _key(head) == _key(segment) and tail.strip():
            return tail.strip()
        if _key(tail) == _key(segment) and head.strip():
            return head.strip()
    return None


def headings(tree: Any) -> list[str]:
    """The page's ``<h1>`` texts, in document order, without repeats. A kicker set in an
    element of its own ("<h1><span>Premier League</span> <span>Liverpool lose</span></h1>")
    is kept apart from the headline by a colon, as the page's styling sets it apart."""
    found: list[str] = []
    for element in _HEADINGS(tree):
        parts = [clean_text(child.text_content()) for child in element if isinstance(child.tag, str)]
        parts = [part for part in parts if part]
        tails = [child.tail for child in element if (child.tail or "").strip()]
        if len(parts) == 2 and not clean_text(element.text) and not tails and len(parts[0]) < len(parts[1]):
            text = f"{parts[0].rstrip(':')}: {parts[1]}"
        else:
            text = clean_text(element.text_content())
        if text and len(text) <= MAX_CHARS and text not in found:
            found.append(text)
    return found


def choose_title(
    h1s: list[str],
    declared: str | Sequence[str] | None,
    html_title: str | None,
    site_name: SiteNames,
    url: str,
) -> str | None:
    """The headline, from the page's ``<h1>`` elements, its declared titles (JSON-LD headline,
    og:title, ... in that order) and its ``<title>``; None when the page names none."""
    site_key = _key(site_name if isinstance(site_name, str) else next(iter(site_name or ()), ""))
    declared = _declared(declared, h1s, site_name, url)
    # an unclosed <title> swallows the page: a title is a line, not a document
    tab = clean_text(html_title)[:MAX_CHARS]
    candidates = []
    for h1 in h1s:
        if site_key and _key(h1) == site_key:
            continue
        if tab and _key(h1) == _key(tab):
            h1 = strip_site_name(h1, site_name, url)  # a hidden <h1> that repeats the tab, site name and all
        rest = _without_segment(tab, h1) if tab else None
        if (
            rest is not None
            and similarity(h1, rest) < 0.5
            and len(rest) > 1.5 * len(h1)
            and not (declared and similarity(h1, declared) >= 0.5)
            and not (site_key and _key(rest) == site_key)
            # "<h1> - Category - Site": an <h1> heading a tab of several parts is its headline
            and not (_key(tab).startswith(_key(h1)) and _STRICT_SEPARATORS.search(rest))
        ):
            # the <title> is "<h1> - A Longer Headline": the <h1> is the site's name, the rest the headline
            tab = rest
            continue
        candidates.append(h1)
    tab = strip_site_name(tab, site_name, url) if tab else ""
    reference = declared or tab
    if not reference:
        return candidates[0] if candidates else None
    best = max(candidates, key=lambda h1: similarity(h1, reference), default=None)
    if best is None or similarity(best, reference) < 0.3:
        return declared or _tab_headline(tab, candidates) or tab or None
    if _key(reference) == _key(best):
        # the same words: the declared title keeps the punctuation that the <h1> leaves to its styling
        return reference
    kicker = _KICKER.match(best)
    if kicker and _key(best[kicker.end() :]) == _key(reference):
        return reference  # the kicker is a label over the headline, not part of it
    return best


def _declared(
    declared: str | Sequence[str] | None, h1s: list[str], site_name: SiteNames, url: str
) -> str | None:
    """The declared title to measure the ``<h1>`` against: the first one, unless it is only the
    site's name (og:title "Robomow") or another declared title is the ``<h1>``'s headline and
    it is not (a JSON-LD headline "Sample menus" beside og:title and ``<h1>`` that agree)."""
    values = [declared] if isinstance(declared, str) else list(declared or ())
    names = _names(site_name)
    titles: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue  # JSON-LD holds lists and objects where a string belongs
        # an unclosed <title> swallows the page: a title is a line, not a document
        title = strip_site_name(clean_text(value)[:MAX_CHARS], site_name, url)
        if title and _compact(title) not in names and title not in titles:
            titles.append(title)
    if not titles:
        return None
    agreeing = [title for title in titles if any(similarity(title, h1) >= 0.5 for h1 in h1s)]
    return titles[0] if not agreeing or titles[0] in agreeing else agreeing[0]


def _tab_headline(tab: str, h1s: list[str]) -> str | None:
    """A lone ``<h1>`` that shares nothing with a ``<title>`` such as "Arbeit - Party Name"
    is the headline; the tab then names a section and a site."""
    if len(h1s) == 1 and len(_STRICT_SEPARATORS.split(tab)) > 1:
        return h1s[0]
    return None
