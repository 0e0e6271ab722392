"""The class, id, rel, itemprop and data-* values of a page's elements, read once per tree.

Many rules look for a word in these values: dates, bylines, boxes of other stories, and
trafilatura's author and category rules. A page repeats a few hundred distinct values over
thousands of elements. Listed here once, grouped by value, each rule tests each distinct
value once, and no element without a matching value is touched in Python. An XPath
predicate over every element (``//*[contains(@class, ...)]``, ``re:test``) costs several
milliseconds per rule on a large page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

from lxml.etree import XPath

NAMING_ATTRIBUTES = ("class", "id", "rel", "itemprop", "data-testid", "data-component")
CLASS_AND_ID = frozenset({"class", "id"})


@lru_cache(maxsize=8)
def _listing(attributes: tuple[str, ...]) -> XPath:
    return XPath(" | ".join(f"//@{name}" for name in attributes))


def in_tree(element: Any, root: Any) -> bool:
    """Whether ``element`` is ``root`` or inside it. libxml2 puts what follows a broken
    document's end after the root element, where a search from the document finds it and a
    copy of the root does not hold it; an element removed from the tree is outside it too."""
    top = element
    for top in element.iterancestors():  # noqa: B007 (the last one is the top)
        pass
    return top is root


class NamedElements:
    """The elements of one tree by their naming attributes' values.

    The tree must not change while this is in use: it holds the values libxml2 listed,
    each of which points to its element.
    """

    def __init__(self, tree: Any, attributes: tuple[str, ...] = NAMING_ATTRIBUTES):
        # document order: attribute nodes come in the order of their elements
        self._values: list[Any] = _listing(attributes)(tree)
        groups: dict[str, list[int]] = {}
        for position, value in enumerate(self._values):
            group = groups.get(value)
            if group is None:
                groups[str(value)] = [position]  # a plain string: no element kept by the key
            else:
                group.append(position)
        self._groups = groups

    def elements(self, test: Callable[[str], bool], attributes: Collection[str] | None = None) -> list[Any]:
        """The elements with a value that ``test`` accepts (in one of ``attributes``, or in
        any), once each, in document order."""
        positions: list[int] = []
        for value, group in self._groups.items():
            if test(value):
                positions += group
        positions.sort()
        found: list[Any] = []
        seen: set[Any] = set()
        for position in positions:
            value = self._values[position]
            if attributes is not None and value.attrname not in attributes:
                continue
            element = value.getparent()
            if element not in seen:
                seen.add(element)
                found.append(element)
        return found
