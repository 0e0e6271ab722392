"""Date parsing and selection, on real dateparser (no mocks)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.pages import dateparse
from crawler.pages.dateparse import date_order_for, parse_date, parse_iso
from crawler.pages.page import Page
from pipelines.dates import DatesConfig, resolve_dates

FETCHED = datetime(2023, 9, 4, 15, 0, tzinfo=timezone.utc)


def page(html: str, url: str = "http://127.0.0.1/story.html", **hints: str) -> Page:
    return Page(url=url, body=html.encode("utf-8"), fetched_at=FETCHED, source="test", hints=dict(hints))


@pytest.mark.parametrize(
    ("locale", "text"),
    [("en-GB", "Published 04/09/2023 09:05"), ("en-US", "Published 09/04/2023 9:05 AM")],
)
def test_numeric_day_month_order_follows_the_locale(locale: str, text: str) -> None:
    parsed = parse_date(text, "en", date_order_for(locale), FETCHED)
    assert parsed is not None
    assert (parsed.moment.year, parsed.moment.month, parsed.moment.day) == (2023, 9, 4)
    assert parsed.has_time and not parsed.has_offset


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("de", "Veröffentlicht am 04.09.2023, 14:32 Uhr", (2023, 9, 4, 14, 32)),
        ("fr", "Publié le 4 septembre 2023 à 09h05", (2023, 9, 4, 9, 5)),
        ("es", "Publicado el 4 de septiembre de 2023, 10:15", (2023, 9, 4, 10, 15)),
        ("ru", "4 сентября 2023, 12:40", (2023, 9, 4, 12, 40)),
    ],
)
def test_visible_dates_in_four_languages(language: str, text: str, expected: tuple[int, ...]) -> None:
    parsed = parse_date(text, language, date_order_for(language), FETCHED)
    assert parsed is not None
    moment = parsed.moment
    assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == expected


def test_iso_fast_path_keeps_the_offset() -> None:
    parsed = parse_iso("2023-09-04T14:32:10+09:00")
    assert parsed is not None and parsed.has_offset
    assert parsed.moment.astimezone(timezone.utc) == datetime(2023, 9, 4, 5, 32, 10, tzinfo=timezone.utc)
    assert parse_iso("04.09.2023") is None


def test_relative_dates() -> None:
    hours = parse_date("Posted 3 hours ago", "en", "MDY", FETCHED)
    assert hours is not None and hours.has_time
    assert hours.moment == datetime(2023, 9, 4, 12, 0, tzinfo=timezone.utc)
    days = parse_date("vor 3 Tagen", "de", "DMY", FETCHED)
    assert days is not None and not days.has_time and days.local_date.isoformat() == "2023-09-01"


def test_a_two_digit_year_falls_in_the_century_before_the_fetch() -> None:
    # dateparser puts "16" in 1916 or 2016 depending on the reference instant it is given
    parsed = parse_date("Updated 01/07/16", "en", "MDY", FETCHED)
    assert parsed is not None and parsed.local_date.isoformat() == "2016-01-07"


@pytest.mark.parametrize(
    ("language", "order", "text"),
    [
        ("en", "MDY", "Updated 01/07/16"),
        ("en", "MDY", "September 4, 2023 2:32 PM"),
        ("en", "MDY", "Feb. 11, 2004"),  # the first reference's own day: read twice
        ("en", "DMY", "September 2023"),
        ("en", "DMY", "Monday 2023"),
        ("de", "DMY", "Veröffentlicht am 04.09.2023, 14:32 Uhr"),
        ("de", "DMY", "vor 3 Tagen, 2023"),
        ("fr", "DMY", "il y a 2 heures · 2023"),
        ("es", "DMY", "4 de septiembre de 2023"),
    ],
)
def test_one_reading_of_an_absolute_date_says_what_two_would(language: str, order: str, text: str) -> None:
    # the second reading, against the other reference, is left out only when it cannot differ
    first = dateparse._search(text, language, order, dateparse._REFERENCES[0])
    second = dateparse._search(text, language, order, dateparse._REFERENCES[1])
    both = first if first is not None and dateparse._YEAR.search(first[0]) and first == second else None
    assert dateparse._absolute(text, language, order) == both


@pytest.mark.parametrize("text", ["5 min read", "12 comments", "4 September"])
def test_things_that_are_not_dates(text: str) -> None:
    assert parse_date(text, "en", "DMY", FETCHED) is None


def test_json_ld_in_graph_with_offset_beats_url_date() -> None:
    html = """<html lang="en"><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"},
     {"@type": "NewsArticle", "datePublished": "2023-09-04T01:00:00+09:00"}]}</script></head>
    <body><p>x</p></body></html>"""
    result = resolve_dates(page(html, url="http://127.0.0.1/2023/09/01/story"), DatesConfig(), "en", "en")
    assert result["published_at"] == "2023-09-03T16:00:00Z"
    # the publisher's calendar day, not the UTC one
    assert result["published_date"] == "2023-09-04"
    assert result["date_source"] == "json-ld"


def test_future_and_implausible_dates_are_rejected() -> None:
    html = """<html><head><meta property="article:published_time" content="2024-01-01T10:00:00Z">
    <meta name="date" content="1970-01-01"></head><body>
    <time datetime="2023-09-03T08:00:00Z">3 September</time></body></html>"""
    result = resolve_dates(page(html), DatesConfig(), "en", "en")
    # the future meta date and the 1970 one lose to the plausible <time>
    assert result["published_at"] == "2023-09-03T08:00:00Z" and result["date_source"] == "time"


def test_time_without_offset_gives_a_day_only_unless_a_zone_is_known() -> None:
    html = '<html lang="de"><body><span class="datum">Veröffentlicht am 04.09.2023, 14:32 Uhr</span></body></html>'
    unknown = resolve_dates(page(html), DatesConfig(), "de", "de")
    assert unknown["published_at"] is None and unknown["published_date"] == "2023-09-04"
    berlin = resolve_dates(page(html, timezone="Europe/Berlin"), DatesConfig(), "de", "de")
    assert berlin["published_at"] == "2023-09-04T12:32:00Z"


def test_time_without_offset_borrows_the_offset_stated_elsewhere() -> None:
    html = """<html><head><meta property="article:modified_time" content="2023-09-04T16:00:00+02:00"></head>
    <body><p class="date">Published 4 September 2023, 14:32</p></body></html>"""
    result = resolve_dates(page(html), DatesConfig(), "en", "en-GB")
    assert result["published_at"] == "2023-09-04T12:32:00Z"
    assert result["modified_at"] == "2023-09-04T14:00:00Z"
