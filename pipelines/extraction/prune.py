"""Boilerplate blocks removed from a copy of the page before trafilatura sees it.

trafilatura already discards most navigation; these are the article-adjacent
blocks it sometimes keeps: captions, comment forms, share bars, newsletter and
cookie boxes, "back to top" links, bylines and datelines. One walk over the tree
decides every rule, children before parents, so that a wrapper is judged on what
is left in it; a dozen ``//*[...]`` XPath scans cost ten times as much on a large page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from lxml import etree
from lxml.etree import XPath

from crawler.pages.naming import CLASS_AND_ID, NamedElements, in_tree
from pipelines.extraction.placement import LowercaseWords, in_document_order, names
from pipelines.extraction.text import XML_SPACE, normalized_length

# Boilerplate blocks are short: a class word such as "newsletter" or "share" on
# an element that holds the whole article must not remove the article.
BLOCK_LIMIT = 1500
FORM_LIMIT = 400  # not every form: ASP.NET WebForms wraps the whole page in one
BYLINE_LIMIT = 240
CAPTION_LIMIT = 400

_CLASS_WORDS = (
    "comment-respond", "comment-list", "comments",
    "share", "social", "related", "newsletter", "subscribe", "subscription",
    "cookie", "consent", "back-to-top", "backtotop", "read-also", "readalso", "read-more",
    # the box that asks a reader to log in or register before reading on
    "access-wall", "registration-wall", "regwall", "login-wall",
)  # fmt: skip
# Bylines and datelines: their content is in the metadata, not in the body.
_BYLINE_WORDS = (
    r"byline|author|authors|autor|auteur|signature|dateline|date|datum|fecha|"
    r"article-date|news-date|news-author|post-date|post-meta|entry-meta|article-meta|"
    r"date-publication|publication|published|posted|timestamp"
)
_BYLINE = re.compile(rf"(^|[-_ ])({_BYLINE_WORDS})([-_ ]|$)", re.IGNORECASE)
_RE_NS = {"re": "http://exslt.org/regular-expressions"}
# the only elements boilerplate_limit can pick: a class, an id, or one of its tags
_CANDIDATES = XPath("//*[@class or @id or self::figcaption or self::form or self::a[@href='#top']]")
# Navigation holds most of a large page's elements and, when it is navigation, never its
# article. Scripts stay: htmldate and the JSON readers look into them.
_NEVER_TEXT = ("svg",)
# A <nav> left open swallows the rest of the page, the article with it: a <nav> holding a
# headline, an article or paragraphs of text is not removed.
_PLAIN_NAV = XPath(
    "//nav[not(.//h1 or .//article or .//main or .//p[string-length(normalize-space(.)) > 80])]"
)
# Containers of the whole page: a class word on them ("comments-open" on a WordPress
# <body>) says nothing about a boilerplate block.
_CONTAINERS = frozenset({"html", "body", "main"})
# Anywhere in a class token ("c-article-related-articles__item", "voc-share-social__link"),
# but not in a flag of the layout: "has-comments" is on the article's own wrapper.
_CLASS_WORD = re.compile(
    r"(?:^|\s)(?!(?i:has|with|without|no|is)[-_])[^\s]*?(?:" + "|".join(map(re.escape, _CLASS_WORDS)) + ")"
)


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_NOT_ALNUM = re.compile(r"[\W_]+")


def _slug(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def _is_anchor(element: Any, ident: str) -> bool:
    """An id that spells the heading's own text ("what-share-of-adults-...") is the anchor a
    table of contents links to, not the name of a block's role: a class word in it says nothing."""
    if element.tag not in _HEADINGS:
        return False
    slug = _slug(ident)
    return len(slug) >= 8 and slug in _slug(element.text_content())


def _names_a_rule_word(value: str) -> bool:
    """Whether a class or id value holds any word of the rules below, in any case. A page
    repeats a few hundred class values over thousands of elements: each value is searched
    once (``names`` keeps the answers)."""
    return names(_ANY_RULE_WORD, value)


def boilerplate_limit(element: Any) -> float:
    """The text length under which ``element`` is a boilerplate block; 0 when it is none."""
    tag = element.tag
    if tag == "a" and element.get("href") == "#top":
        return math.inf
    if tag == "figcaption":
        # a caption is a line or two; the long text under a slide of a slideshow is the article
        return CAPTION_LIMIT
    if tag in _CONTAINERS:
        return 0
    classes = element.get("class") or ""
    ident = element.get("id") or ""
    limit = FORM_LIMIT if tag == "form" else 0
    if not _names_a_rule_word(classes) and not _names_a_rule_word(ident):
        return limit  # most elements: no word any rule below looks for
    if (
        ident in ("respond", "comments")
        or "wp-caption-text" in XML_SPACE.split(classes)
        or _CLASS_WORD.search(classes)
        or (_CLASS_WORD.search(ident) and not _is_anchor(element, ident))
    ):
        limit = BLOCK_LIMIT
    elif not limit and _BYLINE.search(f" {classes} {ident if not _is_anchor(element, ident) else ''} "):
        limit = BYLINE_LIMIT
    return limit


# every word the rules of boilerplate_limit look for, in any case: one search rules most elements out
_RULE_WORDS = (*_CLASS_WORDS, "respond", "wp-caption-text", *_BYLINE_WORDS.split("|"))
# without the words that hold another of them ("article-date" holds "date"): the same answers
_ANY_RULE_WORD = LowercaseWords(
    "|".join(
        re.escape(word)
        for word in sorted(set(_RULE_WORDS))
        if not any(o != word and o in word for o in _RULE_WORDS)
    )
)


def _text_length(element: Any) -> int:
    return normalized_length(element.text_content())


def remove(element: Any) -> None:
    """Detach ``element``, keeping its tail text, which belongs to the parent."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# A kicker is a label of a few words: the topic or section a template prints above the headline.
_KICKER_WORDS = 6


def _remove_kickers(work: Any) -> None:
    """The short heading right above the headline, in the headline's own box ("MIDDLE EAST
    CRISIS", "Analysis"): a label of the page's topic, which the reader sees above the headline,
    not the article's first line. A logo ``<h1>`` (no text) has no kicker."""
    # the headline only: a body that sets its sections in <h1>s keeps their headings
    headline = next((h1 for h1 in work.iter("h1") if h1.text_content().strip()), None)
    label = headline.getprevious() if headline is not None else None
    if (
        label is not None
        and label.tag in _HEADINGS
        and 0 < len(label.text_content().split()) <= _KICKER_WORDS
    ):
        remove(label)


def compile_selectors(xpaths: tuple[str, ...]) -> tuple[XPath, ...]:
    return tuple(XPath(xpath, namespaces=_RE_NS) for xpath in xpaths)


def _twin(element: Any, tree: Any, copy: Any) -> Any | None:
    """The element of ``copy`` (a deep copy of ``tree``, unchanged yet) at ``element``'s place;
    None for an element outside ``tree`` (what libxml2 puts after a broken document's end)."""
    path: list[int] = []
    node = element
    while node is not tree:
        parent = node.getparent()
        if parent is None:
            return None
        path.append(parent.index(node))
        node = parent
    for position in reversed(path):
        copy = copy[position]
    return copy


def _candidates(work: Any, worded: list[Any] | None) -> list[Any]:
    """The elements ``boilerplate_limit`` may give a limit, in document order: with a rule
    word in their class or id (``worded``, when the page's values were searched already), and
    captions, forms and "back to top" links."""
    if worded is None:
        return _CANDIDATES(work)
    tagged = [e for e in work.iter("a", "figcaption", "form") if e.tag != "a" or e.get("href") == "#top"]
    # a rule word inside an SVG, a navigation block or a kicker left with it
    return in_document_order(work, [e for e in worded if in_tree(e, work)], tagged)


def pruned_copy(tree: Any, selectors: tuple[XPath, ...] = (), named: NamedElements | None = None) -> Any:
    """A copy of ``tree`` without boilerplate blocks and without what ``selectors`` match.
    ``named``: the tree's values (``Page.named``); the elements with a rule word are taken
    from it instead of testing every element of the copy."""
    return pruned_copy_following(tree, selectors, named)[0]


def pruned_copy_following(
    tree: Any,
    selectors: tuple[XPath, ...] = (),
    named: NamedElements | None = None,
    follow: Callable[[str], object] | None = None,
) -> tuple[Any, list[Any]]:
    """``pruned_copy``, and the elements of the copy whose class or id value ``follow``
    accepts and that pruning left in it, in document order: what ``named.elements(follow,
    CLASS_AND_ID)`` would give on the copy, without listing the copy's values again."""
    work = deepcopy(tree)
    worded = None
    followed: list[Any] = []
    if named is not None:
        # located in the copy by their place, before anything is removed from it
        worded = [
            twin
            for element in named.elements(_names_a_rule_word, CLASS_AND_ID)
            if (twin := _twin(element, tree, work)) is not None
        ]
        if follow is not None:
            followed = [
                twin
                for element in named.elements(follow, CLASS_AND_ID)
                if (twin := _twin(element, tree, work)) is not None
            ]
    # gone first: every later walk over the tree (ours, trafilatura's, readability's) is shorter
    etree.strip_elements(work, *_NEVER_TEXT, with_tail=False)
    # as trafilatura's own parser drops them: comment nodes between a paragraph's pieces
    # (the "<!---->" markers of server-rendered Vue and React pages) break its text walk
    etree.strip_tags(work, etree.Comment, etree.ProcessingInstruction)
    for nav in reversed(_PLAIN_NAV(work)):
        remove(nav)
    _remove_kickers(work)
    # reversed document order: every element comes after its descendants
    for element in reversed(_candidates(work, worded)):
        limit = boilerplate_limit(element)
        if limit and _text_length(element) < limit:
            remove(element)
    for selector in selectors:
        for element in selector(work):
            remove(element)
    if follow is not None and named is None:
        followed = NamedElements(work, ("class", "id")).elements(follow)
    return work, [element for element in followed if in_tree(element, work)]
