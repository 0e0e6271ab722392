"""Hostile pages, written by hand: each breaks one thing, around an article whose fields are known.

The expected values of each case (title, date, language, what must be in the body) are
written here next to the page, from the page as a reader sees it.
"""

from __future__ import annotations

import json

PARAGRAPHS = (
    "The harbour ferry carried its first passengers in six months on Monday morning, after a refit "
    "that replaced both engines and the steering gear and ran three weeks over its schedule.",
    "Commuters from the north shore had faced a forty-minute detour by road since the spring, when "
    "the old engines failed a safety inspection and the operator withdrew the vessel from service.",
    "The operator said timetables would return to normal from next week, with two extra evening "
    "sailings on Fridays to make up for the months in which the service had been suspended.",
    "Local businesses near the pier welcomed the news. The owner of a cafe by the terminal said "
    "her takings had fallen by a third while the ferry was out of the water.",
)
TITLE = "Harbour ferry returns after refit"
FIRST_SENTENCE = "The harbour ferry carried its first passengers in six months on Monday morning"
LAST_SENTENCE = "her takings had fallen by a third while the ferry was out of the water."


def article(
    *,
    title: str = TITLE,
    head: str = "",
    byline: str = "<p class='byline'>By Jane Doe | Published 27 November 2026</p>",
    paragraphs: tuple[str, ...] = PARAGRAPHS,
    before: str = "",
    lang: str = "en",
    charset: str = "utf-8",
) -> str:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='{charset}'><title>{title} - The Lantern</title>"
        f"{head}</head><body><header><a href='/'>The Lantern</a></header>{before}"
        f"<main><article><h1>{title}</h1>{byline}{body}</article></main>"
        "<footer>(c) 2026 The Lantern</footer></body></html>"
    )


def json_ld(obj: dict[str, object]) -> str:
    return f"<script type='application/ld+json'>{json.dumps(obj)}</script>"


# (2) offsets out of range in the markup; the byline's date is the next best: 28 November 2026
BAD_OFFSETS = article(
    head="<meta property='article:published_time' content='2026-11-30T10:00:00+99:99'>",
    byline=(
        "<p class='byline'>By Jane Doe | Published 28 November 2026 "
        "<time datetime='2026-11-29T09:00:00+25:00'>Sunday morning</time></p>"
    ),
)
BAD_OFFSETS_DAY = "2026-11-28"
# ... and a page whose only markup date is such an offset: htmldate, asked next, raised on it;
# the page's address (/2026/11/26/) gives the day
ONLY_A_BAD_OFFSET = article(
    head="<meta property='article:published_time' content='2026-11-30T10:00:00+99:99'>",
    byline="<p class='byline'>By Jane Doe</p>",
)
ONLY_A_BAD_OFFSET_DAY = "2026-11-26"


def long_date(size: int) -> str:
    """(4) a datePublished of ``size`` characters of junk; the byline gives 27 November 2026."""
    junk = ("Lorem ipsum dolor sit amet 12, " * (size // 31 + 1))[:size]
    return article(head=json_ld({"@type": "NewsArticle", "headline": TITLE, "datePublished": junk}))


LONG_DATE_DAY = "2026-11-27"

# (5) a Russian page in cp1251, declared UTF-8 in the header and in <meta charset>
RUSSIAN_TITLE = "Городской совет утвердил бюджет на 2027 год"
RUSSIAN = article(
    title=RUSSIAN_TITLE,
    lang="ru",
    byline="<p class='byline'>Иван Петров, 27 ноября 2026</p>",
    paragraphs=(
        "Городской совет в четверг утвердил бюджет на следующий год. За проект проголосовали "
        "двадцать три депутата, против выступили четверо, ещё двое воздержались.",
        "Больше всего средств получат ремонт школ и дорог, а также новая линия трамвая, которую "
        "начнут строить весной. На общественный транспорт выделено на треть больше, чем в этом году.",
        "Мэр города заявил, что бюджет сбалансирован и не потребует новых займов. Оппозиция "
        "считает, что расходы на содержание администрации по-прежнему слишком велики.",
    ),
)
RUSSIAN_WORD = "трамвая"

# (5) a Japanese page in Shift_JIS, declared UTF-8
JAPANESE_TITLE = "東京の半導体メーカー、第二工場の建設を発表"
JAPANESE = article(
    title=JAPANESE_TITLE,
    lang="ja",
    byline="<p class='byline'>山田太郎 2026年11月27日</p>",
    paragraphs=(
        "東京に本社を置く半導体メーカーは二十七日、熊本県に第二工場を建設すると発表した。"
        "投資額は約三千億円で、二千二十八年の稼働を目指す。",
        "新工場では車載向けの半導体を生産し、約千二百人を新たに雇用する計画だ。"
        "同社の社長は記者会見で、需要の拡大に応えるための決断だと述べた。",
        "地元の自治体は工場の誘致を歓迎しており、道路や上下水道の整備を急ぐ方針を示した。",
    ),
)
JAPANESE_WORD = "熊本県"

# (5) bytes that no encoding reads as text, declared UTF-8: random high bytes between the tags
UNDECODABLE = article().replace(
    PARAGRAPHS[1], bytes((128 + (i * 89) % 128) for i in range(1500)).decode("latin-1")
)

# NUL and other control characters in the <title>, the <h1>, and a JSON-LD author
CONTROL_CHARACTERS = article(
    title="Harbour\x00 ferry returns\x07 after refit",
    head=json_ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Jane\u0000 Doe"}}),
    byline="",
)

# a decoy of 6,000 nested <div>s with a little text before the real article
DEEP_DECOY = article(before="<div>" * 6000 + "<p>Menu</p>" + "</div>" * 6000)


def huge_json_ld(size: int) -> str:
    """(8) a JSON-LD block of ``size`` bytes (a graph of thousands of objects) next to a normal article."""
    items = []
    total = 0
    n = 0
    while total < size:
        item = {"@type": "ListItem", "position": n, "name": f"Related story number {n}", "url": f"/s/{n}"}
        items.append(item)
        total += len(json.dumps(item)) + 2
        n += 1
    return article(
        head=json_ld({"@type": "NewsArticle", "headline": TITLE, "datePublished": "2026-11-27"})
        + json_ld({"@type": "ItemList", "itemListElement": items})
    )


def many_links(count: int) -> str:
    """(8) an article page with ``count`` links after it (a gigantic "more stories" box)."""
    links = "".join(f"<li><a href='/more/{n}.html'>Story {n}</a></li>" for n in range(count))
    return article().replace("</main>", f"</main><aside><ul>{links}</ul></aside>")


# A robots.txt of 11 MB (over DOWNLOAD_MAXSIZE): its rules first, then comments
ROBOTS_TXT = (
    b"User-agent: *\nDisallow: /private/\n" + b"# padding padding padding padding padding\n" * 270_000
)

_FEED_ITEMS = "<item><title>Ferry</title><link>/news/ferry.html</link></item>"
_BOMB_DOCTYPE = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
# (risk) entity bombs whose declaration hides past the first 64 KB, or in UTF-16
FEED_BOMB_LATE = (
    '<?xml version="1.0" encoding="utf-8"?><!-- '
    + "x" * 70_000
    + " -->"
    + _BOMB_DOCTYPE
    + f"<rss version='2.0'><channel><title>&d;</title>{_FEED_ITEMS}</channel></rss>"
).encode()
FEED_BOMB_UTF16 = (
    '<?xml version="1.0" encoding="utf-16"?>'
    + _BOMB_DOCTYPE
    + f"<rss version='2.0'><channel><title>&d;</title>{_FEED_ITEMS}</channel></rss>"
).encode("utf-16")
SITEMAP_BOMB_LATE = (
    '<?xml version="1.0" encoding="utf-8"?><!-- '
    + "x" * 70_000
    + " -->"
    + _BOMB_DOCTYPE.replace("rss", "urlset")
    + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/news/&d;.html</loc></url></urlset>'
).encode()
