"""General causes of wrong records, each on a small page written for it (issue 20).

The pages are in ``tests/pages/causes/`` (see the README there); nothing is copied from
a real site. Each page goes through the crawl's own code with its default settings,
``pipelines.work.analyse``, as a worker process runs it. The expected values were
written from reading the pages before the code ran.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

import settings.base as crawl_defaults
from crawler.pages.page import Page
from pipelines.extraction.title import choose_title
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

PAGES = Path(__file__).parent / "pages" / "causes"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", autouse=True)
def _worker() -> None:
    defaults = {name: getattr(crawl_defaults, name) for name in dir(crawl_defaults) if name.isupper()}
    init_worker(WorkOptions.from_settings(Settings(defaults)))


def html(name: str, **replace: str) -> str:
    markup = (PAGES / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in markup, f"{old!r} is not in {name}"
        markup = markup.replace(old, new)
    return markup


def record(markup: str, url: str) -> dict[str, Any]:
    page = Page(url=url, body=markup.encode("utf-8"), fetched_at=FETCHED, source="causes", hints={})
    return analyse(PagePayload.of(page))


def kept(markup: str, url: str) -> dict[str, Any]:
    result = record(markup, url)
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    return result


def dropped(markup: str, url: str) -> tuple[str, str] | None:
    return record(markup, url).get("_drop")


# --- class words of boxes: whole tokens, not substrings ---------------------------------

PIER_URL = "https://coastline-weekly.example/news/harbour-council-approves-ferry-pier"


@pytest.mark.parametrize(
    "wrapper",
    [
        "wrap",  # the same page without a misleading class
        "content-sidebar-wrap",  # a layout wrapper around the article and its sidebar
        "elementor-widget-container",  # page builders wrap everything in widgets
        "widget Blog",  # a blog platform's main widget holds the post
        "node node--type-article node--promoted",  # a flag, not a promo box
        "hs_cos_wrapper hs_cos_wrapper_widget",
        "has-comments with-sidebar",  # flags of the layout
    ],
)
def test_a_layout_class_naming_a_sidebar_or_widget_is_not_a_box_of_other_stories(wrapper: str) -> None:
    result = kept(html("page-builder.html", WRAPPER=wrapper), PIER_URL)
    assert result["title"] == "Harbour council approves new ferry pier"
    assert result["authors"] == ["Maren Holt"]
    assert result["published_date"] == "2024-03-14"
    assert "Lifeboat station" not in result["text"]


# --- a single article at a site's root, an article under a listing word ------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://greypoint-friends.example/",
        "https://greypoint-friends.example",
        "https://encyclopaedia.example/topic/lighthouse-keepers-cottage",
        "",  # HTML in hand without its address
    ],
)
def test_an_article_at_a_sites_root_or_under_a_listing_word_is_kept(url: str) -> None:
    result = kept(html("single-article-site.html"), url)
    assert result["title"] == "Why the old lighthouse keeper's cottage is worth saving"
    assert result["authors"] == ["Ingrid Solberg"]
    assert result["text"].startswith("The cottage at the foot of the Grey Point lighthouse was built in 1871")
    assert result["text"].endswith("the birds that nest on the cliffs.")


@pytest.mark.parametrize(
    "url",
    [
        "https://riverside-courier.example/tag/budget",
        "https://riverside-courier.example/",
    ],
)
def test_a_page_of_teasers_that_says_article_is_still_a_listing(url: str) -> None:
    assert dropped(html("tag-page.html"), url) == ("not_article", "listing page")


# --- the headline: site names beyond exact equality, declared titles that disagree ------------

HEADLINE = "Winter timetable for the island ferry"


@pytest.mark.parametrize(
    ("url", "head", "h1"),
    [
        # the tab's suffix is the host's brand, not its exact name
        (
            "https://blog.harbour-trust.example/2024/10/winter-timetable",
            f"<title>{HEADLINE} | Harbour Blog</title>",
            "",
        ),
        # "Headline | Section | Site"
        (
            "https://www.coastlineferries.example/news/winter-timetable",
            f"<title>{HEADLINE} | Timetables | Coastline Ferries Ltd</title>",
            "",
        ),
        # the site's name is the second name the page gives itself
        (
            "https://cw.example/news/winter-timetable",
            f'<title>{HEADLINE} - Coastline Weekly</title><meta property="og:site_name" content="CW">'
            '<meta name="application-name" content="Coastline Weekly">',
            "",
        ),
        # og:title is only the site's name; twitter:title is the headline
        (
            "https://cw.example/news/winter-timetable",
            '<title>Coastline Weekly</title><meta property="og:site_name" content="Coastline Weekly">'
            f'<meta property="og:title" content="Coastline Weekly"><meta name="twitter:title" content="{HEADLINE}">',
            "",
        ),
        # a JSON-LD headline naming a part of the page, against og:title and <h1> that agree
        (
            "https://cw.example/news/winter-timetable",
            f'<title>{HEADLINE}</title><meta property="og:title" content="{HEADLINE}">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Sample crossings"}</script>',
            f"<h1>{HEADLINE}</h1>",
        ),
        # the site's name twice before the headline, and a section label as the only <h1>
        (
            "https://www.coastlineweekly.example/index.php/winter-timetable",
            f"<title>Coastline Weekly! | CoastlineWeekly.example - {HEADLINE}</title>",
            "<h1>Ahoy!</h1>",
        ),
        # a hidden <h1> that repeats the tab, site name and all
        (
            "https://www.coastlineferries.example/news/winter-timetable",
            f"<title>{HEADLINE} | Timetables | Coastline Ferries</title>",
            f'<h1 class="sr-only">{HEADLINE} | Timetables | Coastline Ferries</h1>',
        ),
    ],
)
def test_the_headline_comes_without_the_sites_name_or_a_label(url: str, head: str, h1: str) -> None:
    assert kept(html("headline.html", HEAD=head, H1=h1), url)["title"] == HEADLINE


def test_a_dash_inside_a_headline_is_not_a_section_label() -> None:
    head = "<title>Best bread machines - my favourites! - Bread Dad</title>"
    h1 = "<h1>Best bread machines – my favourites!</h1>"
    title = kept(html("headline.html", HEAD=head, H1=h1), "https://breaddad.example/best-bread-machines/")[
        "title"
    ]
    assert title == "Best bread machines - my favourites!"


def test_a_leading_word_like_the_hosts_name_is_part_of_the_headline() -> None:
    # only a trailing segment is taken for a brand by resemblance; a leading one must be the name
    head = "<title>Harbour - what changes in winter</title>"
    url = "https://blog.harbour-trust.example/winter"
    assert kept(html("headline.html", HEAD=head, H1=""), url)["title"] == "Harbour - what changes in winter"


def test_a_page_of_teasers_headed_by_a_sections_name_is_a_listing() -> None:
    markup = html("tag-page.html", **{'<meta property="og:type" content="article">\n': ""})
    assert dropped(markup, "https://riverside-courier.example/coverage/budget-2024") == (
        "not_article",
        "listing page",
    )


def test_a_short_item_headed_by_its_title_is_an_article_beside_related_headlines() -> None:
    result = kept(html("short-item.html"), "https://riverside-courier.example/news/library-sundays")
    assert result["title"] == "Library opens on Sundays from next month"
    assert result["text"].startswith("The town library will open on Sunday afternoons")
    assert "Library roof repairs" not in result["text"]


# --- a page double encoded: UTF-8 read as Latin-1 or cp1252, and encoded again ------------------


@pytest.mark.parametrize("misread_as", ["latin-1", "cp1252"])
def test_a_double_encoded_page_reads_as_it_was_written(misread_as: str) -> None:
    head = "<title>A beginner’s guide to the winter ferry</title>"
    h1 = "<h1>A beginner’s guide to the winter ferry</h1>"
    markup = html("headline.html", HEAD=head, H1=h1).replace("o'clock", "o’clock").replace("day —", "day —")
    mangled = markup.encode("utf-8").decode(
        misread_as, errors="ignore" if misread_as == "cp1252" else "strict"
    )
    assert "’" not in mangled  # the page as served: "beginnerâ\x80\x99s" or "beginnerâ€™s"
    page = Page(url=PIER_URL, body=mangled.encode("utf-8"), fetched_at=FETCHED, source="causes", hints={})
    result = analyse(PagePayload.of(page))
    assert result["title"] == "A beginner’s guide to the winter ferry"
    assert "instead of six o’clock" in result["text"]


def test_one_odd_pair_of_letters_is_left_as_it_is() -> None:
    head = "<title>Ferry names: the “Ã€” flag and the winter timetable</title>"
    result = kept(html("headline.html", HEAD=head, H1=""), PIER_URL)
    assert result["title"] == "Ferry names: the “Ã€” flag and the winter timetable"


# --- the header's printed date against cards of other stories and a "today" widget -------------

LEDGER_URL = "https://pocket-ledger.example/find-forgotten-money"


@pytest.mark.parametrize(
    "today",
    ["", '<span class="today-date">Tuesday, August 9, 2022</span>', "<span>Tuesday, August 9, 2022</span>"],
)
def test_the_date_printed_under_the_headline_beats_dated_cards_and_a_today_widget(today: str) -> None:
    result = kept(html("dated-cards.html", TODAY=today), LEDGER_URL)
    assert result["published_date"] == "2017-06-21"
    assert result["authors"] == ["Nora Quist"]


# --- names as a catalogue writes them -------------------------------------------------------------


@pytest.mark.parametrize(
    ("author_markup", "expected"),
    [
        ('<meta name="author" content="Lenharo, Mariana">', ["Mariana Lenharo"]),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Winter timetable for the'
            ' island ferry", "author": [{"@type": "Person", "name": "Kaufman, Jeff T."},'
            ' {"@type": "Person", "name": "Ana Ruiz"}]}</script>',
            ["Jeff T. Kaufman", "Ana Ruiz"],
        ),
        # a full name before the comma: two people, not one name turned round
        ('<meta name="author" content="Jane Holm, Peter Lund">', ["Jane Holm", "Peter Lund"]),
    ],
)
def test_a_name_written_surname_first_is_turned_round(author_markup: str, expected: list[str]) -> None:
    head = f"<title>{HEADLINE}</title>{author_markup}"
    result = kept(
        html("headline.html", HEAD=head, H1=f"<h1>{HEADLINE}</h1>"), "https://cw.example/news/winter"
    )
    assert result["authors"] == expected


def test_a_comment_before_the_printed_date_does_not_break_the_dates() -> None:
    line = "<div><span>By Nora Quist</span><!-- posted on --><span>June 21, 2017</span></div>"
    markup = html("dated-cards.html", TODAY="", **{"<p>By Nora Quist · June 21, 2017</p>": line})
    result = kept(markup, LEDGER_URL)
    assert result["published_date"] == "2017-06-21"
    assert "_notes" not in result


# --- guards: what the rules above must leave alone (found in review) -------------------------------


def test_a_section_page_headed_by_a_long_name_that_is_its_title_is_a_listing() -> None:
    name = "Latest news on the harbour, the ferries and the island"
    teasers = "".join(
        f'<div><h2><a href="/news/story-{i}">Story {i} from the harbour this week</a></h2>'
        "<p>A summary of the story in one sentence, as section pages print them.</p></div>"
        for i in range(8)
    )
    markup = f"<html><head><title>{name} | Riverside Courier</title></head><body><h1>{name}</h1>{teasers}</body></html>"
    assert dropped(markup, "https://riverside-courier.example/coverage/harbour-news") == (
        "not_article",
        "listing page",
    )


@pytest.mark.parametrize(
    ("tab", "site", "url"),
    [
        ("Harbour bill passes council - Time to act", "TIME", "https://time.example/harbour-bill"),
        ("Review: the new ferry - Harbour fans rejoice", "", "https://harbourinsider.example/review"),
    ],
)
def test_a_last_segment_that_only_begins_like_the_sites_name_stays(tab: str, site: str, url: str) -> None:
    head = f"<title>{tab}</title>" + (f'<meta property="og:site_name" content="{site}">' if site else "")
    assert kept(html("headline.html", HEAD=head, H1=""), url)["title"] == tab


@pytest.mark.parametrize(
    ("author_markup", "expected"),
    [
        (
            '<meta name="author" content="Jane Holm and Peter Lund | Contributors">',
            ["Jane Holm", "Peter Lund"],
        ),
        ('<meta name="author" content="Nature, Mariana Lenharo">', ["Mariana Lenharo"]),
    ],
)
def test_names_beside_a_role_or_an_organisation_are_kept(author_markup: str, expected: list[str]) -> None:
    head = f"<title>{HEADLINE}</title>{author_markup}"
    result = kept(
        html("headline.html", HEAD=head, H1=f"<h1>{HEADLINE}</h1>"), "https://cw.example/news/winter"
    )
    assert expected[-1] in result["authors"]
    assert all(" " in name for name in result["authors"] if name != "Nature")


def test_a_written_by_line_after_a_label_names_the_author() -> None:
    markup = html("headline.html", HEAD=f"<title>{HEADLINE}</title>", H1=f"<h1>{HEADLINE}</h1>").replace(
        "</article>", '<div class="bio"><b>Opinion</b> Written by Jane Holm</div></article>'
    )
    assert kept(markup, "https://cw.example/news/winter")["authors"] == ["Jane Holm"]


def test_german_quotes_after_a_sharp_s_are_not_taken_for_double_encoding() -> None:
    head = "<title>Viel Spaß“ und nasse Füße: die Fähre im Winter</title>"
    line = "<p>„Das macht Spaß“, sagt der Kapitän, „auch bei Regen, wenn man nasse Füße“ bekommt.</p>"
    markup = html("headline.html", HEAD=head, H1="").replace("<article>\n", f"<article>\n{line}\n")
    result = kept(markup, "https://faehre.example/winter")
    assert result["title"] == "Viel Spaß“ und nasse Füße: die Fähre im Winter"
    assert "„Das macht Spaß“, sagt der Kapitän" in result["text"]


def test_an_h1_heading_a_tab_of_several_parts_is_the_headline_not_the_sites_name() -> None:
    # the title step alone: on the whole page another rule happens to rescue this one
    tab = f"{HEADLINE} - Timetables, fares and guides to every island crossing - Coastline Weekly -"
    assert choose_title([HEADLINE], [], tab, [], "https://cw.example/guides/winter") == HEADLINE
