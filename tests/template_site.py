"""A one-publisher test site whose template puts fixed paragraphs inside every article body.

40 articles of "The Wendmouth Gazette". Each body is its own text (sentences drawn with a
fixed seed, so the true text of every article is known) with, as plain ``<p>`` among the
body's paragraphs and without any telltale class, four paragraphs the template adds to
every article (``TEMPLATE_BLOCKS``) and a "More from the Gazette: <another headline>" line (the
headline a link to that article). Articles
21 and 33 quote the same paragraph (``QUOTE``): content that two articles share.

``layout="stub"`` renders the site after a broken redesign: each page carries only a
two-sentence teaser of its article.
"""

from __future__ import annotations

import html
import random

from tests.hostile import Reply

PUBLISHER = "The Wendmouth Gazette"
ARTICLES = 40
TEMPLATE_BLOCKS = (
    "Sign up for the Gazette Morning Briefing: the day's most important stories from across Wendmouth, "
    "delivered to your inbox before seven o'clock every weekday.",
    "This story is part of our Local Democracy Reporting project, which is funded by readers like you. "
    "Independent local journalism costs money to produce, so please consider becoming a supporter today.",
    "Have a story we should be covering? Contact our newsroom by email or by phone, and our reporters will "
    "get back to you as quickly as they can.",
    "Follow us on Facebook, Instagram and Bluesky for breaking news, photo galleries and the latest "
    "updates from every corner of the county.",
)
QUOTE = (
    "\u201cWe have listened carefully to residents and we will keep listening, because the decisions we make "
    "this year will shape the town for a generation,\u201d said the council leader, Priya Nandakumar."
)
QUOTED_BY = (21, 33)

_PLACES = ["Harbour Road", "the Old Market", "Riverside", "Hillcrest", "the railway station", "Northgate",
           "the leisure centre", "Castle Street", "the industrial estate", "St Anne's school"]  # fmt: skip
_PEOPLE = ["Councillor Janet Okafor", "the fire service", "local traders", "the county council",
           "a spokesperson for the police", "residents", "the head teacher, Tom Birch",
           "the harbour master", "volunteers", "the hospital trust"]  # fmt: skip
_VERBS = ["announced", "criticised", "welcomed", "questioned", "approved", "delayed", "defended",
          "reviewed", "rejected", "funded"]  # fmt: skip
_THINGS = ["plans for a new footbridge", "the cost of the parking scheme", "a bid for lottery money",
           "changes to bus timetables", "the closure of the library branch", "a flood defence wall",
           "proposals for two hundred homes", "the summer festival budget", "repairs to the sea wall",
           "a ban on overnight lorry parking"]  # fmt: skip
_DETAILS = ["The work is expected to take {n} weeks and will cost about \u00a3{m} million.",
            "More than {n} people signed a petition on the issue last month.",
            "A public meeting on the matter drew around {n} people on Tuesday evening.",
            "Officials said a decision would follow within {n} days of the consultation closing.",
            "The scheme was first proposed {n} years ago but stalled for lack of funding.",
            "Figures published on Monday show a rise of {n} per cent since the spring."]  # fmt: skip
_TOPICS = ["footbridge", "parking", "library", "flood wall", "bus routes", "housing", "festival",
           "sea wall", "lorry ban", "school places"]  # fmt: skip


def _sentence(rng: random.Random) -> str:
    return (
        f"At {rng.choice(_PLACES)}, {rng.choice(_PEOPLE)} {rng.choice(_VERBS)} "
        f"{rng.choice(_THINGS)} on {rng.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])}. "
        + rng.choice(_DETAILS).format(n=rng.randint(3, 900), m=rng.randint(2, 40))
    )


def headline(number: int) -> str:
    rng = random.Random(number * 7919)
    return (
        f"Wendmouth {rng.choice(_TOPICS)} row: {rng.choice(_PEOPLE)} {rng.choice(_VERBS)} plan No. {number}"
    )


def true_paragraphs(number: int) -> list[str]:
    """The article's own text: what a reader of the page would call its body."""
    rng = random.Random(number)
    paragraphs = [
        " ".join(_sentence(rng) for _ in range(rng.randint(2, 3))) for _ in range(rng.randint(6, 8))
    ]
    if number in QUOTED_BY:
        paragraphs.insert(3, QUOTE)
    return paragraphs


def _page(number: int, layout: str) -> bytes:
    own = true_paragraphs(number)
    if layout == "stub":
        body = [own[0].split(". ")[0] + ".", "Subscribers can read the full story in our app."]
        paragraphs = "\n".join(f"<p>{html.escape(text)}</p>" for text in body)
    else:
        other = (number + 5) % ARTICLES
        read_more = (
            f'More from the Gazette: <a href="{article_path(other)}">{html.escape(headline(other))}</a>'
        )
        body = [html.escape(text) for text in own]
        blocks = [html.escape(text) for text in TEMPLATE_BLOCKS]
        paragraphs = "\n".join(
            f"<p>{text}</p>" for text in [*body[:2], blocks[0], *body[2:4], read_more, *body[4:], *blocks[1:]]
        )
    day = 1 + number % 28
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(headline(number))} | {PUBLISHER}</title>
<meta property="og:site_name" content="{PUBLISHER}">
<meta property="article:published_time" content="2026-11-{day:02d}T09:30:00+00:00">
</head><body>
<header><a href="/">{PUBLISHER}</a><nav><a href="/news/">News</a> <a href="/sport/">Sport</a></nav></header>
<main><article>
<h1>{html.escape(headline(number))}</h1>
<p class="byline">By Alex Morgan</p>
{paragraphs}
</article></main>
<footer><p>&copy; 2026 {PUBLISHER}. All rights reserved.</p></footer>
</body></html>""".encode()


def article_path(number: int) -> str:
    return f"/news/2026/11/story-{number:02d}.html"


def index(numbers: range) -> bytes:
    links = "\n".join(f'<li><a href="{article_path(n)}">{html.escape(headline(n))}</a></li>' for n in numbers)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{PUBLISHER}</title></head>
<body><h1>{PUBLISHER}</h1><ul>{links}</ul></body></html>""".encode()


def routes(layout: str = "normal") -> dict[str, Reply]:
    """Every article, and an index page per block of ten (``/index-0.html`` ... ``/index-3.html``)."""
    found = {article_path(n): Reply(_page(n, layout)) for n in range(ARTICLES)}
    for block in range(4):
        found[f"/index-{block}.html"] = Reply(index(range(block * 10, block * 10 + 10)))
    found["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    return found
