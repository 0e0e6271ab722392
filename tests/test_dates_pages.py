"""Dates on small pages of a made-up publisher, one for each way a page states its date
that the dates step once misread (expected values read off the page)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from crawler.pages.page import Page
from pipelines.dates import DatesConfig, resolve_dates

FETCHED = datetime(2023, 9, 4, 15, 0, tzinfo=timezone.utc)
HEAD = "<html lang='en'><head><title>Harbour ferry returns - Gullpoint Gazette</title></head>"
STORY = "<p>" + "The ferry across the harbour runs again from Monday, the council said. " * 3 + "</p>"


def page(html: str, url: str = "https://gullpoint.example/news/harbour-ferry-returns") -> Page:
    return Page(url=url, body=html.encode("utf-8"), fetched_at=FETCHED, source="gullpoint.example")


def dates(
    html: str, url: str = "https://gullpoint.example/news/harbour-ferry-returns", fallback: str | None = None
) -> dict[str, Any]:
    return resolve_dates(page(html, url), DatesConfig(), "en", "en-US", lambda: fallback)


@pytest.mark.parametrize(
    ("url", "htmldate", "expected"),
    [
        # a blog post under /yyyy/mm/ prints its day: htmldate read it from the page
        ("https://gullpoint.example/2023/08/harbour-ferry-returns.html", "2023-08-22", "2023-08-22"),
        # the first of the month on such a URL is htmldate's stand-in for the month alone
        ("https://gullpoint.example/2023/08/harbour-ferry-returns.html", "2023-08-01", None),
        # a count that opens the slug is no day either
        ("https://gullpoint.example/2023/08/10-things-to-know/", "2023-08-10", None),
    ],
)
def test_htmldate_day_on_a_url_that_names_only_the_month(
    url: str, htmldate: str, expected: str | None
) -> None:
    html = f"{HEAD}<body><article><h1>Harbour ferry returns</h1>{STORY}</article></body></html>"
    assert dates(html, url, fallback=htmldate)["published_date"] == expected


def test_ap_style_dotted_month_and_meridiem() -> None:
    html = (
        f"{HEAD}<body><article><h1>Harbour ferry returns</h1>"
        "<p class='byline'>Published: Aug. 22, 2023, 6:47 p.m.</p>"
        f"{STORY}</article></body></html>"
    )
    result = dates(html)
    assert result["published_date"] == "2023-08-22"


def test_a_line_with_the_published_and_the_updated_date() -> None:
    html = (
        f"{HEAD}<body><article><h1>Harbour ferry returns</h1>"
        "<div class='post-meta'>Updated 5 August 2023, originally published 3 August 2023</div>"
        f"{STORY}</article></body></html>"
    )
    assert dates(html)["published_date"] == "2023-08-03"


def test_updated_label_in_the_element_before_the_date() -> None:
    # the page says when it was updated, never when it was published
    html = (
        f"{HEAD}<body><article><h1>Harbour ferry returns</h1>"
        "<div><span>Updated</span> <span>Aug 27, 2023</span></div>"
        f"{STORY}</article></body></html>"
    )
    assert dates(html)["published_date"] is None
