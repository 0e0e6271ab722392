"""Six general failure patterns of record extraction, each on a page written for it.

The pages are in ``tests/pages/patterns/`` (see the README there): small news pages in
the markup of a typical template, each reproducing one pattern that once gave a wrong
record or none. Every page goes through the crawl's own code with its default
settings, ``pipelines.work.analyse``, as a worker process runs it. The expected values
were written from reading the pages.

1. An article whose markup hints at a listing is kept; a real listing is still dropped.
2. A body that trafilatura's first pass cuts down to a small box is recovered whole.
3. A "By ..." line without a byline class under the headline gives the authors; the
   author boxes of other stories further down add no names.
4. A UTC instant is placed on the publisher's calendar day.
5. Relative dates count only in the article's own byline, never in a "latest news" box,
   and a reading time is no date.
6. A date stated only in the article's text is found; a copyright year is no date.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

import settings.base as crawl_defaults
from crawler.discovery.pagetype import page_verdict
from crawler.pages.page import Page
from pipelines.dates import DatesConfig
from pipelines.extraction.article import ExtractOptions, _trafilatura, page_prose_words
from pipelines.extraction.datefind import MODIFIED_META, PUBLISHED_META, find_candidates
from pipelines.extraction.prune import pruned_copy
from pipelines.extraction.text import count_words
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

PAGES = Path(__file__).parent / "pages" / "patterns"
FETCHED = datetime(2023, 9, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", autouse=True)
def _worker() -> None:
    """Options from the project's default settings, as a crawl sets up its workers."""
    defaults = {name: getattr(crawl_defaults, name) for name in dir(crawl_defaults) if name.isupper()}
    options = WorkOptions.from_settings(Settings(defaults))
    assert options == WorkOptions(ExtractOptions(), DatesConfig())
    init_worker(options)


def html(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def make_page(markup: str, url: str, **hints: Any) -> Page:
    return Page(url=url, body=markup.encode("utf-8"), fetched_at=FETCHED, source="patterns", hints=hints)


def record(markup: str, url: str, **hints: Any) -> dict[str, Any]:
    """The record of the page, or its ``{"_drop": (reason, detail)}``."""
    return analyse(PagePayload.of(make_page(markup, url, **hints)))


def kept(markup: str, url: str, **hints: Any) -> dict[str, Any]:
    result = record(markup, url, **hints)
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    return result


def dates(result: dict[str, Any]) -> tuple[str | None, str | None]:
    return result["published_date"], result["published_at"]


def assert_no_date_markup(page: Page) -> None:
    """No meta date, no JSON-LD, no <time> or itemprop, no class that names a date."""
    assert page.tree is not None
    assert page.json_ld == []
    assert page.meta(*PUBLISHED_META, *MODIFIED_META) == []
    assert page.tree.xpath("//time|//*[@itemprop]") == []
    dated = "//*[re:test(concat(@class, ' ', @id), 'date|time|meta|publish|posted|updated', 'i')]"
    assert page.tree.xpath(dated, namespaces={"re": "http://exslt.org/regular-expressions"}) == []


def replaced(markup: str, old: str, new: str) -> str:
    """``markup`` with ``old`` replaced; the edit must find what it edits."""
    assert old in markup, f"{old!r} is not in the page"
    return markup.replace(old, new)


# --- 1. listing hints on an article ----------------------------------------------------

FERRY_URL = "https://harbourgazette.example/local/ferry-timetable"
OG_WEBSITE = '<meta property="og:type" content="website">\n'


@pytest.mark.parametrize("hints", ["og:type website and more-from headlines", "more-from headlines only"])
def test_an_article_whose_markup_hints_at_a_listing_is_kept(hints: str) -> None:
    markup = html("ferry-timetable.html")
    if hints == "more-from headlines only":
        markup = replaced(markup, OG_WEBSITE, "")
    page = make_page(markup, FERRY_URL)
    # og:type website: the weak listing hint that the body's prose overrules. Headlines alone
    # are no hint on a page headed by its own title (tests/test_record_causes.py)
    expected = ("listing", False) if hints.startswith("og:type") else ("unknown", False)
    assert page_verdict(page) == expected
    result = analyse(PagePayload.of(page))
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    assert result["title"] == "Carrow ferry to sail every twenty minutes at peak times"
    # 393 words in eleven paragraphs of 32 to 38 words, none of them 300 characters long
    assert 350 <= result["word_count"] <= 720
    assert result["text"].startswith("The harbour ferry between Northfield and the island of Carrow")
    assert result["text"].endswith("can send their comments through its website until the end of the month.")


def test_a_section_page_of_teasers_is_still_dropped() -> None:
    result = record(html("section-world.html"), "https://harbourgazette.example/world/")
    assert "_drop" in result, f"kept as an article: {result.get('title')!r}, {result.get('word_count')} words"
    assert result["_drop"][0] == "not_article"


def test_an_article_body_does_not_overrule_a_tag_url() -> None:
    result = record(html("ferry-timetable.html"), "https://harbourgazette.example/tag/budget/")
    assert result == {"_drop": ("not_article", "listing page")}


# --- 2. recall collapse ----------------------------------------------------------------

PAYWALL_URL = "https://northfieldcourier.example/environment/valebrook-water-fined-over-ashby-spills"


def test_the_paywall_page_defeats_trafilaturas_first_pass() -> None:
    # what makes the next test one of recovery: the balanced pass keeps the two free
    # paragraphs and the subscription prompt (under 100 words) of a page whose paragraphs
    # hold 302 words of prose, the rest of them in a block hidden until one subscribes
    page = make_page(html("paywall-article.html"), PAYWALL_URL)
    pruned = pruned_copy(page.tree)
    first = count_words(_trafilatura(pruned, page.url, "balanced"))
    assert first * 2 < page_prose_words(pruned)


def test_a_body_cut_to_its_free_paragraphs_is_recovered_whole() -> None:
    result = kept(html("paywall-article.html"), PAYWALL_URL)
    text = result["text"]
    assert result["word_count"] >= 280, text  # the article has 302 words
    assert text.startswith("Valebrook Water has been fined £4.2 million")
    assert "A second investigation, into a pumping station at Kelby, is continuing" in text
    assert text.endswith("to seek bathing-water status for the stretch below the old weir.")
    assert "Subscribe to the Courier" not in text


# --- 3. bylines ------------------------------------------------------------------------

GALLERY_URL = "https://eastbaychronicle.example/culture/old-customs-house-gallery-review"


@pytest.mark.parametrize("cards", ["after the article", "at the end of the article"])
def test_a_by_line_without_a_byline_class_gives_the_author(cards: str) -> None:
    markup = html("gallery-review.html")
    if cards == "at the end of the article":
        # "Also in Culture", with its author names, inside the <article> after the body
        markup = replaced(markup, "  </article>\n", "")
        markup = replaced(markup, '  <aside class="rail">', '  </article>\n  <aside class="rail">')
    result = kept(markup, GALLERY_URL)
    # not Jonas Brandt and Helen Achebe (the cards' class="author"), nor Sam Okafor (the aside's)
    assert result["authors"] == ["Maria Keller"]


# --- 4. the publisher's day of a UTC instant ---------------------------------------------

VOTE_DATED_URL = "https://rivertonledger.example/2021/03/09/council-votes-to-close-elm-street-library"
VOTE_PLAIN_URL = "https://rivertonledger.example/local/council-votes-to-close-elm-street-library"
VOTE_INSTANT = '"datePublished": "2021-03-10T03:40:00Z"'


def test_a_utc_instant_is_placed_on_the_day_of_the_url() -> None:
    result = kept(html("library-branch-vote.html"), VOTE_DATED_URL)
    assert dates(result) == ("2021-03-09", "2021-03-10T03:40:00Z")
    assert result["date_source"] == "json-ld"


@pytest.mark.parametrize("url", [VOTE_DATED_URL, VOTE_PLAIN_URL])
def test_a_utc_instant_is_placed_in_the_sources_time_zone(url: str) -> None:
    # 03:40 UTC on 10 March 2021 is 22:40 on the 9th in New York (EST, UTC-5)
    result = kept(html("library-branch-vote.html"), url, timezone="America/New_York")
    assert dates(result) == ("2021-03-09", "2021-03-10T03:40:00Z")


def test_a_utc_instant_that_nothing_places_keeps_its_utc_day() -> None:
    result = kept(html("library-branch-vote.html"), VOTE_PLAIN_URL)
    assert dates(result) == ("2021-03-10", "2021-03-10T03:40:00Z")


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        ("2021-03-10T04:40:00+01:00", ("2021-03-10", "2021-03-10T03:40:00Z")),
        ("2021-03-10T00:40:00+01:00", ("2021-03-10", "2021-03-09T23:40:00Z")),
    ],
)
def test_an_instant_with_an_offset_keeps_its_local_day(stated: str, expected: tuple[str, str]) -> None:
    markup = replaced(html("library-branch-vote.html"), VOTE_INSTANT, f'"datePublished": "{stated}"')
    assert dates(kept(markup, VOTE_PLAIN_URL)) == expected


# --- 5. relative dates -----------------------------------------------------------------

SEA_WALL_URL = "https://westcoastpost.example/news/penmar-sea-wall-repairs"
OWN_DATE = '<span class="date">12 March 2019</span>'


def sea_wall(box: str, own_date: bool = True) -> str:
    """The old article, its "latest news" box in an <aside> or in a plain <div>."""
    markup = html("sea-wall-repairs.html")
    if box == "div":
        markup = replaced(
            replaced(markup, '<aside class="rail">', '<div class="rail">'), "</aside>", "</div>"
        )
    return markup if own_date else replaced(markup, OWN_DATE, "")


@pytest.mark.parametrize("box", ["aside", "div"])
def test_an_old_article_keeps_its_day_beside_a_box_of_latest_news(box: str) -> None:
    result = kept(sea_wall(box), SEA_WALL_URL)
    assert dates(result) == ("2019-03-12", None)
    assert result["date_source"] == "text"


@pytest.mark.parametrize("box", ["aside", "div"])
def test_the_times_of_a_box_of_latest_news_are_not_the_articles_date(box: str) -> None:
    # without its own date, the article has none: "2 hours ago" belongs to another story
    result = kept(sea_wall(box, own_date=False), SEA_WALL_URL)
    assert dates(result) == (None, None)


def test_a_reading_time_is_not_a_date() -> None:
    page = make_page(html("reading-time.html"), "https://saltmarshweekly.example/features/rope-works-market")
    assert any(candidate.value == "8 minutes" for candidate in find_candidates(page))
    result = analyse(PagePayload.of(page))
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    assert (*dates(result), result["date_source"]) == (None, None, None)


def test_a_relative_time_in_the_articles_own_byline_is_its_date() -> None:
    result = kept(html("relative-byline.html"), "https://saltmarshweekly.example/news/storm-power-cuts")
    # fetched at 12:00 UTC on 5 September 2023, "3 hours ago"
    assert dates(result) == ("2023-09-05", "2023-09-05T09:00:00Z")
    assert result["date_source"] == "text"


# --- 6. coverage: dates outside the markup -------------------------------------------------


def test_a_date_stated_only_in_the_articles_text_is_found() -> None:
    page = make_page(html("filed-on.html"), "https://fernhillpost.example/islands/inchmore-school-stays-open")
    assert_no_date_markup(page)
    result = analyse(PagePayload.of(page))
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    assert dates(result) == ("2022-02-14", None)
    assert result["date_source"] == "text"


def test_a_copyright_year_is_not_a_date() -> None:
    page = make_page(html("copyright-only.html"), "https://fernhillpost.example/news/record-seal-count")
    assert_no_date_markup(page)
    result = analyse(PagePayload.of(page))
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    assert (*dates(result), result["date_source"]) == (None, None, None)


def test_the_standfirst_under_the_headline_opens_the_body() -> None:
    result = kept(html("standfirst.html"), "https://estuarypost.example/business/ferry-electric-boats.html")
    paragraphs = result["text"].split("\n\n")
    # read from the page: the standfirst, then the body's four paragraphs; nothing else
    assert paragraphs[0] == (
        "The company that runs the estuary crossing will replace its two diesel ferries by 2027, "
        "cutting the route's fuel bill and most of its noise."
    )
    assert paragraphs[1].startswith("Estuary Crossings said on Tuesday")
    assert paragraphs[-1].startswith("The order is worth about eleven million pounds")
    assert len(paragraphs) == 5
    for elsewhere in ("The Marsh Queen", "Harbour board approves shore power"):
        assert elsewhere not in result["text"]


def test_a_time_after_a_broken_documents_end_is_still_a_date_of_the_page() -> None:
    # "</html x>" is no end tag the page model strips: libxml2 puts what follows it after the root
    html = (
        b"<html><body><h1>Harbour reopens</h1><p>Story</p></html x>"
        b'<html><body><time datetime="2020-01-02">2 Jan</time>'
    )
    page = Page(
        url="http://127.0.0.1/a", body=html, fetched_at=FETCHED, source="t", declared_encoding="utf-8"
    )
    assert ("published", "2020-01-02", "time") in [
        (candidate.kind, candidate.value, candidate.source) for candidate in find_candidates(page)
    ]
