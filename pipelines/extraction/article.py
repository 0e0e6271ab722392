"""Article fields from a parsed page: trafilatura for the body, page metadata for the rest."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urldefrag

import py3langid
from cssselect import GenericTranslator, SelectorError
from lxml.etree import ParserError, XPath
from lxml.html import fragment_fromstring
from trafilatura import bare_extraction

from crawler.discovery.urls import absolute_http_url, is_home, normalize_url, registered_host, same_site
from crawler.pages.page import Page, article_json_ld, json_ld_types
from crawler.state.template_lines import link_text_key, paragraph_fingerprint, split_lead_in
from pipelines.extraction.authors import clean_authors
from pipelines.extraction.bylines import labelled_lines, visible_bylines
from pipelines.extraction.fallback import MetadataFallback
from pipelines.extraction.markup_rules import catstags_value
from pipelines.extraction.prune import compile_selectors, pruned_copy_following
from pipelines.extraction.standfirst import standfirst
from pipelines.extraction.text import clean_lines, content_hash, count_words
from pipelines.extraction.title import choose_title, clean_text, headings, strip_site_name

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)
T = TypeVar("T")

_TITLE_SEPARATORS = re.compile(r"\s+(?:[-|–—:·»/]|::)\s+")
_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}))?")
_FAVOR = {"precision", "balanced", "recall"}
# enough text to tell a language by; the rest of a long article only costs time
_LANGUAGE_SAMPLE = 3000
# enough to confirm the language the page states: the longer sample only when this disagrees
_LANGUAGE_CHECK = 1000
# XPath's translate(@rel, "CANONICAL", "canonical"): only those capitals are lowered
_CANONICAL_CASE = str.maketrans("CANONICAL", "canonical")
_ORGANISATION_TYPES = {"Organization", "NewsMediaOrganization", "Corporation", "WebSite", "WebPage"}


class NotAnArticle(Exception):
    """The page is a listing, a stub or empty."""


@dataclass(frozen=True)
class ExtractOptions:
    min_words: int = 50
    strip: tuple[str, ...] = ()
    favor: str = "balanced"
    strip_xpaths: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        if self.favor not in _FAVOR:
            raise ValueError(f"NEWS_EXTRACT_FAVOR={self.favor!r}: expected one of {sorted(_FAVOR)}")
        xpaths = []
        for selector in self.strip:
            try:
                xpaths.append(GenericTranslator().css_to_xpath(selector))
            except SelectorError as exc:
                raise ValueError(f"NEWS_EXTRACT_STRIP: bad CSS selector {selector!r}: {exc}") from exc
        object.__setattr__(self, "strip_xpaths", tuple(xpaths))


_compiled = lru_cache(maxsize=64)(compile_selectors)


def _first(*values: Any) -> str | None:
    """The first non-empty string among values, looking into lists, JSON-LD objects and callables."""
    for value in values:
        if callable(value):  # a fallback that is computed only when it is reached
            value = value()
        if isinstance(value, list):
            found = _first(*value)
            if found:
                return found
            continue
        if isinstance(value, dict):
            # never the @id: that is a node identifier, not a value
            value = value.get("name") or value.get("url")
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def _resolve(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    """A JSON-LD ``{"@id": ...}`` reference replaced by the node it points to, when the page has it."""
    if isinstance(value, list):
        return [_resolve(entry, by_id) for entry in value]
    if isinstance(value, dict) and "name" not in value and "url" not in value:
        ref = value.get("@id")
        if isinstance(ref, str) and ref in by_id:
            return by_id[ref]
    return value


def _ld_people(value: Any, by_id: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Names from a JSON-LD author/creator value, split into people and organisations. An
    organisation listed beside a person ("Paula Steiger", "SDA") is a co-author, an agency or a
    desk, and counts with the people."""
    people: list[str] = []
    organisations: list[str] = []
    for entry in value if isinstance(value, list) else [value]:
        entry = _resolve(entry, by_id)
        is_org = isinstance(entry, dict) and bool(json_ld_types(entry) & _ORGANISATION_TYPES)
        (organisations if is_org else people).extend(_ld_names(entry, by_id))
    if people and organisations and isinstance(value, list):
        names = [name for entry in value for name in _ld_names(_resolve(entry, by_id), by_id)]
        return names, []
    return people, organisations


# "Written by" in Twitter's card labels: the data beside it is the author (WordPress SEO plugins)
_AUTHOR_LABEL = re.compile(
    r"^(?:(?:written|posted|verfasst|geschrieben|écrit|escrito|scritto)\s+(?:by|von|par|por|da|door)|"
    r"authors?|autor(?:in)?|auteur|autore)$",
    re.IGNORECASE,
)
# anchored at a word's start: without it a long run with no dot is rescanned from every letter
_DOMAIN = re.compile(r"(?<![\w-])[\w-]+(?:\.[\w-]+)+")


def _card_authors(page: Page) -> list[str]:
    """The data of a card whose label says "Written by"; one pass over the meta tags."""
    if page.tree is None:
        return []
    labels: dict[str, str] = {}
    data: dict[str, str] = {}
    for element in page.tree.iter("meta"):
        key = (element.get("name") or element.get("property") or "").strip().lower()
        value = (element.get("content") or "").strip()
        if key.startswith("twitter:label") and value:
            labels.setdefault(key.removeprefix("twitter:label"), value)
        elif key.startswith("twitter:data") and value:
            data.setdefault(key.removeprefix("twitter:data"), value)
    return [data[n] for n, label in labels.items() if n in data and _AUTHOR_LABEL.match(label.strip(" :"))]


def _names_the_site(raw: str, host: str) -> bool:
    """A name that holds the site's own domain ("Deutsche Welle (www.dw.com)", "hessenschau.de,
    Frankfurt") is the publisher's, not a person's."""
    for token in _DOMAIN.findall(raw[:300].casefold()):  # a name, not a document
        token = token.removeprefix("www.")
        if host == token or host.endswith("." + token):
            return True
    return False


def _authors(
    page: Page,
    *,
    ld: list[dict[str, Any]],
    by_id: dict[str, dict[str, Any]],
    site_name: str | None,
    tree: Any,
    fallback: MetadataFallback,
) -> list[str]:
    """The article's authors: people named in the markup, else in the visible byline, else the
    organisation the markup names. A publisher standing in as the author ("Lesotho Times") is
    the byline of last resort, not a person who wrote the piece."""
    people: list[str] = []
    organisations: list[str] = []
    for obj in ld:
        for key in ("author", "creator"):
            found_people, found_orgs = _ld_people(obj.get(key), by_id)
            people += found_people
            organisations += found_orgs
    host = registered_host(page.url)
    publisher = {_name_key(name) for name in (site_name, host.split(".")[0]) if name}
    for obj in ld:
        publisher.add(_name_key(_first(_resolve(obj.get("publisher"), by_id)) or ""))
    publisher.discard("")

    def persons(names: list[str], *, lowercase: bool = False) -> list[str]:
        cleaned = clean_authors(names, lowercase=lowercase)
        return [name for name in cleaned if _name_key(name) not in publisher]

    meta = page.meta("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
    site_meta = [name for name in meta if _names_the_site(name, host)]
    meta = [name for name in meta if name not in site_meta]
    # after the author tags: a theme's card may name the account that posted the piece
    card = _card_authors(page)
    found = persons(people) or persons(meta) or persons(card)
    if found:
        return found
    visible = visible_bylines(tree, page.named)
    # an explicit "Written by" line under the text before trafilatura's guess
    found = persons(visible) or persons(labelled_lines(tree)[:1]) or persons([fallback.author or ""])
    if found:
        return found
    # the publisher, or a one-person site named after its author, as the page names it; an
    # agency written in lowercase ("dpa") is a name when the markup says it is an organisation
    return (
        clean_authors(people)
        or clean_authors(organisations, lowercase=True)
        or clean_authors(meta)
        or clean_authors(card)
        or clean_authors(visible)
        or clean_authors(site_meta)
    )


def _name_key(name: str) -> str:
    return re.sub(r"\W", "", name.casefold())


def _ld_names(value: Any, by_id: dict[str, dict[str, Any]]) -> list[str]:
    """Names from a JSON-LD author/creator value: strings, Person objects, @id references, lists."""
    if isinstance(value, list):
        return [name for entry in value for name in _ld_names(entry, by_id)]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = _resolve(value, by_id)
        name = value.get("name")
        if isinstance(name, str):
            return [name]
    return []


# control characters other than tab, line feed, form feed and carriage return; the replacement character
_NOT_TEXT = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f]")


def _looks_binary(text: str) -> bool:
    """Bytes that are not text at all: control characters and undecodable bytes."""
    sample = text[:4096]
    if not sample:
        return False
    return len(_NOT_TEXT.findall(sample)) / len(sample) > 0.05


def _title_suffix(html_title: str | None, h1: str | None) -> str | None:
    """The site name a ``<title>`` adds after the headline, when the ``<h1>`` shows which part that is."""
    if not html_title or not h1 or not html_title.startswith(h1):
        return None
    rest = html_title[len(h1) :]
    match = _TITLE_SEPARATORS.match(rest)
    return rest[match.end() :].strip() or None if match else None


def _language(page: Page, text: str) -> tuple[str | None, str | None]:
    """ISO 639-1 code and the full locale (``en-GB``) when the page states one."""
    tree = page.tree
    declared: list[str] = []
    if tree is not None:
        for value in (
            tree.get("lang"),
            tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
            *page.meta("content-language", "og:locale", "language", "dc.language"),
            *[obj.get("inLanguage") for obj in article_json_ld(page)],
        ):
            if isinstance(value, str) and value.strip():
                declared.append(value.strip())
    parsed = [(m.group(1).lower(), (m.group(2) or "").upper()) for m in map(_LANG.match, declared) if m]
    parsed = [(lang, region) for lang, region in parsed if len(lang) == 2]
    hint = page.hints.get("language")
    if not parsed and isinstance(hint, str):
        # the source's language (sources file, Google News sitemap) when the page states none
        match = _LANG.match(hint)
        if match:
            parsed = [(match.group(1).lower(), (match.group(2) or "").upper())]
    if parsed:
        lang = parsed[0][0]
        # a region stated anywhere for the same language (og:locale=en_GB beside lang="en")
        region = next((r for code, r in parsed if code == lang and r), "")
        locale = f"{lang}-{region}" if region else lang
        if len(text) >= 400:
            detected, _ = py3langid.classify(text[:_LANGUAGE_CHECK])
            if detected != lang and len(text) > _LANGUAGE_CHECK:
                detected, _ = py3langid.classify(text[:_LANGUAGE_SAMPLE])
            if detected != lang and len(detected) == 2:
                # templates often keep a default lang="en" on every page
                return detected, detected
        return lang, locale
    if len(text) >= 40:
        detected, _ = py3langid.classify(text[:_LANGUAGE_SAMPLE])
        return (detected, None) if len(detected) == 2 else (None, None)
    return None, None


def _canonical(page: Page) -> str:
    tree = page.tree
    candidates: list[str] = []
    if tree is not None:
        candidates += [
            link.get("href")
            for link in tree.iter("link")
            if link.get("rel", "").translate(_CANONICAL_CASE) == "canonical" and link.get("href") is not None
        ]
    candidates += page.meta("og:url")
    for candidate in candidates:
        url = absolute_http_url(candidate, page.url)
        # A canonical pointing to another site or, on an article, to the home page is a template bug.
        if url and same_site(url, page.url) and (not is_home(url) or is_home(page.url)):
            return normalize_url(url)
    return normalize_url(page.url)


def _tags(page: Page, ld: list[dict[str, Any]], found: Callable[[], list[str]]) -> list[str]:
    """The tags the markup declares; trafilatura's search of the page (tag links) only when it declares none."""
    raw: list[str] = []
    raw += page.meta("article:tag", "parsely-tags", "news_keywords", "keywords", "sailthru.tags")
    for obj in ld:
        keywords = obj.get("keywords")
        raw += keywords if isinstance(keywords, list) else [keywords] if isinstance(keywords, str) else []
    if not raw:
        raw = found()
    tags: list[str] = []
    seen: set[str] = set()
    for entry in raw:
        for tag in re.split(r"\s*[,;]\s*", str(entry)):
            tag = " ".join(tag.split())
            if tag and len(tag) <= 80 and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tags[:50]


def _trafilatura(tree: Any, url: str, favor: str) -> str:
    document = bare_extraction(
        tree,
        url=url,
        with_metadata=False,  # see MetadataFallback: only what the markup leaves open
        include_comments=False,
        include_images=False,
        include_tables=True,
        include_links=False,
        favor_precision=favor == "precision",
        favor_recall=favor == "recall",
    )
    return (document.text if document is not None else None) or ""


# Paragraph-like blocks of the (pruned) page, and how long one must be to count as prose.
_BLOCKS = XPath(
    "//p|//div[not(.//p or .//div or .//li or .//td)]|//li[not(.//p or .//div or .//li)]"
    "|//td[not(.//p or .//div or .//li or .//td)]"
)
_PROSE_CHARS = 150


def page_prose_words(tree: Any) -> int:
    """Words in the page's paragraphs of prose, wherever they sit: what an extractor that
    found the article should come close to. Blocks inside links are teasers, not prose."""
    total = 0
    for block in _BLOCKS(tree):
        text = block.text_content()
        if len(text) >= _PROSE_CHARS:
            link_chars = sum(len(a.text_content()) for a in block.iter("a"))
            if link_chars * 2 < len(text):
                total += count_words(text)
    return total


# Links looked at for "Read more: <headline>" lines: a bound on a page's cost.
_MAX_LINKS = 20000


def _squeezed(text: str) -> str:
    return "".join(link_text_key(text).split())


def link_paragraphs(tree: Any, url: str, text: str) -> list[int]:
    """The fingerprints of the body's paragraphs made of a short label and one link to another
    page ("More from the Gazette: <a>another headline</a>"). The template learning may count
    those by their label (``crawler/state/template_lines.py``); a label followed by the article's own
    prose ("Why it matters: ...") it never may."""
    tails: dict[str, list[str]] = {}
    for paragraph in text.split("\n\n"):
        split = split_lead_in(paragraph)
        if split is not None and _squeezed(split[1]):
            tails.setdefault(_squeezed(split[1]), []).append(paragraph)
    if not tails:
        return []
    here = urldefrag(url)[0]
    found: list[int] = []
    for anchor in islice(tree.iter("a"), _MAX_LINKS):
        tail = _squeezed(anchor.text_content())
        paragraphs = tails.get(tail)
        if paragraphs is None:
            continue
        target = absolute_http_url(anchor.get("href"), url)
        if target is None or urldefrag(target)[0] == here:
            continue
        # the block the link ends: up through inline wrappers (<strong><a>...</a></strong>)
        block = anchor.getparent()
        for _ in range(3):
            if block is None or _squeezed(block.text_content()) != tail:
                break
            block = block.getparent()
        line = _squeezed(block.text_content()) if block is not None else ""
        for paragraph in paragraphs:
            if _squeezed(paragraph) == line:
                found.append(paragraph_fingerprint(paragraph) or 0)
        if line in {_squeezed(paragraph) for paragraph in paragraphs}:
            del tails[tail]
            if not tails:
                break
    return found


def _plain(value: str) -> str:
    """JSON-LD ``articleBody`` as text: some CMSs put the body's HTML there, escapes and all."""
    if "<" in value or "&" in value:
        try:
            fragment = fragment_fromstring(unescape(value) if "&lt;" in value else value, create_parent="div")
        except (ParserError, ValueError):
            return unescape(value)
        blocks = [" ".join(block.text_content().split()) for block in fragment.iter("p", "li", "h2", "h3")]
        text = "\n".join(block for block in blocks if block)
        return text or unescape(" ".join(fragment.text_content().split()))
    return value if "\n" in value else " ".join(value.split())


def _body(pruned: Any, url: str, options: ExtractOptions, ld: list[dict[str, Any]]) -> tuple[str, int]:
    """The article body; extracted again when the first result is far short of the page's prose.

    trafilatura sometimes settles on one box of a page (a summary, a caption, a single
    section): 4 words of a 370-word article. When the body is under the minimum, or under
    half the prose the page holds, a recall-favouring extraction is tried, then the JSON-LD
    ``articleBody``; the longest of them wins, and only when it is clearly longer. Returned
    with its count of words.
    """
    body = _trafilatura(pruned, url, options.favor)
    words = count_words(body)
    prose = page_prose_words(pruned) if words >= options.min_words else None
    if words >= options.min_words and (prose is None or words * 2 >= prose):
        return body, words
    candidates = [body]
    if options.favor != "recall":
        candidates.append(_trafilatura(pruned, url, "recall"))
    candidates += [_plain(value) for obj in ld if isinstance(value := obj.get("articleBody"), str)]
    counts = [words, *map(count_words, candidates[1:])]
    best = max(range(len(candidates)), key=counts.__getitem__)  # the first of the longest
    if counts[best] >= max(words * 3 // 2, words + 20):
        return candidates[best], counts[best]
    return body, words


def _optional(name: str, default: T, compute: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A field the record can do without: a page that breaks its reading loses that field only."""
    try:
        return compute(*args, **kwargs)
    except Exception as exc:  # one bad field never costs the article
        logger.warning("Field %s left empty: %r", name, exc)
        return default


def _image(
    page: Page, ld: list[dict[str, Any]], by_id: dict[str, Any], fallback: MetadataFallback
) -> str | None:
    for candidate in (
        _first(page.meta("og:image", "og:image:url", "twitter:image", "twitter:image:src")),
        _first([_resolve(obj.get("image"), by_id) for obj in ld]),
        lambda: fallback.image,
    ):
        if callable(candidate):
            candidate = candidate()
        image = absolute_http_url(candidate, page.url)
        if image:
            return image
    return None


def extract_article(page: Page, options: ExtractOptions) -> dict[str, Any]:
    """Every article field the page gives; raises ``NotAnArticle`` for anything else."""
    if _looks_binary(page.text):
        raise NotAnArticle("binary content")
    tree = page.tree
    if tree is None:
        raise NotAnArticle("empty page")
    pruned, catstags = pruned_copy_following(
        tree, _compiled(options.strip_xpaths), page.named, catstags_value
    )
    ld = article_json_ld(page)
    body, body_words = _body(pruned, page.url, options, ld)
    fallback = MetadataFallback(pruned, page.url, original=tree, original_named=page.named, catstags=catstags)
    by_id = {obj["@id"]: obj for obj in page.json_ld if isinstance(obj.get("@id"), str)}

    h1s = headings(tree)
    h1 = h1s[0] if h1s else None
    html_title = _first([clean_text(t.text_content()) for t in tree.xpath("//head/title")])
    site_name = (
        clean_text(
            _first(
                page.meta("og:site_name", "application-name"),
                [_resolve(obj.get("publisher"), by_id) for obj in ld],
                _title_suffix(html_title, h1),
                lambda: fallback.sitename,
            )
        )
        or None
    )
    # every name the page gives itself: og:site_name "UWSP" beside application-name "University of ..."
    site_names = [
        name for name in [site_name, *map(clean_text, page.meta("og:site_name", "application-name"))] if name
    ]
    title = choose_title(
        h1s,
        [*(obj.get("headline") for obj in ld), *page.meta("og:title", "twitter:title", "parsely-title")],
        html_title,
        site_names,
        page.url,
    ) or strip_site_name(
        clean_text(_first(lambda: fallback.title, page.hints.get("title"))), site_names, page.url
    )
    if not title:
        raise NotAnArticle("no headline")
    kept, dropped = clean_lines(body, title or h1)
    text = "\n\n".join(kept)
    words = body_words - sum(map(count_words, dropped))
    lead = _optional("standfirst", None, standfirst, tree, text)
    if lead:  # the lead under the headline that the body's markup leaves out
        text = f"{lead}\n\n{text}"
        words += count_words(lead)
    if words < options.min_words:
        raise NotAnArticle(f"body of {words} words")

    authors = _optional(
        "authors", [], _authors, page, ld=ld, by_id=by_id, site_name=site_name, tree=tree, fallback=fallback
    )
    language, locale = _optional("language", (None, None), _language, page, text)
    image = _optional("image", None, _image, page, ld, by_id, fallback)
    return {
        "url": page.url,
        "canonical_url": _canonical(page),
        "source": page.source,
        "site_name": site_name,
        "title": title or "",
        "description": _optional(
            "description",
            None,
            _first,
            [obj.get("description") for obj in ld],
            page.meta("description", "og:description", "twitter:description"),
            lambda: fallback.description,
        ),
        "authors": authors,
        "language": language,
        "section": _optional(
            "section",
            None,
            _first,
            page.meta("article:section", "parsely-section", "section"),
            [obj.get("articleSection") for obj in ld],
            lambda: fallback.categories,
        ),
        "tags": _optional("tags", [], lambda: _tags(page, ld, lambda: fallback.tags)),
        "image": image,
        "text": text,
        "word_count": words,
        "content_hash": content_hash(text),
        "_locale": locale,
        "_fallback_date": lambda: fallback.date,
        "_link_paragraphs": _optional("link paragraphs", [], link_paragraphs, tree, page.url, text),
    }
