"""What keeps extraction cheap must not change what it finds.

One-walk boilerplate pruning, lazily computed trafilatura metadata, dateparser
only where the markup's dates leave the answer open, a cross-page cache of
absolute date readings and the worker warm-up, each against the result it must give.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import lxml.html
import pytest

from crawler.pages import dateparse
from crawler.pages.dateparse import parse_text
from crawler.pages.page import Page
from pipelines.dates import DatesConfig, resolve_dates
from pipelines.extraction.article import ExtractOptions, extract_article
from pipelines.extraction.prune import pruned_copy
from pipelines.work import _WARM_UP_PAGE, PagePayload, WorkOptions, analyse, init_worker
from tests.test_regressions import FETCHED, dates, doc, fields, page

LONG = " ".join(["Words of the story itself, which must stay where they are."] * 40)


def texts(html: str) -> str:
    return " ".join(pruned_copy(lxml.html.fromstring(html)).text_content().split())


def test_short_share_box_goes_and_a_long_element_with_the_same_class_word_stays() -> None:
    kept = texts(
        f'<html><body><div class="share-bar">Share this story</div><div class="post social-post"><p>{LONG}</p></div></body></html>'
    )
    assert "Share this story" not in kept
    assert LONG[:60] in kept


def test_a_wrapper_is_judged_on_what_is_left_once_its_boilerplate_children_are_gone() -> None:
    teaser = "<li>" + "Another story from the archive of this site " * 3 + "</li>"
    html = (
        '<html><body><div class="related-wrap"><h3>Related</h3><ul class="comment-list">'
        + teaser * 40
        + "</ul></div></body></html>"
    )
    # the comment list alone is over the limit, so kept; the wrapper around it, with a
    # class word of its own, is judged on its whole text and also kept
    assert "Another story" in texts(html)
    assert "Related" not in texts(html.replace(teaser * 40, teaser))


def test_bylines_captions_and_back_to_top_links_go_with_their_tails_kept() -> None:
    kept = texts(
        "<html><body><p>Before <span class='byline'>By Jane Doe</span>after the byline.</p>"
        "<figure><img src='x.jpg'><figcaption>A caption</figcaption></figure>"
        "<p><a href='#top'>Back to top</a> end.</p></body></html>"
    )
    assert kept == "Before after the byline. end."


def test_navigation_goes_before_extraction_and_scripts_stay_for_the_date_readers() -> None:
    tree = lxml.html.fromstring(
        "<html><head><script>var published = '2023-09-04';</script>"
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>'
        "<body><nav><a href='/a'>Section</a></nav>tail text<p>Body</p></body></html>"
    )
    copy = pruned_copy(tree)
    assert len(list(copy.iter("script"))) == 2
    assert not list(copy.iter("nav"))
    assert "tail text" in copy.text_content()
    assert list(tree.iter("nav")), "the page's own tree is never modified"


def test_a_class_word_on_the_page_body_does_not_remove_the_page() -> None:
    short = "A short story of a few sentences, still an article. " * 8
    html = f'<html><body class="single comments-open has-share"><main class="social"><p>{short}</p></main></body></html>'
    assert short.strip()[:40] in texts(html)


def test_a_source_strip_selector_removes_what_the_built_in_rules_keep() -> None:
    promo = (
        '<p class="promo-copy">Buy our print edition today at every newsstand in the city and '
        "get the weekend supplement with puzzles, recipes and the television guide free of charge.</p>"
    )
    html = doc(byline=promo)
    assert "print edition" in extract_article(page(html), ExtractOptions())["text"]
    assert "print edition" not in extract_article(page(html), ExtractOptions(strip=(".promo-copy",)))["text"]


def test_trafilatura_metadata_fills_only_what_the_markup_leaves_open() -> None:
    # no JSON-LD, no meta author: the byline found in the page text gives the author,
    # and <title> gives the site name through trafilatura's heuristics
    record = fields(doc(byline='<p class="byline">By Jane Doe</p>'))
    assert record["authors"] == ["Jane Doe"]
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"name": "Max Roe"}}</script>'
    assert fields(doc(head=ld, byline='<p class="byline">By Jane Doe</p>'))["authors"] == ["Max Roe"]


def test_a_text_date_is_not_read_when_the_markup_settles_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    head = '<meta property="article:published_time" content="2023-09-03T08:00:00+02:00">'
    byline = "<p class='dateline'>Updated 3 September 2023, 11:40</p>"
    calls: list[str] = []
    real = dateparse.search_dates

    def counting(value: str, **kwargs: object) -> object:
        calls.append(value)
        return real(value, **kwargs)

    monkeypatch.setattr(dateparse, "search_dates", counting)
    dateparse._search.cache_clear()
    settled = dates(doc(head=head))
    assert settled["published_at"] == "2023-09-03T06:00:00Z"
    assert calls == []
    # with no exact modified date in the markup, the text's "Updated ..." is read
    opened = dates(doc(head=head, byline=byline))
    assert calls
    assert opened["published_at"] == "2023-09-03T06:00:00Z"
    assert opened["modified_at"] == "2023-09-03T09:40:00Z"


def test_the_htmldate_fallback_runs_only_without_any_other_date() -> None:
    asked: list[bool] = []

    def fallback() -> str:
        asked.append(True)
        return "2023-09-01"

    with_date = page(doc(head='<meta property="article:published_time" content="2023-09-02">'))
    assert resolve_dates(with_date, DatesConfig(), "en", "en", fallback)["published_date"] == "2023-09-02"
    assert asked == []
    without = page(doc())
    result = resolve_dates(without, DatesConfig(), "en", "en", fallback)
    assert asked == [True]
    assert (result["published_date"], result["date_source"]) == ("2023-09-01", "text")


def test_an_absolute_date_reads_the_same_whenever_the_page_was_fetched() -> None:
    text = "Veröffentlicht am 04.09.2023, 14:32 Uhr"
    first = parse_text(text, "de", "DMY", FETCHED)
    later = parse_text(text, "de", "DMY", FETCHED + timedelta(days=400))
    assert first == later
    assert first is not None
    assert (first.moment, first.has_time) == (datetime(2023, 9, 4, 14, 32), True)


def test_a_relative_date_still_moves_with_the_fetch_time() -> None:
    parsed = parse_text("Posted 3 hours ago", "en", None, FETCHED)
    assert parsed is not None
    assert parsed.moment == FETCHED - timedelta(hours=3)
    assert parse_text("4 September", "en", None, FETCHED) is None, "no year: nothing invented"


def test_an_english_date_on_a_page_in_another_language_is_read() -> None:
    # in French, dateparser finds "4, 2023" alone, which would invent a month: English reads it whole
    parsed = parse_text("Mis à jour: September 4, 2023", "fr", None, FETCHED)
    assert parsed is not None
    assert parsed.moment.date().isoformat() == "2023-09-04"


def test_the_warm_up_page_goes_through_every_step() -> None:
    # a warm-up that is dropped early would load neither the language model nor dateparser
    init_worker(WorkOptions(ExtractOptions(), DatesConfig()))
    sample = Page(
        url="http://warm-up.invalid/news/ferry.html",
        body=_WARM_UP_PAGE,
        fetched_at=datetime.now(timezone.utc),
        source="-",
    )
    record = analyse(PagePayload.of(sample))
    assert "_drop" not in record
    assert record["language"] == "en"
    assert record["published_at"] == "2023-09-04T06:15:00Z"
    assert record["modified_at"] == "2023-09-05T06:15:00Z", "the text date went through dateparser"
