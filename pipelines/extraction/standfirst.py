"""The standfirst: the lead a page shows between its headline and its body.

Many templates print it outside the body's markup (``<p class="standfirst">`` under the
``<h1>``, a ``dek``, a ``chapo``), and body extractors, trafilatura included, leave it
out; a reader counts it as the article's opening. It is taken when it sits after the
headline and before the body's first paragraph, is marked as a lead by its class, reads
as a sentence or two, and is not already in the body.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.extraction.text import count_words

# Class and id words of leads, in the languages templates are written in.
_LEAD_WORDS = {
    "standfirst", "dek", "deck", "lede", "lead", "intro", "summary", "subtitle", "subheadline", "subhead",
    "teaser", "excerpt", "abstract", "strapline", "sapo", "chapo", "chapeau", "vorspann", "entradilla",
    "sumario", "entradeta", "occhiello", "catenaccio", "lid", "anons",
}  # fmt: skip
# ... unless another word says it is something else: a lead image, a teaser list, a label.
_OTHER_WORDS = {
    "media", "img", "image", "photo", "figure", "caption", "video", "audio", "author", "byline", "date",
    "time", "meta", "link", "links", "list", "nav", "menu", "label", "title", "heading", "headline", "item",
    "card", "related", "more", "share", "tag", "tags", "button", "icon", "wrapper", "container",
}  # fmt: skip
# ... or a box around it says the line belongs to something else: a newsletter sign-up, a
# pop-up, an author's profile, a promotion.
_BOX_WORDS = {
    "newsletter", "subscribe", "subscription", "signup", "modal", "popup", "promo", "author", "bio",
    "profile", "paywall",
}  # fmt: skip
# how far up the boxes around a lead are looked at, and where that stops
_BOX_DEPTH = 6
_PAGE_BOXES = {"article", "main", "body", "html"}
_TAGS = {"p", "h2", "h3", "div"}
_BLOCK_CHILDREN = {"p", "div", "ul", "ol", "li", "table", "figure", "section", "article"}
_OUTSIDE = {"nav", "aside", "footer", "figure", "figcaption", "form"}
_WORDS = re.compile(r"[a-z]+")
_FLAG = re.compile(r"(?:has|with|without|no|is)[-_]")
_MIN_WORDS, _MAX_WORDS = 8, 90
# How far after the headline a lead may sit, in elements, when the body's start is not found.
_NEAR = 40


def _is_lead(element: Any) -> bool:
    words = set(_WORDS.findall(f"{element.get('class', '')} {element.get('id', '')}".lower()))
    return bool(words & _LEAD_WORDS) and not words & (_OTHER_WORDS | _BOX_WORDS)


def _in_other_box(element: Any) -> bool:
    """The lead candidate sits in a form's, a pop-up's or an author box's markup, or inside a
    link (a teaser card of another article). The article's own wrapper and the page's are
    not looked at: their flags ("newsletter-post", "pmc-subscription-behind-paywall",
    "a-article-author-ruler") describe the whole page."""
    for depth, ancestor in enumerate(element.iterancestors()):
        if depth >= _BOX_DEPTH or ancestor.tag in _PAGE_BOXES:
            break
        if ancestor.tag == "a":
            return True
        tokens = f"{ancestor.get('class', '')} {ancestor.get('id', '')}".lower().split()
        # "has-author-image", "with-newsletter" are flags of the layout, not boxes
        words = {word for token in tokens if not _FLAG.match(token) for word in _WORDS.findall(token)}
        if words & _BOX_WORDS:
            return True
    return False


def _visible_text(element: Any) -> str:
    """The element's text without what its scripts and styles hold (``text_content`` keeps it)."""
    return " ".join("".join(element.xpath(".//text()[not(ancestor::script or ancestor::style)]")).split())


def _text_start(element: Any, size: int) -> str:
    """The start of ``" ".join(element.text_content().split())``, ``size`` characters at least
    when the text has them: read piece by piece, so that a wrapper of the whole article is not
    joined into one string to compare its first line. (White space squeezed in a part of the
    text is a prefix of the whole text squeezed.)"""
    pieces: list[str] = []
    length, target = 0, size
    for piece in element.itertext():
        pieces.append(piece)
        length += len(piece)
        if length >= target:
            text = " ".join("".join(pieces).split())
            if len(text) >= size:
                return text
            target = length + size  # mostly white space so far: read on
    return " ".join("".join(pieces).split())


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _after(element: Any) -> Any:
    """Every node after ``element`` in document order, its own descendants first: what
    ``tree.iter()`` yields once it has passed ``element``, without walking up to it."""
    yield from element.iterdescendants()
    node = element
    while node is not None:
        for sibling in node.itersiblings():
            yield sibling
            yield from sibling.iterdescendants()
        node = node.getparent()


def standfirst(tree: Any, body: str) -> str | None:
    """The lead paragraph the page shows under its headline and ``body`` lacks, or None."""
    headline = next(iter(tree.iter("h1")), None)
    if headline is None or not body:
        return None
    first = _key(body.split("\n\n", 1)[0])[:60]
    body_key = _key(body)
    for distance, element in enumerate(_after(headline), start=1):
        if not isinstance(element.tag, str):
            continue
        if distance > _NEAR * 10:
            return None
        # a prefix is enough to compare with the body's first 60 characters
        start = _text_start(element, 2 * len(first))
        if first and start and start[: 2 * len(first)].casefold().startswith(first):
            return None  # the body begins: no lead before it
        if element.tag not in _TAGS or not _is_lead(element):
            continue
        text = " ".join(element.text_content().split())
        if any(
            child.tag in _BLOCK_CHILDREN for child in element.iterdescendants() if isinstance(child.tag, str)
        ):
            continue
        if any(ancestor.tag in _OUTSIDE for ancestor in element.iterancestors()):
            continue
        if element.find(".//script") is not None or element.find(".//style") is not None:
            text = _visible_text(element)
        if _MIN_WORDS <= count_words(text) <= _MAX_WORDS and _key(text)[:60] not in body_key:
            if _in_other_box(element):
                continue
            return text
    return None
