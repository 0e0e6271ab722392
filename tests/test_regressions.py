"""Pages that once produced wrong or invented data, or lost a record (found in review)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawler.pages.page import Page, decode_body
from pipelines.dates import DatesConfig, NormalizeDatesPipeline, resolve_dates
from pipelines.extract import ExtractArticlePipeline
from pipelines.extraction.article import ExtractOptions, extract_article
from pipelines.sink import encode_record
from pipelines.validate import to_record

FETCHED = datetime(2023, 9, 4, 15, 0, tzinfo=timezone.utc)
BODY = " ".join(
    ["The council approved the new harbour budget after a long debate about costs and schedules."] * 8
)


def page(html: str, url: str = "http://127.0.0.1/news/story.html", **hints: Any) -> Page:
    return Page(
        url=url,
        body=html.encode("utf-8"),
        fetched_at=FETCHED,
        source="t",
        declared_encoding="utf-8",
        hints=hints,
    )


def doc(head: str = "", byline: str = "", lang: str = "en") -> str:
    return (
        f'<html lang="{lang}"><head><title>Harbour story</title>{head}</head><body><article>'
        f"<h1>Harbour story</h1>{byline}<p>{BODY}</p><p>{BODY}</p></article>"
        "<footer>© 2021 Herald</footer></body></html>"
    )


def fields(html: str, url: str = "http://127.0.0.1/news/story.html") -> dict[str, Any]:
    return extract_article(page(html, url), ExtractOptions())


def dates(html: str, url: str = "http://127.0.0.1/news/story.html") -> dict[str, Any]:
    p = page(html, url)
    found = extract_article(p, ExtractOptions())
    return resolve_dates(p, DatesConfig(), found["language"], found["_locale"], found["_fallback_date"])


def test_json_ld_author_with_a_list_id_does_not_crash() -> None:
    head = '<script type="application/ld+json">{"@type":"NewsArticle","author":{"@id":["#a"]}}</script>'
    assert fields(doc(head))["authors"] == []


def test_absurdly_nested_json_ld_is_ignored() -> None:
    head = '<script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>"
    assert page(doc(head)).json_ld == []


def test_byline_with_a_link_inside() -> None:
    html = doc(byline='<div class="byline">By <a href="/people/jane-doe">Jane Doe</a></div>')
    assert fields(html)["authors"] == ["Jane Doe"]


def test_aspnet_form_around_the_whole_page_keeps_the_article() -> None:
    html = (
        doc()
        .replace("<body>", '<body><form id="aspnetForm" method="post">')
        .replace("</body>", "</form></body>")
    )
    assert fields(html)["word_count"] > 100


def test_deeply_nested_markup_is_parsed_whole() -> None:
    html = (
        doc()
        .replace("<article>", "<div>" * 300 + "<article>")
        .replace("</article>", "</article>" + "</div>" * 300)
    )
    assert fields(html)["word_count"] > 100


def test_json_ld_references_are_resolved_never_returned_as_values() -> None:
    head = """<script type="application/ld+json">{"@graph":[
      {"@type":"Organization","@id":"http://127.0.0.1/#org","name":"Herald"},
      {"@type":"NewsArticle","publisher":{"@id":"http://127.0.0.1/#org"},"image":{"@id":"http://127.0.0.1/#img"}}]}
    </script>"""
    found = fields(doc(head))
    assert found["site_name"] == "Herald"
    assert found["image"] is None


def test_month_and_year_alone_is_not_a_date() -> None:
    assert dates(doc(byline='<span class="date">September 2023</span>'))["published_date"] is None


def test_copyright_footer_is_not_a_publish_date() -> None:
    assert dates(doc())["published_date"] is None


def test_numbered_slug_after_a_year_month_permalink_is_not_a_day() -> None:
    url = "http://127.0.0.1/2023/08/10-things-to-know/"
    assert dates(doc(), url)["published_date"] is None


def test_midnight_in_markup_is_a_day_not_a_time() -> None:
    head = '<meta property="article:published_time" content="2023-09-04T00:00:00+02:00">'
    result = dates(doc(head, '<time datetime="2023-09-04T14:32:00+02:00">4 Sep 2023 14:32</time>'))
    assert result["published_at"] == "2023-09-04T12:32:00Z"


def test_borrowed_offset_never_yields_a_future_time() -> None:
    head = '<meta property="article:modified_time" content="2023-09-04T10:00:00+01:00">'
    result = dates(doc(head, '<p class="date">Published 4 September 2023, 18:30</p>'))
    # 18:30+01:00 is 17:30Z, after the fetch at 15:00Z: only the day is kept
    assert result["published_at"] is None and result["published_date"] == "2023-09-04"
    assert result["modified_at"] == "2023-09-04T09:00:00Z"


def test_utc_offset_in_markup_is_not_lent_to_local_times() -> None:
    head = '<meta property="article:modified_time" content="2023-09-04T13:00:00Z">'
    result = dates(doc(head, '<p class="date">Published 4 September 2023, 11:32</p>'))
    assert result["published_at"] is None and result["published_date"] == "2023-09-04"


def test_og_locale_region_decides_day_month_order() -> None:
    head = '<meta property="og:locale" content="en_GB">'
    assert dates(doc(head, '<p class="date">Published 04/09/2023</p>'))["published_date"] == "2023-09-04"


def test_dates_of_related_stories_are_ignored() -> None:
    byline = (
        '<ul class="related"><li><time datetime="2021-01-02T10:00:00Z">x</time></li></ul>'
        '<p>Published <time datetime="2023-09-04T10:00:00Z">4 Sep</time></p>'
    )
    assert dates(doc(byline=byline))["published_at"] == "2023-09-04T10:00:00Z"


def test_reading_time_beside_a_date_does_not_hide_it() -> None:
    result = dates(doc(byline='<div class="post-date">Sep 4, 2023 · 5 min read</div>'))
    assert result["published_date"] == "2023-09-04"


def test_lone_surrogate_is_scrubbed_before_the_sink() -> None:
    record = to_record({"title": "Great day \ud83d", "tags": ["x\udc00"], "_page": None})
    assert encode_record(record).decode("utf-8") == '{"title":"Great day \ufffd","tags":["x\ufffd"]}\n'


def test_header_charset_wrong_meta_charset_right() -> None:
    text = "Городской совет утвердил новый бюджет порта. " * 5
    body = f'<html><head><meta charset="windows-1251"></head><body><p>{text}</p></body></html>'.encode(
        "cp1251"
    )
    decoded, encoding = decode_body(body, "utf-8")
    assert text in decoded and encoding == "cp1251"


def test_utf8_with_a_stray_byte_declared_latin1_stays_utf8() -> None:
    body = ("Bürgerbüro öffnet länger – " * 5).encode("utf-8") + b"\x96"
    assert decode_body(body, "iso-8859-1")[0].startswith("Bürgerbüro öffnet länger")


@pytest.mark.parametrize(
    ("component", "setting", "value"),
    [
        (ExtractArticlePipeline, "NEWS_EXTRACT_FAVOR", "bogus"),
        (NormalizeDatesPipeline, "NEWS_DATES_DATE_ORDER", "DM"),
        (NormalizeDatesPipeline, "NEWS_DATES_TIMEZONE", "Mars/Olympus"),
        (ExtractArticlePipeline, "NEWS_EXTRACT_PLUGINS", "no_such_module.function"),
    ],
)
def test_misconfiguration_stops_the_crawl_instead_of_switching_a_step_off(component, setting, value) -> None:
    with pytest.raises(ValueError, match=setting):
        component.from_crawler(get_crawler(settings_dict={setting: value}))
