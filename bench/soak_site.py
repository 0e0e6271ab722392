"""The soak's news site: a few sources on loopback whose pages change between cron cycles.

Each source is a publisher on an address of its own (127.0.0.3, 127.0.0.4, ...; any port the
OS gives): a home page linking its newest ``HOME_ARTICLES`` articles (``archive``: all of
them), and article pages with a headline, a byline, a publication time and 6 to 8
paragraphs of their own, plus one newsletter line the source's template puts in every body.
The soak publishes articles, edits them (one paragraph replaced or one added: a new body)
and switches a source's layout (other markup around the same text) between cycles, and
breaks a source for a cycle or two:

- ``js_shell``: the home page is a JavaScript app shell (``<div id="root"></div>``): no links;
- ``consent``: every article answers 302 to a consent page on another host (``CONSENT_HOST``),
  outside the source's domains;
- ``stub``: every article page holds a two-sentence teaser.

The site knows the truth: every body it published, and every full article it served, in
which cycle (``served``), so the soak can count what a crawl had to write.
"""

from __future__ import annotations

import html
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

HOME_ARTICLES = 12
CONSENT_HOST = "127.0.0.2"
BREAKS = ("js_shell", "consent", "stub")
LAYOUTS = ("classic", "magazine")

_FIRST = ["Amara", "Jonas", "Priya", "Tomasz", "Leila", "Marcus", "Ingrid", "Kwame", "Sofia", "Dmitri",
          "Yuki", "Hamish", "Beatriz", "Olusegun", "Freya", "Rafael", "Anouk", "Callum", "Mei",
          "Idris"]  # fmt: skip
_LAST = ["Okafor", "Lindqvist", "Raman", "Kowalski", "Haddad", "Whitfield", "Berg", "Mensah", "Ferreira",
         "Volkov", "Tanaka", "McLeod", "Carvalho", "Adeyemi", "Nilsen", "Ortega", "de Vries", "Doyle",
         "Zhang", "Rahman"]  # fmt: skip
_ROLES = ["the council's finance chief", "a harbour engineer", "the head of the transport authority",
          "a local shopkeeper", "the regional health director", "a union representative",
          "the chair of the planning committee", "a retired ferry captain", "the school's principal",
          "an economist at the university", "the fire brigade's commander",
          "a spokesperson for the port"]  # fmt: skip
_VERBS = ["defended", "questioned", "welcomed", "criticised", "approved", "postponed", "reviewed",
          "rejected", "outlined", "challenged", "endorsed", "scrutinised", "unveiled", "paused"]  # fmt: skip
_THINGS = ["the plan to rebuild the northern pier", "a proposal to widen the coastal road",
           "the budget for the new library wing", "changes to the night bus network",
           "a scheme to insulate older flats", "the contract for the tram extension",
           "plans for a solar farm on the old quarry", "the closure of two rural clinics",
           "a levy on cruise ship passengers", "the redesign of the market square",
           "a pilot of free school breakfasts", "the sale of the former post office",
           "the dredging of the river mouth", "a ban on heavy lorries in the old town",
           "new flood barriers along the quay", "the expansion of the recycling depot"]  # fmt: skip
_PLACES = ["Eastbridge", "the Old Harbour", "Millbank", "St Olaf's", "the canal district", "Northgate",
           "the ferry terminal", "Kingsmoor", "the university quarter", "Saltmarsh Lane", "Highfield",
           "the industrial park", "Westcliff", "the cathedral close", "Riverside",
           "Fenwick Green"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_DETAILS = [
    "The work would take about {n} weeks and cost roughly {m} million euros, by the latest estimate.",
    "A petition on the issue has gathered {n} signatures since it opened in the spring.",
    "Around {n} residents attended a meeting about it at the community hall in {place}.",
    "Officials expect a final decision within {n} days, once the consultation has closed.",
    "The idea was first floated {n} years ago and has been shelved {m} times since.",
    "Figures released this week show a change of {n} per cent compared with the same month last year.",
    "Traders near {place} say footfall has dropped by a {adj} margin over the past {n} weeks.",
    "Opposition members asked for an independent audit covering the last {n} months of spending.",
    "Engineers found {n} faults during the inspection, {m} of which were described as urgent.",
    "Campaigners plan a march through {place} on {day}, their {n}th since the row began.",
]  # fmt: skip
_ADJ = ["noticeable", "worrying", "modest", "striking", "small but steady", "surprising"]
_TOPICS = ["pier", "coastal road", "library", "night buses", "insulation", "tram", "solar farm", "clinics",
           "cruise levy", "market square", "school meals", "post office", "river", "lorry ban"]  # fmt: skip


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _sentence(rng: random.Random) -> str:
    who = rng.choice([_name(rng), rng.choice(_ROLES)])
    lead = (
        f"In {rng.choice(_PLACES)}, {who} {rng.choice(_VERBS)} {rng.choice(_THINGS)} on {rng.choice(_DAYS)}."
    )
    detail = rng.choice(_DETAILS).format(
        n=rng.randint(3, 9000), m=rng.randint(2, 95), place=rng.choice(_PLACES), day=rng.choice(_DAYS),
        adj=rng.choice(_ADJ),
    )  # fmt: skip
    return f"{lead} {detail}"


def paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 3)))


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Article:
    number: int
    path: str
    title: str
    author: str
    published: datetime
    versions: list[list[str]]  # the body of each version the site published, oldest first
    modified: datetime | None = None

    @property
    def version(self) -> int:
        return len(self.versions)

    @property
    def paragraphs(self) -> list[str]:
        return self.versions[-1]


@dataclass
class Served:
    """A full article page the site answered with 200: which body a crawl could read, and when."""

    cycle: int
    source: str
    number: int
    version: int


@dataclass
class Source:
    name: str
    publisher: str
    host: str
    style: str  # how its article URLs look
    template_line: str
    rng: random.Random
    layout: str = "classic"
    broken: str | None = None  # one of BREAKS while broken
    archive: bool = False  # the home page links every article (the soak's final sweep)
    articles: list[Article] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def publish(self, now: datetime) -> Article:
        number = len(self.articles) + 1
        topic = self.rng.choice(_TOPICS)
        place, who, verb = self.rng.choice(_PLACES), _name(self.rng), self.rng.choice(_VERBS)
        title = f"{place} {topic} row: {who} {verb} plan No. {number}"
        slug = "-".join(title.lower().replace(":", "").replace("'", "").split()[:6])
        if self.style == "dated":
            path = f"/news/{now:%Y/%m/%d}/{slug}-{number}.html"
        elif self.style == "section":
            path = f"/{self.rng.choice(['politics', 'business', 'local'])}/{slug}-{number}"
        else:
            path = f"/article/{number}/{slug}"
        body = [paragraph(self.rng) for _ in range(self.rng.randint(6, 8))]
        article = Article(number, path, title, _name(self.rng), now, [body])
        self.articles.append(article)
        return article

    def edit(self, article: Article, now: datetime) -> None:
        """A new body: one paragraph rewritten, or one more at the end (a correction, an update)."""
        body = list(article.paragraphs)
        if self.rng.random() < 0.5:
            body[self.rng.randrange(1, len(body))] = paragraph(self.rng)
        else:
            body.append(paragraph(self.rng))
        article.versions.append(body)
        article.modified = now

    def on_home(self) -> list[Article]:
        newest = list(reversed(self.articles))
        return newest if self.archive else newest[:HOME_ARTICLES]

    # --- pages ------------------------------------------------------------------------------

    def home_page(self) -> bytes:
        if self.broken == "js_shell":
            return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{self.publisher}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/css/main.8c1f2a.css">
<script defer src="/static/js/main.3f9ab2.js"></script></head>
<body><noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root"></div></body></html>""".encode()
        articles = self.on_home()
        if self.layout == "classic":
            items = "\n".join(
                f'<li class="teaser"><a href="{a.path}">{html.escape(a.title)}</a> '
                f'<time datetime="{_iso(a.published)}">{a.published:%H:%M}</time></li>'
                for a in articles
            )
            main = f'<main><h1>{self.publisher}</h1><h2>Latest</h2><ul class="river">\n{items}\n</ul></main>'
        else:
            items = "\n".join(
                f'<div class="card"><h3 class="card-title"><a href="{a.path}">{html.escape(a.title)}</a></h3>'
                f'<span class="card-meta">By {html.escape(a.author)}</span></div>'
                for a in articles
            )
            main = (
                f'<div id="app-main"><div class="hero"><span class="brand">{self.publisher}</span></div>'
                f'<section class="cards">\n{items}\n</section></div>'
            )
        return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{self.publisher}: news</title>
<meta property="og:type" content="website"><meta property="og:site_name" content="{self.publisher}"></head>
<body><header><a href="/">{self.publisher}</a><nav><a href="/">Home</a></nav></header>
{main}
<footer><p>&copy; 2026 {self.publisher}</p></footer></body></html>""".encode()

    def article_page(self, article: Article) -> bytes:
        body = list(article.paragraphs)
        if self.broken == "stub":
            body = [body[0].split(". ")[0] + ".", "Subscribers can read the full story in our app."]
        else:
            body.insert(2, self.template_line)
        paragraphs = "\n".join(f"<p>{html.escape(text)}</p>" for text in body)
        title, author = html.escape(article.title), html.escape(article.author)
        published = _iso(article.published)
        modified = (
            f'<meta property="article:modified_time" content="{_iso(article.modified)}">\n'
            if article.modified
            else ""
        )
        head = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | {self.publisher}</title>
<link rel="canonical" href="{self.base_url}{article.path}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{self.publisher}">
<meta property="article:published_time" content="{published}">
{modified}</head>"""
        if self.layout == "classic":
            page = f"""<body>
<header class="site-header"><a href="/">{self.publisher}</a><nav><a href="/">Home</a></nav></header>
<main><article class="story">
<h1>{title}</h1>
<p class="byline">By {author}</p>
<time datetime="{published}">{article.published:%d %B %Y, %H:%M} UTC</time>
<div class="story-body">
{paragraphs}
</div></article></main>
<footer><p>&copy; 2026 {self.publisher}. All rights reserved.</p></footer>
</body></html>"""
        else:
            page = f"""<body><div id="page">
<div class="masthead"><a class="logo" href="/">{self.publisher}</a></div>
<div class="content-wrap"><div class="headline-block">
<h1 class="entry-title">{title}</h1>
<div class="entry-meta"><span class="author vcard">By <a rel="author" href="/authors/">{author}</a></span>
<span class="posted-on"><time class="entry-date" datetime="{published}">{article.published:%B %d, %Y}</time>
</span></div>
</div>
<div class="entry-content">
{paragraphs}
</div></div>
<div class="site-footer">{self.publisher} &middot; <a href="/">Home</a></div>
</div></body></html>"""
        return (head + "\n" + page).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawl killed mid-request resets its connections: expected here, not news


class Site:
    """Every source's server and the consent host's; what was served, per cycle."""

    def __init__(self, seed: int, names: tuple[str, ...] = ("harbour", "courier", "ledger")):
        rng = random.Random(seed)
        styles = ("dated", "section", "numbered")
        publishers = {
            "harbour": "The Harbour Post",
            "courier": "Kingsmoor Courier",
            "ledger": "Fenwick Ledger",
        }
        self.sources: dict[str, Source] = {}
        for index, name in enumerate(names):
            publisher = publishers.get(name, name.title())
            line = (
                f"Sign up for the morning briefing from {publisher}: the stories that matter to the county "
                "in your inbox every weekday before seven, with no advertising and one click to unsubscribe."
            )
            self.sources[name] = Source(
                name, publisher, f"127.0.0.{3 + index}", styles[index % 3], line, random.Random(rng.random())
            )
        self.cycle = 0
        self.served: list[Served] = []
        self.responses = 0  # article responses in the current cycle: what mid-run faults wait for
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self.consent_port = 0

    def start_cycle(self, cycle: int) -> None:
        with self._lock:
            self.cycle = cycle
            self.responses = 0

    def answered(self) -> int:
        with self._lock:
            return self.responses

    def reply(self, source: Source, path: str) -> tuple[int, dict[str, str], bytes]:
        page = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        if path == "/":
            return 200, page, source.home_page()
        for article in source.articles:
            if article.path == path:
                break
        else:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        with self._lock:
            self.responses += 1
            if source.broken == "consent":
                back = quote(source.base_url + path)
                target = f"http://{CONSENT_HOST}:{self.consent_port}/consent?continue={back}"
                return 302, {"Location": target, "Content-Type": "text/plain"}, b""
            if source.broken != "stub":
                self.served.append(Served(self.cycle, source.name, article.number, article.version))
            return 200, page, source.article_page(article)

    @staticmethod
    def consent_page() -> bytes:
        return b"""<!doctype html><html><head><title>Before you continue</title></head><body>
<div class="consent"><h1>We value your privacy</h1><p>We and our 812 partners use cookies.</p>
<button>Accept all</button> <button>Manage options</button></div></body></html>"""

    def _handler(self, source: Source | None) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if source is None:
                    status, headers, body = 200, {"Content-Type": "text/html"}, site.consent_page()
                else:
                    status, headers, body = site.reply(source, path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _serve(self, host: str, source: Source | None) -> int:
        server = _QuietServer((host, 0), self._handler(source))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return server.server_address[1]

    @contextmanager
    def running(self) -> Iterator[Site]:
        try:
            self.consent_port = self._serve(CONSENT_HOST, None)
            for source in self.sources.values():
                source.port = self._serve(source.host, source)
            yield self
        finally:
            for server in self._servers:
                server.shutdown()
                server.server_close()

    def sources_toml(self) -> str:
        """One table a source: its home page, depth 1, room for the final sweep's every article."""
        tables = []
        for source in self.sources.values():
            allow = "allow = ['/news/\\d{4}/']\n" if source.style == "dated" else ""
            tables.append(
                f'[sources.{source.name}]\nstart_urls = ["{source.base_url}/"]\nmax_depth = 1\n'
                f"max_pages = 5000\n{allow}"
            )
        return "\n".join(tables)
