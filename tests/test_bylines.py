"""The article's own byline on pages written for these tests (made-up publishers): which
element names the authors, and what of its text is a name."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from crawler.pages.page import Page
from pipelines.extraction.article import ExtractOptions, extract_article

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


def ld(author: str) -> str:
    return (
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Early bloom worries growers",'
        f'"author":{author},"publisher":{{"@type":"Organization","name":"Orchard Gazette"}}}}</script>'
    )


def test_an_agency_listed_beside_a_person_is_a_co_author() -> None:
    head = ld(
        '[{"@type":"Person","name":"Ruth Alder"},{"@type":"Organization","name":"Valley Press Agency"}]'
    )
    assert authors("", head) == ["Ruth Alder", "Valley Press Agency"]


def test_an_agency_in_lowercase_is_the_author_when_the_markup_says_it_is_an_organisation() -> None:
    head = ld('[{"@type":"Organization","name":"vpa"}]') + '<meta name="author" content="Orchard Gazette">'
    assert authors('<p class="byline">vpa</p>', head) == ["vpa"]


def test_a_meta_author_with_the_sites_domain_is_the_publisher() -> None:
    head = '<meta name="author" content="Valley Media Group (www.orchard-gazette.example)">'
    assert authors("<p>By Ruth Alder</p>", head) == ["Ruth Alder"]


def test_a_profile_link_in_article_author_is_no_name() -> None:
    head = '<meta property="article:author" content="https://social.example/RuthAlderWrites">'
    assert authors("", head) == []


def test_twitter_card_written_by_names_the_author_after_the_author_tags() -> None:
    card = '<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="{}">'
    assert authors("", card.format("Ruth Alder")) == ["Ruth Alder"]
    head = '<meta name="author" content="Ruth Alder">' + card.format("Gazette Web Team")
    assert authors("", head) == ["Ruth Alder"]


def test_the_site_itself_is_the_author_when_its_byline_names_only_the_site() -> None:
    # a company blog or a one-person site: the byline names the site, and nobody else
    header = '<p class="post-author">Orchard Gazette</p>'
    assert authors(header, '<meta property="og:site_name" content="Orchard Gazette">') == ["Orchard Gazette"]


def test_a_byline_in_a_figure_caption_credits_the_photo() -> None:
    header = (
        '<figure><img src="/a.jpg"><figcaption><span class="byline">Photo: Lena Hart</span>'
        '<span class="byline">Dana Kowal</span></figcaption></figure><p class="byline">By Ruth Alder</p>'
    )
    assert authors(header) == ["Ruth Alder"]


def test_a_written_by_line_under_the_text_names_the_author_when_the_header_does_not() -> None:
    # the author box follows the text; "By" alone there could be a photo's or a sponsor's credit
    box = '<div class="about"><p><span>Written by</span><a href="/team/ruth">Ruth Alder</a></p></div>'
    assert authors(f"<p>{BODY}</p><p>{BODY}</p><p>{BODY}</p>{box}") == ["Ruth Alder"]
    assert authors(f"<p>{BODY}</p><p>{BODY}</p><p>{BODY}</p><p>Photos by Lena Hart</p>") == []
