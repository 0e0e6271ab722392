"""A fetched page, decoded and parsed once, shared by every pipeline step."""

from __future__ import annotations

import codecs
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from lxml import html as lxml_html
from lxml.etree import ParserError
from w3lib.encoding import html_body_declared_encoding

logger = logging.getLogger(__name__)

# Encodings that decode any byte sequence: a wrong declaration of one of them
# silently turns UTF-8 text into mojibake instead of failing.
_SINGLE_BYTE = {
    "latin_1",
    "iso8859_1",
    "cp1252",
    "iso8859_15",
    "ascii",
    "cp1250",
    "iso8859_2",
}
# huge_tree: without it libxml2 silently drops everything nested deeper than 255 levels.
_PARSER = lxml_html.HTMLParser(huge_tree=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _codec_name(encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return None
    # rot13, base64 and friends are codecs too, but not text encodings
    return info.name.replace("-", "_") if getattr(info, "_is_text_encoding", True) else None


def decode_body(body: bytes, declared: str | None) -> tuple[str, str]:
    """Decode ``body``, correcting a declared charset that is plainly wrong.

    Returns the text and the encoding used. Valid UTF-8 with non-ASCII bytes
    is almost never anything but UTF-8, so it beats a declared single-byte
    charset; a declared UTF-8 that does not decode falls back to cp1252, the
    usual real charset of such pages.
    """
    codec = _codec_name(declared) or "utf_8"
    if codec in _SINGLE_BYTE and not body.isascii():
        lenient = body.decode("utf-8", errors="replace")
        bad = lenient.count("\ufffd")
        multibyte = sum(1 for ch in lenient if ord(ch) > 127) - bad
        # UTF-8 with at most a stray byte or two (a pasted cp1252 dash) is still UTF-8.
        if multibyte and bad * 20 <= multibyte:
            return lenient, "utf-8"
    try:
        return body.decode(codec), codec
    except UnicodeDecodeError:
        pass
    # The header lied: the page's own <meta charset> comes next, then cp1252.
    in_body = _codec_name(html_body_declared_encoding(body[:4096]))
    if in_body and in_body != codec:
        try:
            return body.decode(in_body), in_body
        except UnicodeDecodeError:
            pass
    fallback = "cp1252" if codec == "utf_8" else codec
    return body.decode(fallback, errors="replace"), fallback


@dataclass
class Page:
    """One downloaded page and what every step derives from it, computed once."""

    url: str
    body: bytes = field(repr=False)
    fetched_at: datetime
    source: str
    declared_encoding: str | None = None
    status: int = 200
    hints: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def decoded(self) -> tuple[str, str]:
        return decode_body(self.body, self.declared_encoding)

    @property
    def text(self) -> str:
        return self.decoded[0]

    @property
    def encoding(self) -> str:
        return self.decoded[1]

    @cached_property
    def tree(self) -> lxml_html.HtmlElement | None:
        """The lxml tree, parsed once; ``None`` for an empty or unparseable page."""
        # control characters are not text and not allowed in XML: one stray byte (U+0010) makes
        # lxml's serialisation, and with it trafilatura, lose the element that holds it
        markup = _CONTROL_CHARACTERS.sub("", _XML_DECLARATION.sub("", self.text))
        if not markup.strip():
            return None
        try:
            return lxml_html.document_fromstring(markup, parser=_PARSER, base_url=self.url)
        except (ParserError, ValueError) as exc:
            logger.debug("Unparseable HTML at %s: %s", self.url, exc)
            return None

    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page, ``@graph`` members flattened."""
        if self.tree is None:
            return []
        objects: list[dict[str, Any]] = []
        for script in self.tree.xpath('//script[@type="application/ld+json"]/text()'):
            try:
                data = json.loads(script)
            except (ValueError, RecursionError):
                # CMSs often leave control characters or trailing commas; skip, don't guess.
                continue
            _flatten_json_ld(data, objects)
        return objects

    def meta(self, *names: str) -> list[str]:
        """Values of ``<meta>`` tags whose name, property or itemprop is one of ``names``."""
        if self.tree is None:
            return []
        wanted = {name.lower() for name in names}
        values: list[str] = []
        for element in self.tree.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop") or ""
            if key.strip().lower() in wanted:
                content = (element.get("content") or "").strip()
                if content:
                    values.append(content)
        return values


def _flatten_json_ld(data: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 20:
        return
    if isinstance(data, list):
        for entry in data:
            _flatten_json_ld(entry, out, depth + 1)
    elif isinstance(data, dict):
        if "@graph" in data:
            _flatten_json_ld(data["@graph"], out, depth + 1)
        if "@type" in data:
            out.append(data)


def json_ld_types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1] for k in kinds if k}


ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "AskPublicNewsArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "Report",
    "TechArticle",
    "SatiricalArticle",
}
LISTING_TYPES = {"CollectionPage", "ItemList", "SearchResultsPage", "ProfilePage", "Blog"}


def article_json_ld(page: Page) -> list[dict[str, Any]]:
    """JSON-LD objects of an article type, most specific first."""
    return [obj for obj in page.json_ld if json_ld_types(obj) & ARTICLE_TYPES]
