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

import charset_normalizer
from lxml import etree
from lxml import html as lxml_html
from lxml.etree import ParserError
from w3lib.encoding import html_body_declared_encoding

from crawler.pages.double_encoding import undo_double_encoding
from crawler.pages.markup import (
    PARSER_DEPTH,
    cap_nodes,
    depth_exceeds,
    fit_window,
    flatten_markup,
    flatten_tree,
    needs_census,
)
from crawler.pages.naming import NamedElements

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
# Every element an HtmlElement, chosen in C. lxml.html's own lookup is a Python function
# called each time an element is touched (millions of calls a minute: a tenth of the work on
# a page); what it adds, form and input classes, nothing here or in trafilatura uses.
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)
_END_OF_DOCUMENT = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DETECT_BYTES = 256 * 1024
# The most used legacy encodings on the web, in order (W3Techs), for ties in detection.
_WEB_CODE_PAGES = ("cp1252", "cp1251", "shift_jis", "gb18030", "euc_kr", "cp1250", "big5", "euc_jp", "cp1256")
# A lossy decode is dropped as undecodable from this many U+FFFD, and this share of the
# non-ASCII characters: a stray byte in a long page is not worth losing the article for.
UNDECODABLE_MIN = 20
UNDECODABLE_SHARE = 0.05
# UTF-16 is told by its NUL bytes: in this many first bytes, at least this share of one half's
# positions (a page of CJK text has fewer) and at most that share of the other's.
_UTF16_SAMPLE = 4096
_UTF16_NULS = 0.3
_UTF16_STRAY = 0.02
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_C0_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _without_control_characters(markup: str) -> str:
    """``markup`` without the control characters XML does not allow. Most pages hold none:
    a pass in C over the UTF-8 bytes tells (in UTF-8 a byte below 0x20 is always that
    character), where the regular expression takes 10 ns a character."""
    data = markup.encode("utf-8", "surrogatepass")
    if (
        len(data.translate(None, _C0_BYTES)) == len(data)
        and "\ufffe" not in markup
        and "\uffff" not in markup
    ):
        return markup
    return _CONTROL_CHARACTERS.sub("", markup)


# in a record's fields also DEL and the C1 controls, which no text means (a JSON "\u0000" included)
_FIELD_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def without_controls(value: Any) -> Any:
    """``value`` with control characters removed from every string in it (lists and dicts too)."""
    if isinstance(value, str):
        return _FIELD_CONTROLS.sub("", value) if _FIELD_CONTROLS.search(value) else value
    if isinstance(value, list):
        return [without_controls(item) for item in value]
    if isinstance(value, dict):
        return {key: without_controls(item) for key, item in value.items()}
    return value


def _codec_name(encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return None
    # rot13, base64 and friends are codecs too, but not text encodings
    return info.name.replace("-", "_") if getattr(info, "_is_text_encoding", True) else None


def _detected(body: bytes) -> tuple[str, str] | None:
    """The encoding the bytes themselves point to, when no declaration fits them.

    charset-normalizer decodes with each plausible encoding and keeps the one whose text
    is least chaotic; its answer is taken only when it decodes the whole body strictly.
    """
    # the non-ASCII runs carry the evidence; the markup around them is ASCII in every candidate
    sample = body if len(body) <= _DETECT_BYTES else body[:_DETECT_BYTES]
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    # a short text fits several code pages equally well: the one the web uses most among them
    tied = {
        name
        for match in matches
        if match.chaos == best.chaos and match.coherence == best.coherence
        for name in match.could_be_from_charset
    }
    preferred = next((name for name in _WEB_CODE_PAGES if name in tied), best.encoding)
    codec = _codec_name(preferred)
    if not codec:
        return None
    try:
        return body.decode(codec), codec
    except UnicodeDecodeError:
        return None


def _utf16(body: bytes) -> tuple[str, str, bool] | None:
    """UTF-16 text, with or without a byte order mark, whatever the page declares.

    Markup is mostly ASCII, so UTF-16 shows as a NUL in every other byte: in the odd
    positions for little-endian, the even ones for big-endian. Valid UTF-8 decodes those
    bytes without complaint (NUL is ASCII), and the page would be taken for binary.
    """
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not body.startswith(
        codecs.BOM_UTF32_LE
    ):
        codec = "utf_16"
    else:
        sample = body[:_UTF16_SAMPLE]
        half = len(sample) // 2
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd >= half * _UTF16_NULS and even <= half * _UTF16_STRAY:
            codec = "utf_16_le"
        elif even >= half * _UTF16_NULS and odd <= half * _UTF16_STRAY:
            codec = "utf_16_be"
        else:
            return None
    body = body[: len(body) - len(body) % 2]
    try:
        return body.decode(codec), codec, False
    except UnicodeDecodeError:  # a lone surrogate: the damage shows as U+FFFD, as for UTF-8
        return body.decode(codec, errors="replace"), codec, True


def decode_body(body: bytes, declared: str | None) -> tuple[str, str]:
    """Decode ``body``: the text and the encoding used (see ``decode_lossy``)."""
    text, encoding, _ = decode_lossy(body, declared)
    return text, encoding


def decode_lossy(body: bytes, declared: str | None) -> tuple[str, str, bool]:
    """Decode ``body``, correcting a declared charset that is plainly wrong.

    Returns the text, the encoding used, and whether undecodable bytes were replaced
    (U+FFFD that the page itself holds, a common CMS artefact, is text like any other). Valid UTF-8 with non-ASCII bytes
    is almost never anything but UTF-8, so it beats a declared single-byte
    charset. A declaration that does not decode the bytes is checked against the
    page's own ``<meta charset>``, then against what the bytes themselves are
    (charset-normalizer): a cp1251 or Shift_JIS page declared UTF-8 comes out right.
    When nothing decodes them, the bytes are decoded as UTF-8 with U+FFFD for each
    undecodable byte, so that the damage shows (see ``undecodable_share``) instead of
    turning into plausible-looking mojibake.
    """
    codec = _codec_name(declared) or "utf_8"
    if not codec.startswith("utf_16") and b"\x00" in body[:_UTF16_SAMPLE]:
        utf16 = _utf16(body)
        if utf16 is not None:
            return utf16
    if codec in _SINGLE_BYTE and not body.isascii():
        lenient = body.decode("utf-8", errors="replace")
        bad = lenient.count("\ufffd")
        multibyte = sum(1 for ch in lenient if ord(ch) > 127) - bad
        # UTF-8 with at most a stray byte or two (a pasted cp1252 dash) is still UTF-8.
        if multibyte and bad * 20 <= multibyte:
            return lenient, "utf-8", bool(bad)
    try:
        return body.decode(codec), codec, False
    except UnicodeDecodeError:
        pass
    # The header lied: the page's own <meta charset> comes next, then the bytes themselves.
    in_body = _codec_name(html_body_declared_encoding(body[:4096]))
    if in_body and in_body != codec:
        try:
            return body.decode(in_body), in_body, False
        except UnicodeDecodeError:
            pass
    lenient = body.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    if bad <= sum(1 for ch in lenient if ord(ch) > 127) - bad:
        # at least as many valid UTF-8 sequences as stray bytes (a pasted cp1252 quote): UTF-8;
        # text in a single-byte code page almost never forms valid UTF-8 sequences
        return lenient, "utf_8", True
    detected = _detected(body)
    if detected is not None:
        return *detected, False
    return lenient, "utf_8", True


def undecodable_share(text: str) -> float:
    """The share of the non-ASCII characters that are U+FFFD, bytes no encoding could read."""
    bad = text.count("\ufffd")
    if not bad:
        return 0.0
    return bad / max(1, sum(1 for ch in text if ord(ch) > 127))


@dataclass(frozen=True)
class PageLimits:
    """What one page may cost: every per-page bound of parsing (settings NEWS_PAGE_MAX_*)."""

    max_html_chars: int = 3_000_000  # markup beyond this is cut off before parsing
    max_json_ld_chars: int = 1_000_000  # a JSON-LD block longer than this is not read
    max_depth: int = 250  # elements nested deeper than this are unwrapped (their text kept)
    # nodes (elements, attributes, text) built into a tree, whatever the markup holds (see
    # cap_nodes): each costs up to about 1.1 KB at the peak of extraction (the tree, its
    # pruned copy, trafilatura's copies); the largest real pages hold about 45,000
    max_nodes: int = 100_000

    @classmethod
    def from_settings(cls, settings: Any) -> PageLimits:
        limits = cls(
            max_html_chars=settings.getint("NEWS_PAGE_MAX_HTML_CHARS"),
            max_json_ld_chars=settings.getint("NEWS_PAGE_MAX_JSON_LD_CHARS"),
            max_depth=settings.getint("NEWS_PAGE_MAX_DEPTH"),
        )
        for name, value in vars(limits).items():
            if value < 1:
                raise ValueError(f"NEWS_PAGE_{name.upper()}: {value} is not a positive number")
        return limits


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
    limits: PageLimits = field(default_factory=PageLimits, repr=False)
    # what the limits cut from this page ("html_truncated", ...), counted as news/extract/<note>
    notes: list[str] = field(default_factory=list, repr=False)
    # the HTTP exchange as received, for a WARC copy of the page (NEWS_WARC_OUTPUT); never sent
    # to the extraction workers
    http_headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    request_headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _lossy: bool = field(default=False, init=False, repr=False, compare=False)

    @cached_property
    def decoded(self) -> tuple[str, str]:
        text, encoding, self._lossy = decode_lossy(self.body, self.declared_encoding)
        if encoding.replace("-", "_").lower() in ("utf_8", "utf8"):
            text = undo_double_encoding(text, self.body)
        return text, encoding

    @property
    def undecodable(self) -> bool:
        """Whether no encoding reads this page: many bytes, and a good share of them, were replaced."""
        text = self.text
        if not self._lossy or text.count("\ufffd") < UNDECODABLE_MIN:
            return False
        return undecodable_share(text) > UNDECODABLE_SHARE

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
        markup = self.text
        if len(markup) > self.limits.max_html_chars:
            window = fit_window(markup, self.limits.max_html_chars, self.limits.max_json_ld_chars)
            markup = window.markup
            self.notes += ["json_ld_skipped"] * window.json_ld_skipped + ["html_truncated"] * window.truncated
        markup = _without_control_characters(_XML_DECLARATION.sub("", markup))
        # A template that closes </body></html> before the article (a header include with its own
        # end tags) makes libxml2 drop everything after them; browsers, following HTML5, put what
        # follows into the body. Without the end tags libxml2 does the same.
        markup = _END_OF_DOCUMENT.sub("", markup)
        if not markup.strip():
            return None
        # the nodes the tree would hold, bounded before it is built (a wall of 118,000 tag links
        # took a worker to 800 MB); on an ordinary page, a count or two
        if needs_census(markup, self.limits.max_nodes):
            census = cap_nodes(markup, self.limits.max_nodes, self.limits.max_depth)
            markup = census.markup
            self.notes += ["nodes_capped"] * (census.kept < census.nodes or census.attributes_capped)
            self.notes += ["markup_flattened"] * census.flattened + ["html_truncated"] * census.truncated
        try:
            tree = lxml_html.document_fromstring(markup, parser=_PARSER, base_url=self.url)
            # one check on an ordinary page: nothing nests that deep
            if depth_exceeds(tree, self.limits.max_depth):
                if depth_exceeds(tree, PARSER_DEPTH):  # the parser gave up: the rest of the page is lost
                    markup, _ = flatten_markup(markup, self.limits.max_depth)
                    tree = lxml_html.document_fromstring(markup, parser=_PARSER, base_url=self.url)
                flatten_tree(tree, self.limits.max_depth)
                self.notes.append("markup_flattened")
        except (ParserError, ValueError) as exc:
            logger.debug("Unparseable HTML at %s: %s", self.url, exc)
            return None
        for script in tree.iter("script"):
            if script.text and len(script.text) > self.limits.max_json_ld_chars:
                # read by us, trafilatura and htmldate alike (JSON-LD), or never text: cleared once, here
                if "ld+json" in (script.get("type") or ""):
                    self.notes.append("json_ld_skipped")
                script.text = ""
        return tree

    @cached_property
    def named(self) -> NamedElements | None:
        """The tree's elements by their class, id, rel, itemprop and data-* values."""
        return NamedElements(self.tree) if self.tree is not None else None

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

    @cached_property
    def _metas(self) -> list[tuple[str, str]]:
        """(name, content) of every ``<meta>`` with a content, in page order: read once, asked often."""
        if self.tree is None:
            return []
        pairs: list[tuple[str, str]] = []
        for element in self.tree.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop") or ""
            content = (element.get("content") or "").strip()
            if content:
                pairs.append((key.strip().lower(), content))
        return pairs

    def meta(self, *names: str) -> list[str]:
        """Values of ``<meta>`` tags whose name, property or itemprop is one of ``names``."""
        wanted = {name.lower() for name in names}
        return [content for key, content in self._metas if key in wanted]


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
