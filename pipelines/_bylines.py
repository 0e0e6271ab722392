"""The article's own byline, as the page shows it under (or above) the headline.

A page lists many names: the article's authors, the authors of the related stories
beside it, commenters, the editor of a newsletter box. Only the byline that belongs
to the headline counts: the first byline after the page's main ``<h1>``, and whatever
sits in the same block as it ("By <a>Jane Doe</a> and <a>Tom Roe</a>"). Some themes
give that line no class at all (``<p class="dateline">By Jane Doe | Published ...``):
a short line right after the headline that starts with "By" is a byline too.
"""

from __future__ import annotations

import re
from typing import Any

from lxml.etree import XPath

_RE_NS = {"re": "http://exslt.org/regular-expressions"}
_OUTSIDE_THE_ARTICLE = (
    "ancestor::nav or ancestor::footer or ancestor::aside or ancestor::form or "
    "ancestor::*[re:test(concat(' ', @class, ' ', @id), "
    "'comment|related|recommend|teaser|more-stories|sidebar|widget|newsletter', 'i')]"
)
_BYLINE_XPATH = XPath(
    "//*[@class or @id or @rel or @itemprop]"
    "[re:test(concat(' ', @class, ' ', @id, ' ', @rel, ' ', @itemprop), "
    "'(^|[-_ ])(byline|author|authors|author-name|autor|autoren|auteur|signature|firma|writer|"
    "news-author|story-author|contributor)([-_ ]|$)', 'i')]"
    f"[not({_OUTSIDE_THE_ARTICLE})]"
    "[string-length(normalize-space(.)) < 120]",
    namespaces=_RE_NS,
)
# a line that opens with "By ..." in the languages we see most, followed by a capital
_BY_LINE = re.compile(
    r"^\s*(?i:(?:written|posted|reported|words)\s+by|by|von|par|por|di|door|av|af|автор|от)"
    r"(?:\s*:\s*|\s+)[A-ZÀ-ÞА-ЯĀ-Ž]"
)
_SHORT_LINES = XPath(
    "//*[self::p or self::div or self::span or self::li or self::address or self::section]"
    f"[not(*[self::p or self::div or self::li])][not({_OUTSIDE_THE_ARTICLE})]"
    "[string-length(normalize-space(.)) > 4][string-length(normalize-space(.)) < 160]",
    namespaces=_RE_NS,
)
_MAIN_H1 = XPath(f"(//h1[not({_OUTSIDE_THE_ARTICLE})])[1]", namespaces=_RE_NS)
# how far, in elements of the document, a byline may sit from the headline
_NEAR = 400


def element_text(element: Any) -> str:
    """Text with a space between the pieces of different elements: "By<a>Jane Doe</a>"
    reads "By Jane Doe", and "Jane Doe<span>Washington Post</span>" two names, not one."""
    return " ".join(" ".join(piece.split()) for piece in element.itertext() if piece.strip())


def _positions(tree: Any) -> dict[Any, int]:
    return {element: index for index, element in enumerate(tree.iter())}


def _same_block(first: Any, other: Any, levels: int = 3) -> bool:
    ancestors = set()
    node = first
    for _ in range(levels + 1):
        if node is None:
            break
        ancestors.add(node)
        node = node.getparent()
    node = other
    for _ in range(levels + 1):
        if node is None:
            return False
        if node in ancestors:
            return True
        node = node.getparent()
    return False


def visible_bylines(tree: Any) -> list[str]:
    """The texts of the article's byline elements, nearest to the headline first."""
    matches = _BYLINE_XPATH(tree)
    inner = set(matches)
    # of nested byline elements only the innermost, so that wrappers do not repeat them
    matches = [m for m in matches if not any(d in inner for d in m.iterdescendants())]
    headline = _MAIN_H1(tree)
    positions = _positions(tree)
    start = positions.get(headline[0], 0) if headline else 0
    lines = [
        element
        for element in _SHORT_LINES(tree)
        if start <= positions.get(element, 0) <= start + _NEAR and _BY_LINE.match(element_text(element))
    ]
    # the innermost "By" line: a wrapper also holds the date and the section links
    found = set(lines)
    lines = [line for line in lines if not any(d in found for d in line.iterdescendants())]
    after = [m for m in matches if positions.get(m, 0) >= start]
    candidates = sorted(after, key=positions.get) or sorted(matches, key=positions.get)
    if lines and (not candidates or positions[lines[0]] < positions[candidates[0]]):
        # a "By ..." line under the headline comes before any author box further down
        return [element_text(lines[0])]
    if not candidates:
        return []
    first = candidates[0]
    texts: list[str] = []
    for element in candidates:
        if element is first or _same_block(first, element):
            text = element_text(element)
            if text and text not in texts:
                texts.append(text)
    return texts
