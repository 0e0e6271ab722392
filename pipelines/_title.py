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
from html import unescape
from typing import Any

from lxml.etree import XPath

from crawler.urls import registered_host

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


def strip_site_name(title: str, site_name: str | None, url: str) -> str:
    """Remove a trailing (or leading) " - Site Name" from a headline."""
    parts = _STRICT_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    host_key = registered_host(url).split(".")[0]
    site_key = (site_name or "").casefold().strip()

    def is_site(part: str) -> bool:
        key = part.casefold().strip()
        compact = re.sub(r"\W", "", key)
        return bool(
            (site_key and (key == site_key or compact == re.sub(r"\W", "", site_key)))
            or (host_key and compact == host_key)
        )

    separators = list(_STRICT_SEPARATORS.finditer(title))
    if is_site(parts[-1]):
        return title[: separators[-1].start()].strip()
    if is_site(parts[0]):
        return title[separators[0].end() :].strip()
    return title


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
    h1s: list[str], declared: str | None, html_title: str | None, site_name: str | None, url: str
) -> str | None:
    """The headline, from the page's ``<h1>`` elements, its declared title (JSON-LD headline,
    og:title) and its ``<title>``; None when the page names none."""
    # an unclosed <title> swallows the page: a title is a line, not a document
    declared = strip_site_name(clean_text(declared)[:MAX_CHARS], site_name, url) or None
    tab = clean_text(html_title)[:MAX_CHARS]
    site_key = _key(site_name or "")
    candidates = []
    for h1 in h1s:
        if site_key and _key(h1) == site_key:
            continue
        rest = _without_segment(tab, h1) if tab else None
        if (
            rest is not None
            and similarity(h1, rest) < 0.5
            and len(rest) > 1.5 * len(h1)
            and not (declared and similarity(h1, declared) >= 0.5)
            and not (site_key and _key(rest) == site_key)
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
    if _key(reference) in _key(best):
        # the same words: the declared title keeps the punctuation that the <h1> leaves to its styling
        return reference
    kicker = _KICKER.match(best)
    if kicker and _key(best[kicker.end() :]) == _key(reference):
        return reference  # the kicker is a label over the headline, not part of it
    return best


def _tab_headline(tab: str, h1s: list[str]) -> str | None:
    """A lone ``<h1>`` that shares nothing with a ``<title>`` such as "Arbeit - Party Name"
    is the headline; the tab then names a section and a site."""
    if len(h1s) == 1 and len(_STRICT_SEPARATORS.split(tab)) > 1:
        return h1s[0]
    return None
