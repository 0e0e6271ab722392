"""The article's own byline on pages written for these tests (made-up publishers): which
element names the authors, and what of its text is a name."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from crawler.page import Page
from pipelines._article import ExtractOptions, extract_article

FETCHED = datetime(2024, 3, 5, 9, 0, tzinfo=timezone.utc)
BODY = " ".join(
    ["The valley's orchards flowered two weeks early this year, and growers worry about a late frost."] * 8
)


def authors(
    header: str, head: str = "", url: str = "https://orchard-gazette.example/news/early-bloom"
) -> Any:
    html = (
        f"<html lang='en'><head><title>Early bloom worries growers</title>{head}</head><body>"
        f"<article><h1>Early bloom worries growers</h1>{header}<p>{BODY}</p><p>{BODY}</p></article>"
        "<footer>© 2024 Orchard Gazette</footer></body></html>"
    )
    page = Page(url=url, body=html.encode(), fetched_at=FETCHED, source="t", declared_encoding="utf-8")
    return extract_article(page, ExtractOptions())["authors"]


def test_byline_label_in_its_own_byline_element_gives_way_to_the_wrapper_with_the_name() -> None:
    # the innermost byline elements hold "By" and a job title; the name is a plain link
    header = (
        '<div class="byline"><div class="author-name"><span class="byline-prefix">By</span> '
        '<a class="link" href="/people/ruth-alder">Ruth Alder</a>'
        '<span class="author-title">Staff Writer</span></div></div>'
    )
    assert authors(header) == ["Ruth Alder"]


def test_by_line_inside_a_byline_block_leaves_the_desk_and_date_beside_it() -> None:
    header = (
        '<div class="article_byline"><div>By <span>Tomas Brenner</span></div>'
        "<div><div>VALLEY FARM WIRE</div><time>Mar 4, 2024 at 3:45 pm</time></div></div>"
    )
    assert authors(header) == ["Tomas Brenner"]
