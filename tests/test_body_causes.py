"""Causes of wrong article bodies, each on a small page written by hand for it.

The pages below are inline and made up (publisher "The Larkfield Ledger", example.org);
nothing is copied from a real site. Each page goes through the crawl's own code with its
default settings, ``pipelines.work.analyse``, as a worker process runs it. The expected
lines were written from reading the pages: what a reader counts as the article's text.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy.settings import Settings

import settings.base as crawl_defaults
from crawler.pages.page import Page
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
URL = "https://www.example.org/news/2024/05/30/harbour-wall-repairs"

PROSE = [
    "Repairs to the old harbour wall in Larkfield will begin next month after the council approved"
    " a budget of two million pounds on Thursday evening, ending a dispute that lasted three years.",
    "The wall was damaged by storms in the winter of 2021, and the fishing fleet has since moored at"
    " the northern quay, where berths are shorter and the water is shallower at low tide.",
    "Engineers expect the work to take eighteen months. The harbour will stay open, but the southern"
    " slipway will close from July, and boat owners have been asked to move their moorings by June.",
    "The harbour master said the decision came as a relief to the fleet, which had feared another"
    " winter without shelter, and thanked residents who had written to the council in support.",
]


@pytest.fixture(scope="module", autouse=True)
def _worker() -> None:
    defaults = {name: getattr(crawl_defaults, name) for name in dir(crawl_defaults) if name.isupper()}
    init_worker(WorkOptions.from_settings(Settings(defaults)))


def page(header: str = "", before: str = "", after: str = "", *, headings: str = "") -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in PROSE)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour wall repairs to begin next month | The Larkfield Ledger</title>
<meta property="og:site_name" content="The Larkfield Ledger"></head><body>
<header class="site-header"><a href="/">The Larkfield Ledger</a></header>
<main><article>
<div class="titles">{header}<h1>Harbour wall repairs to begin next month</h1></div>
{before}
<div class="article-body">{paragraphs}{headings}</div>
{after}
</article></main>
<footer><p>The Larkfield Ledger, 4 Quay Street, Larkfield.</p></footer>
</body></html>"""


def body(markup: str) -> str:
    result = analyse(PagePayload.of(Page(url=URL, body=markup.encode(), fetched_at=FETCHED, source="t")))
    assert "_drop" not in result, f"dropped: {result.get('_drop')}"
    text: str = result["text"]
    return text


def test_kicker_above_the_headline_is_not_the_first_line() -> None:
    text = body(page(header="<h4>COASTAL DEFENCES</h4>"))
    assert "COASTAL DEFENCES" not in text
    assert text.startswith(PROSE[0][:40])


def test_log_in_wall_after_the_article_is_not_body() -> None:
    wall = """<div class="app-access-wall"><h2>Enjoying our latest content?<br>
    Log in or create an account to continue</h2><ul><li>Access the most recent journalism from our team</li>
    <li>Explore the latest features and opinion from the coast</li></ul></div>"""
    text = body(page(after=wall))
    assert "Enjoying our latest content" not in text
    assert "create an account" not in text
    assert PROSE[-1][:40] in text


def test_heading_with_an_anchor_id_is_kept() -> None:
    # the id spells the heading ("...-share-..."): a table-of-contents anchor, not a share bar
    heading = (
        '<h2 id="what-share-of-the-cost-does-the-council-pay">What share of the cost does the council pay?</h2>'
        "<p>The council pays two thirds of the cost, and the rest comes from a national fund for"
        " coastal towns that was set up after the storms of 2021 damaged several harbours.</p>"
    )
    text = body(page(headings=heading))
    assert "What share of the cost does the council pay?" in text


def test_share_bar_is_still_removed() -> None:
    bar = '<div id="share-bar"><a href="https://social.example/share">Post it to your friends now</a></div>'
    assert "Post it to your friends" not in body(page(after=bar))


def test_standfirst_without_its_script() -> None:
    lead = (
        '<p class="standfirst">Work on the storm-damaged wall starts in July and will take'
        " eighteen months, the council says.<script>window.dataLayer = window.dataLayer || [];"
        " dataLayer.push({'section': 'news'});</script></p>"
    )
    text = body(page(before=lead))
    assert text.startswith("Work on the storm-damaged wall starts in July")
    assert "dataLayer" not in text


def test_newsletter_dek_is_not_a_standfirst() -> None:
    promo = """<div class="newsletter-box"><form action="/subscribe"><div class="dek">The best of
    the Ledger, every morning, in your inbox, with alerts when we publish major stories.</div>
    <input type="email" name="email"><button>Sign up</button></form></div>"""
    text = body(page(before=promo))
    assert "in your inbox" not in text
    assert text.startswith(PROSE[0][:40])


def test_author_profile_is_not_a_standfirst() -> None:
    bio = """<div class="author-box"><div class="excerpt">Jane Doyle has reported on the coast
    for the Ledger for ten years and writes about fishing, ferries and the weather.</div></div>"""
    text = body(page(before=bio))
    assert "Jane Doyle has reported" not in text


def test_plain_standfirst_is_still_taken() -> None:
    lead = (
        '<p class="standfirst">Work on the storm-damaged wall starts in July and will take'
        " eighteen months, the council says.</p>"
    )
    assert body(page(before=lead)).startswith("Work on the storm-damaged wall starts in July")
