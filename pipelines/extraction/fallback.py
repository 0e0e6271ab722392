"""trafilatura's metadata heuristics, for the fields a page's own markup leaves open.

Our reading of JSON-LD and meta tags comes first (``pipelines/extraction/article.py``).
trafilatura's searches through the page for an author, and htmldate's for a
date, cost more on a large page than the rest of extraction, and are needed on
few pages: each runs at most once per page, and only when its field is still
empty. The order and the clean-up are those of ``trafilatura.metadata.extract_metadata``.
"""

from __future__ import annotations

import logging
from functools import cached_property
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from htmldate import find_date
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document
from trafilatura.utils import line_processing

from crawler.pages.naming import NamedElements
from pipelines.extraction.markup_rules import catstags_candidates, find_author, find_catstags

logger = logging.getLogger(__name__)

_MAX_CHARS = 10_000


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > _MAX_CHARS:
        value = value[: _MAX_CHARS - 1] + "…"
    return line_processing(unescape(value)) or None


class MetadataFallback:
    """Lazily computed metadata of one (pruned) tree; the tree is never modified."""

    def __init__(
        self,
        tree: Any,
        url: str,
        original: Any = None,
        original_named: NamedElements | None = None,
        catstags: list[Any] | None = None,
    ):
        """``catstags``: the elements of ``tree`` the category and tag rules look at
        (``catstags_candidates``), when known."""
        self._tree = tree
        if catstags is not None:
            self._catstags = catstags
        self._url = url
        # bylines and datelines are pruned from the body's tree: their searches see the page
        self._original = tree if original is None else original
        self._original_named = original_named

    @cached_property
    def _catstags(self) -> list[Any]:
        return catstags_candidates(NamedElements(self._tree, ("class", "id")))

    @cached_property
    def _markup(self) -> Document:
        """What meta tags and JSON-LD say, as trafilatura reads them: cheap, one pass each."""
        document = examine_meta(self._tree)
        if document.author and " " not in document.author:
            document.author = None  # a user name, not a person's name
        try:
            document = extract_meta_json(self._tree, document)
        except Exception as exc:  # a bug in trafilatura's JSON-LD reader must not drop the page
            logger.debug("trafilatura JSON-LD metadata failed on %s: %s", self._url, exc)
        return document

    @cached_property
    def title(self) -> str | None:
        return _clean(self._markup.title or extract_title(self._tree))

    @cached_property
    def author(self) -> str | None:
        if self._markup.author:
            return _clean(self._markup.author)
        return _clean(find_author(self._original, self._original_named or NamedElements(self._original)))

    @cached_property
    def sitename(self) -> str | None:
        name = self._markup.sitename or extract_sitename(self._tree)
        # not trafilatura's hostname stand-in either: that is nothing the page states
        if not name or name.casefold() == (urlsplit(self._url).netloc or "").casefold():
            return None
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return _clean(name)

    @cached_property
    def description(self) -> str | None:
        return _clean(self._markup.description)

    @cached_property
    def image(self) -> str | None:
        return _clean(self._markup.image)

    @cached_property
    def categories(self) -> list[str]:
        return list(self._markup.categories or find_catstags("category", self._tree, self._catstags))

    @cached_property
    def tags(self) -> list[str]:
        return list(self._markup.tags or find_catstags("tag", self._tree, self._catstags))

    @cached_property
    def date(self) -> str | None:
        """htmldate on the markup only: its text heuristics read "© 2021" footers as publish dates."""
        url = self._markup.url or extract_url(self._tree, self._url)
        return find_date(self._original, extensive_search=False, original_date=True, url=url)
