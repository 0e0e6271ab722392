"""trafilatura's rules for the author, the categories and the tags, read from the named elements.

trafilatura states them as XPath expressions that test the attributes of every element of
the page (``//*[contains(@itemprop, 'author') or re:test(@class, '[Aa]uthor|...')]``): 5 to
10 ms each on a large page, more than the rest of the fields together. The same conditions
are tested here on the few elements whose class, id, rel, itemprop or data-* values hold one
of their words (``crawler/pages/naming.py``), and give the same answers in the same order:
``tests/test_markup_rules.py`` holds them against trafilatura's own functions
(``extract_author``, ``extract_catstags``), so a change on either side shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from copy import deepcopy
from itertools import chain
from typing import Any

from lxml.etree import XPath
from trafilatura.baseline import block_text
from trafilatura.metadata import normalize_authors
from trafilatura.utils import line_processing, trim
from trafilatura.xml import delete_element

from crawler.pages.naming import CLASS_AND_ID, NamedElements, in_tree
from pipelines.extraction.placement import in_document_order

Rule = Callable[[Any], bool]

# --- the author (trafilatura.metadata.extract_author) ---

# A superset of every value the author rules and the discard rule below look for: the
# elements without such a value are never looked at.
_AUTHOR_VALUE = re.compile(
    r"[Aa]uthor|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name|screenname|writer"
    r"|[Bb]yline|^(?:username|byl|BBL)$"
).search
_DISCARD_VALUE = re.compile(
    r"[Cc]omment|ProductReviews|^(?:title|date)$|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    r"|print|category|meta-date|meta-reviewer|Figure"
).search

_TAGS_1 = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_CLASS_1 = re.compile("author-?name|AuthorName|authorName")
_TAGS_2 = frozenset({"a", "div", "h3", "h4", "p", "span"})
_ID_2 = re.compile("author|zuozhe|bianji|xiaobian")
_CLASS_2 = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_ID_3 = re.compile("[Aa]uthor")
_CLASS_3 = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    "|print|category|meta-date|meta-reviewer"
)
# removed with everything in them, after the discard rule
_ALWAYS_DISCARDED = frozenset({"time", "figure"})


def _author_rule_1(element: Any, discarded: set[Any]) -> bool:
    """``//*[self::a or self::address or ...][@rel='author' or ... or re:test(@class, ...)] | //author``"""
    if element.tag == "author":
        return True
    if element.tag not in _TAGS_1:
        return False
    get = element.get
    return (
        get("rel") == "author"
        or get("id") == "author"
        or get("class") == "author"
        or get("itemprop") == "author name"
        # a <rel> child's text as it reads once the discarded elements in it are gone
        or any(child.tag == "rel" and "".join(_pruned_text(child, discarded)) == "me" for child in element)
        or get("data-testid") in ("AuthorCard", "AuthorURL")
        or _CLASS_1.search(get("class") or "") is not None
    )


def _author_rule_2(element: Any, discarded: set[Any]) -> bool:
    """``//*[self::a or self::div or self::h3 or ...][@class='byline' or ... or re:test(@class, ...)]``"""
    if element.tag not in _TAGS_2:
        return False
    get = element.get
    return (
        get("class") in ("byline", "username", "byl", "BBL")
        or "author" in (get("itemprop") or "")
        or _ID_2.search(get("id") or "") is not None
        or _CLASS_2.search(get("class") or "") is not None
    )


def _author_rule_3(element: Any, discarded: set[Any]) -> bool:
    """``//*[contains(@data-component, 'Byline') or ... or re:test(@class, '[Aa]uthor|...')]``"""
    get = element.get
    return (
        "Byline" in (get("data-component") or "")
        or "author" in (get("itemprop") or "")
        or _ID_3.search(get("id") or "") is not None
        or _CLASS_3.search(get("class") or "") is not None
    )


def _discarded(element: Any) -> bool:
    """trafilatura's AUTHOR_DISCARD_XPATHS' first rule: comments, sidebars, quotes, captions."""
    if element.tag not in _DISCARD_TAGS:
        return False
    get = element.get
    ident, classes = get("id"), get("class")
    return (
        ident == "comments"
        or classes in ("comments", "title", "date")
        or _DISCARD_ID.search(ident or "") is not None
        or _DISCARD_CLASS.search(classes or "") is not None
        or "Figure" in (get("data-component") or "")
    )


def find_author(tree: Any, named: NamedElements) -> str | None:
    """What ``trafilatura.metadata.extract_author(tree)`` returns, without copying the page.

    trafilatura copies the tree, removes comments, sidebars, times and figures, and takes the
    first element of its three rules, in order, whose text is 3 to 119 characters long. Here
    the elements inside a removed one are skipped, and the text of an element that holds a
    removed one is read from a copy of that element alone, with the same removals made.
    """
    discarded = set(named.elements(_DISCARD_VALUE))
    discarded = {element for element in discarded if _discarded(element)}
    candidates = named.elements(_AUTHOR_VALUE)
    extra = [*tree.iter("author"), *(rel.getparent() for rel in tree.iter("rel"))]
    if extra:
        candidates = in_document_order(tree, candidates, [e for e in extra if e is not None])
    contents: dict[Any, str] = {}  # an element two rules take is read once
    for rule in (_author_rule_1, _author_rule_2, _author_rule_3):
        for element in candidates:
            if not rule(element, discarded) or _removed(element, discarded) or not in_tree(element, tree):
                continue
            content = contents.get(element)
            if content is None:
                content = contents[element] = trim(" ".join(_pruned_text(element, discarded)))
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


def _removed(element: Any, discarded: set[Any]) -> bool:
    return any(
        node in discarded or node.tag in _ALWAYS_DISCARDED
        for node in chain((element,), element.iterancestors())
    )


def _pruned_text(element: Any, discarded: set[Any]) -> Iterator[str]:
    """``element.itertext()`` as it reads once the discarded elements under it are removed
    (their tails kept, joined to what precedes them, as trafilatura's ``delete_element`` does)."""
    inside = [node for node in element.iterdescendants() if node in discarded]
    timed = [node for node in element.iterdescendants(*_ALWAYS_DISCARDED)]
    if not inside and not timed:
        return element.itertext()
    copy = deepcopy(element)
    twin = dict(zip(element.iter(), copy.iter(), strict=True))
    for node in (*inside, *timed):  # the discard rule's matches first, then times and figures
        delete_element(twin[node])
    return copy.itertext()


# --- categories and tags (trafilatura.metadata.extract_catstags) ---

# A superset of the class and id values the rules below look for.
_CATSTAGS_VALUE = re.compile("post|meta|entry|filedunder|cat-links|row|tag|topics").search
_CATEGORY_CLASS = re.compile("(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)")
_TAG_CLASS = re.compile("(?:tag|postmeta|meta)")


def _class(element: Any) -> str:
    return element.get("class") or ""


_CATEGORY_RULES: tuple[Rule, ...] = (
    lambda e: (
        e.tag == "div"
        and (_CATEGORY_CLASS.match(_class(e)) is not None or (e.get("id") or "").startswith("postpath"))
    ),
    lambda e: (
        e.tag == "p"
        and (
            _class(e).startswith(("postmeta", "entry-categories"))
            or _class(e) == "postinfo"
            or e.get("id") == "filedunder"
        )
    ),
    lambda e: e.tag == "footer" and _class(e).startswith(("entry-meta", "entry-footer")),
    lambda e: (
        e.tag in ("li", "span")
        and (_class(e) in ("post-category", "postcategory", "entry-category") or "cat-links" in _class(e))
    ),
    lambda e: e.tag == "header" and _class(e) == "entry-header",
    lambda e: e.tag == "div" and _class(e) in ("row", "tags"),
)
_TAG_RULES: tuple[Rule, ...] = (
    lambda e: e.tag == "div" and _class(e) == "tags",
    lambda e: e.tag == "p" and _class(e).startswith("entry-tags"),
    lambda e: (
        e.tag == "div"
        and (
            _class(e) in ("row", "jp-relatedposts", "entry-utility")
            or _TAG_CLASS.match(_class(e)) is not None
        )
    ),
    lambda e: _class(e) == "entry-meta" or "topics" in _class(e) or "tags-links" in _class(e),
)
_SECTION_META = XPath('.//head//meta[@property="article:section" or contains(@name, "subject")][@content]')


def _links_under(elements: list[Any]) -> list[Any]:
    """``(elements)//a[@href]``: the links inside them, once each, in document order."""
    chosen = set(elements)
    links: list[Any] = []
    for element in elements:
        if any(ancestor in chosen for ancestor in element.iterancestors()):
            continue  # its links are those of the enclosing element
        links += [link for link in element.iterdescendants("a") if link.get("href") is not None]
    return links


def catstags_value(value: str) -> bool:
    """Whether a class or id value holds a word the category and tag rules look for."""
    return _CATSTAGS_VALUE(value) is not None


def catstags_candidates(named: NamedElements) -> list[Any]:
    """The elements the category and tag rules look at: a rule's word in their class or id."""
    return named.elements(catstags_value, CLASS_AND_ID)


def find_catstags(metatype: str, tree: Any, candidates: list[Any]) -> list[str]:
    """What ``trafilatura.metadata.extract_catstags(metatype, tree)`` returns; ``candidates``
    are the elements of ``tree`` that ``catstags_candidates`` names, in document order."""
    results: list[str] = []
    href = re.compile("/" + metatype.rstrip("y") + "(?:y|ies|s)?/")
    for rule in _CATEGORY_RULES if metatype == "category" else _TAG_RULES:
        links = _links_under([element for element in candidates if rule(element)])
        results.extend(block_text(link) for link in links if href.search(link.attrib["href"]))
        if results:
            break
    if metatype == "category" and not results:
        results.extend(element.attrib["content"] for element in _SECTION_META(tree))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]
