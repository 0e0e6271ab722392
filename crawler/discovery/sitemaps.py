"""Sitemaps with their Google News metadata.

Scrapy's ``Sitemap`` parser (safe: no entity resolution, recovering parser)
keeps only the direct text children of ``<url>``; a Google News sitemap's
``<news:news>`` block (publication date, title, language) is lost. This
extends it to keep that block as flat ``news_*`` keys.
"""

from __future__ import annotations

from typing import Any

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawler.discovery.xml_guard import declares_entities

_GZIP_MAGIC = b"\x1f\x8b"
_STRICT = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NEWS_FIELDS = {"publication_date", "title", "keywords", "name", "language"}


class NewsSitemap(Sitemap):
    """A ``urlset`` or ``sitemapindex``; ``<url>`` entries carry ``news_publication_date`` etc."""

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        news: dict[str, str] = {}
        for child in elem:
            if self._get_tag_name(child) != "news":
                continue
            for node in child.iter():
                name = self._get_tag_name(node)
                if name in _NEWS_FIELDS and node.text and node.text.strip():
                    news[f"news_{name}"] = node.text.strip()
        entry = super()._process_sitemap_element(elem)
        if entry is not None:
            entry.pop("news", None)
            entry.update(news)
        return entry


class SitemapError(ValueError):
    """The body is not a sitemap (HTML, truncated, too large once decompressed)."""


def sitemap_body(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap response, gunzipped when it is a ``.xml.gz``."""
    if body[:2] == _GZIP_MAGIC:
        try:
            return gunzip(body, max_size=max_size)
        except ValueError as exc:  # Scrapy's private "max size exceeded" error is a ValueError
            raise SitemapError(f"larger than {max_size} bytes once decompressed") from exc
        except (OSError, EOFError) as exc:
            raise SitemapError(f"broken gzip: {exc}") from exc
    return body


def parse_sitemap(body: bytes) -> tuple[str, list[dict[str, Any]], str | None]:
    """The sitemap's type (``urlset`` or ``sitemapindex``), its entries, and what is wrong with it.

    Raises ``SitemapError`` for what is not a sitemap at all; a damaged one (truncated,
    malformed) gives the entries that could be recovered and a description of the damage.
    """
    if declares_entities(body):
        # sitemaps have no use for entities; declaring them is how entity bombs start
        raise SitemapError("declares XML entities (refused: possible entity bomb)")
    try:
        sitemap = NewsSitemap(body)
        kind = sitemap.type
        entries = list(sitemap)
    except (StopIteration, SyntaxError, ValueError) as exc:  # lxml's XMLSyntaxError is a SyntaxError
        raise SitemapError(f"unparseable XML: {exc}") from exc
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"root element is <{kind}>, not <urlset> or <sitemapindex>")
    problem = None
    try:
        lxml.etree.fromstring(body, parser=_STRICT)
    except lxml.etree.XMLSyntaxError as exc:
        problem = f"damaged XML ({exc}); kept {len(entries)} recoverable entries"
    return kind, [entry for entry in entries if entry.get("loc")], problem
