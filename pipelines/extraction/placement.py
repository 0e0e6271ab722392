"""Where an element sits on the page: in the article, or in a box about other stories.

The tests run in Python on the few elements a step has already picked: an XPath
predicate with an EXSLT regular expression calls back into Python for every element
of the page, which on a large page costs more than the extraction it serves.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from lxml.etree import XPath

from crawler.pages.naming import CLASS_AND_ID

if TYPE_CHECKING:
    from crawler.pages.naming import NamedElements

# Tags and class words of boxes whose names and dates belong to other stories, to
# the site, or to readers.
BOX_TAGS = frozenset({"nav", "footer", "aside"})
_CONTAINERS = frozenset({"html", "body", "main"})


class ClassWords:
    """A search for ``words`` (a regular expression) in a class or id attribute.

    A word counts as a whole class token or as the head or tail of one ("related-posts",
    "relatedArticles", "post_comments"), never inside a longer one: "content-sidebar-wrap"
    and "elementor-widget-container" wrap the article itself, "node--promoted" is a flag,
    and so are "has-comments", "with-sidebar" of the page's layout. ``stems``: a part every
    word holds, in lowercase; an ASCII value without any is ruled out by one quick search
    (most values of a page), the lookarounds run on the rest.
    """

    def __init__(self, words: str, stems: tuple[str, ...]):
        word = f"(?i:{words})"
        self.pattern = re.compile(
            r"(?:^|\s)(?!(?i:has|with|without|no|is)[-_])"
            rf"(?:{word}(?:[-_][^\s]*|[A-Z][^\s]*)?|[^\s]*[-_]{word})(?=\s|$)"
        )
        self._stems = re.compile("|".join(map(re.escape, stems)))

    def search(self, value: str) -> re.Match[str] | None:
        if value.isascii() and self._stems.search(value.lower()) is None:
            return None
        return self.pattern.search(value)


# "widget" is no box word at all: CMSs build the whole page, headline included, of widgets.
OTHER_STORIES = ClassWords(
    r"related|teasers?|recommend(?:ed|ations?)?|more-stories|promos?|sidebars?|comments?|newsletters?",
    ("related", "teaser", "recommend", "more-stories", "promo", "sidebar", "comment", "newsletter"),
)


class LowercaseWords:
    """A case-insensitive search for a pattern of lowercase words. An ASCII value (nearly every
    class and id) is lowered and searched case-sensitively: 2 to 3 times faster than
    ``re.IGNORECASE``, and each new value of a page is searched once."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._lowered = re.compile(pattern)
        self._ignoring_case = re.compile(pattern, re.IGNORECASE)

    def search(self, value: str) -> re.Match[str] | None:
        if value.isascii():
            return self._lowered.search(value.lower())
        return self._ignoring_case.search(value)


@lru_cache(maxsize=32768)
def names(pattern: re.Pattern[str] | LowercaseWords | ClassWords, value: str) -> bool:
    """Whether ``pattern`` finds a word in a class or id value. A page repeats a few hundred
    class values over thousands of elements, and a search for dozens of words costs
    microseconds: each value is searched once."""
    return bool(value) and pattern.search(value) is not None


_CLASS_ID_REL_ITEMPROP = frozenset({"class", "id", "rel", "itemprop"})


def elements_named(
    named: NamedElements, pattern: re.Pattern[str], *, rel_and_itemprop: bool = False
) -> list[Any]:
    """The elements whose class or id (and rel and itemprop) ``pattern`` finds a word in, in
    document order; each distinct value is searched once (``names``)."""
    return named.elements(
        partial(names, pattern), _CLASS_ID_REL_ITEMPROP if rel_and_itemprop else CLASS_AND_ID
    )


# Elements in document order: lxml takes Python lists as node-set variables, and an XPath
# union returns its nodes in document order; no walk over the whole tree in Python.
_UNION = {n: XPath(" | ".join(f"$s{i}" for i in range(n))) for n in range(1, 6)}


def in_other_box(element: Any, *, tags: frozenset[str] = BOX_TAGS, words: ClassWords = OTHER_STORIES) -> bool:
    """Whether an ancestor of ``element`` is navigation, a footer, a sidebar, or a box of
    related stories, comments or a newsletter."""
    for ancestor in element.iterancestors():
        if ancestor.tag in _CONTAINERS:
            continue  # "right-sidebar" on <body> names the layout, not a box
        if ancestor.tag in tags:
            return True
        for value in (ancestor.get("class"), ancestor.get("id")):
            if value and names(words, value):
                return True
    return False


def in_document_order(tree: Any, *groups: list[Any]) -> list[Any]:
    """The elements of every group, once each, in the order the document has them."""
    groups = tuple(group for group in groups if group)
    if not groups:
        return []
    if len(groups) > len(_UNION):
        groups = (*groups[: len(_UNION) - 1], [e for group in groups[len(_UNION) - 1 :] for e in group])
    return _UNION[len(groups)](tree, **{f"s{i}": list(group) for i, group in enumerate(groups)})
