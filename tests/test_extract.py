"""The extract step on small crafted pages: page types, language, headline, validation."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.discovery.pagetype import page_kind
from crawler.pages.page import Page
from crawler.run.drops import DropArticle
from pipelines.extraction.article import ExtractOptions, NotAnArticle, extract_article
from pipelines.validate import ValidateRecordPipeline, load_validator

BODY = " ".join(
    f"Sentence number {i} of the council report explains how the new budget affects local services."
    for i in range(12)
)
GERMAN = " ".join(
    f"Der Stadtrat hat in seiner {i}. Sitzung über die Zukunft der Bibliothek und der Schwimmbäder beraten."
    for i in range(12)
)


def make_page(html: str, url: str = "http://127.0.0.1/news/2023/council-budget.html") -> Page:
    return Page(url=url, body=html.encode("utf-8"), fetched_at=datetime.now(timezone.utc), source="t")


def article_html(body: str = BODY, lang: str = "", extra_head: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<html{lang_attr}><head><title>Council budget - Daily</title>{extra_head}</head>"
        f"<body><article><h1>Council budget</h1><p>{body}</p><p>{body}</p></article></body></html>"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1/tag/budget/",
        "http://127.0.0.1/author/jane-doe",
        "http://127.0.0.1/category/politics/page/2/",
        "http://127.0.0.1/search?q=budget",
        "http://127.0.0.1/?s=budget",
    ],
)
def test_listing_urls_are_listings(url: str) -> None:
    assert page_kind(make_page(article_html(), url)) == "listing"


def test_json_ld_article_type_beats_an_archive_looking_path() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "x"}</script>'
    page = make_page(article_html(extra_head=head), "http://127.0.0.1/archive/2023/09/budget/")
    assert page_kind(page) == "article"


def test_teaser_list_without_metadata_is_a_listing() -> None:
    teasers = "".join(f'<h2><a href="/s{i}">Story {i}</a></h2><p>Summary {i}.</p>' for i in range(6))
    page = make_page(f"<html><body><main>{teasers}</main></body></html>", "http://127.0.0.1/world/")
    assert page_kind(page) == "listing"


def test_language_is_detected_when_the_page_does_not_say() -> None:
    fields = extract_article(make_page(article_html(GERMAN)), ExtractOptions())
    assert fields["language"] == "de"


def test_declared_language_wrong_for_the_text_is_corrected() -> None:
    fields = extract_article(make_page(article_html(GERMAN, lang="en")), ExtractOptions())
    assert fields["language"] == "de"


def test_title_suffix_removed_and_site_name_taken_from_it() -> None:
    fields = extract_article(make_page(article_html()), ExtractOptions())
    assert fields["title"] == "Council budget"
    assert fields["site_name"] == "Daily"
    assert "Council budget\n" not in fields["text"]


def test_tiny_body_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(make_page(article_html("Too short.")), ExtractOptions())


def test_strip_selectors_remove_template_boilerplate() -> None:
    html = article_html().replace(
        "<article>",
        '<article><p class="promo">Buy our premium plan today: a year of unlimited reading, half price for our readers.</p>',
    )
    assert "premium" in extract_article(make_page(html), ExtractOptions(min_words=5))["text"]
    stripped = extract_article(make_page(html), ExtractOptions(min_words=5, strip=(".promo",)))
    assert "premium" not in stripped["text"]


def test_bad_strip_selector_is_rejected_early() -> None:
    with pytest.raises(ValueError, match="NEWS_EXTRACT_STRIP"):
        ExtractOptions(strip=("div[",))


def test_invalid_record_is_dropped_with_reason() -> None:
    pipeline = ValidateRecordPipeline(load_validator())
    with pytest.raises(DropArticle) as caught:
        pipeline.process_item({"schema_version": 1, "url": "not a url", "_page": object()})
    assert caught.value.reason == "invalid"
