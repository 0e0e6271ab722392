"""Template learning must never take real text out of a record (issue 19, cases 1-6 and the
memory risk). Each case is a small local site of articles (h1, byline, date, 6-8 paragraphs of
their own) linked from ``/index.html``, crawled with real ``crawlall`` runs on one state; the
expected texts are the pages' own paragraphs, known by construction."""

from __future__ import annotations

import html
import json
import random
import subprocess
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from crawler.state.sqlite import SqliteStateStore
from crawler.state.store import StateStore
from crawler.state.template_lines import LearningConfig, TemplateLearner
from tests import template_site
from tests.crawling import REPO, crawl_env, read_parts, run_in, scrapy_command
from tests.hostile import HostileServer, Reply, hostile_server

SOURCE = "wire"
PUBLISHED = "2026-11-20T09:30:00+00:00"
# refetch every emitted article (published 2026-11-20) on every run
REFRESH = {"NEWS_REFRESH_WINDOW": str(10**8), "NEWS_REFRESH_INTERVAL": "0"}


def own_paragraphs(number: int) -> list[str]:
    """An article's own reporting: 6-8 paragraphs no other article has."""
    return template_site.true_paragraphs(1000 + number)


def headline(number: int) -> str:
    return f"Wire story number {number}: {template_site.headline(1000 + number)}"


def article_path(number: int) -> str:
    return f"/news/2026/11/wire-{number:03d}.html"


def page(title: str, paragraphs: list[str]) -> Reply:
    """An article page; ``paragraphs`` are HTML (escaped text, or text with a link)."""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return Reply(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | The Wire</title>
<meta property="og:site_name" content="The Wire">
<meta property="article:published_time" content="{PUBLISHED}">
</head><body>
<header><a href="/">The Wire</a></header>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By Sam Ortiz</p>
{body}
</article></main>
<footer><p>&copy; 2026 The Wire</p></footer>
</body></html>""".encode()
    )


def index(paths: list[str]) -> Reply:
    links = "\n".join(f'<li><a href="{html.escape(path)}">Story {n}</a></li>' for n, path in enumerate(paths))
    return Reply(
        f"<!doctype html><html><head><title>The Wire</title></head><body><ul>{links}</ul></body></html>".encode()
    )


def escaped(paragraphs: list[str]) -> list[str]:
    return [html.escape(paragraph) for paragraph in paragraphs]


class Runs:
    """``crawlall`` runs of one source on one state, each with an output of its own."""

    def __init__(self, site: HostileServer, tmp_path: Path):
        self.site = site
        self.tmp_path = tmp_path
        self.state = tmp_path / "state.sqlite"
        self.sources = tmp_path / "sources.toml"
        self.sources.write_text(
            f'[sources.{SOURCE}]\nstart_urls = ["{site.url("/index.html")}"]\nmax_depth = 1\nallow = ["/news/"]\n'
        )
        self.number = 0

    def env(self, **extra: str) -> dict[str, str]:
        return crawl_env(NEWS_SOURCES=str(self.sources), NEWS_STATE=str(self.state), **extra)

    def output(self) -> Path:
        self.number += 1
        return self.tmp_path / f"out{self.number}"

    def crawl(self, paths: list[str], **extra: str) -> dict[str, Any]:
        """One run over an index of ``paths``: its summary, with its records under "records"."""
        self.site.routes["/index.html"] = index(paths)
        output = self.output()
        process = run_in(self.env(NEWS_OUTPUT=str(output), **extra), "crawlall")
        assert process.returncode == 0, process.stderr[-3000:]
        return summary_of(output, process.stderr)

    def sources_command(self, *args: str) -> Any:
        process = run_in(self.env(), "sources", *args)
        assert process.returncode == 0, process.stderr[-3000:]
        return json.loads(process.stdout) if "--json" in args else process.stdout


def summary_of(output: Path, log: str) -> dict[str, Any]:
    (path,) = (output / "_runs").glob("*.json")
    summary = json.loads(path.read_text())
    summary["records"] = read_parts(output)
    summary["log"] = log
    return summary


def by_number(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(record["url"].rsplit("-", 1)[1].split(".")[0]): record for record in records}


# --- cases 1 and 2: labels and figures are the article's own -------------------------------

LABELS = ("Why it matters", "The big picture", "What's next")
_ISSUES = ["the harbour levy", "the school merger", "the night bus trial", "the river crossing",
           "the market lease", "the sports grant", "the housing plan", "the depot closure"]  # fmt: skip


def labelled(number: int) -> list[str]:
    """The article's own paragraphs that open with a recurring label, each with its own text."""
    rng = random.Random(number)
    issue, other = rng.sample(_ISSUES, 2)
    return [
        f"Why it matters: {issue.capitalize()} decides what {rng.randint(200, 9000)} households pay from April.",
        f"The big picture: Councils across the county face the same squeeze as {other}, "
        f"with {rng.randint(3, 90)} schemes on hold.",
        f"What's next: A final vote on {issue} is due on day {number} of the consultation.",
    ]


def market_line(number: int) -> str:
    """A market report line that differs from the others only in its figures."""
    rng = random.Random(-number)
    points = f"{rng.randint(7000, 7999):,}.{rng.randint(0, 9)}"
    return (
        f"The FTSE 100 closed at {points} points, up 0.{rng.randint(1, 9)} per cent, as mining "
        f"shares rallied for a {rng.choice(['second', 'third', 'fourth'])} day."
    )


def briefing_routes(numbers: range) -> dict[str, Reply]:
    routes = {}
    for n in numbers:
        own = own_paragraphs(n)
        other = (n + 1) % len(numbers)
        read_more = f'More from The Wire: <a href="{article_path(other)}">{html.escape(headline(other))}</a>'
        paragraphs = [*escaped(own[:2]), *escaped(labelled(n)), *escaped(own[2:4]), html.escape(market_line(n)),
                      read_more, *escaped(own[4:])]  # fmt: skip
        routes[article_path(n)] = page(headline(n), paragraphs)
    return routes


@pytest.fixture(scope="module")
def briefings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Two runs (25 articles, then 10 more) of a source whose every article has three labelled
    paragraphs, a market line and a "More from The Wire: <link>" line; the summaries of both."""
    tmp_path = tmp_path_factory.mktemp("briefings")
    with hostile_server(briefing_routes(range(35))) as site:
        runs = Runs(site, tmp_path)
        first = runs.crawl([article_path(n) for n in range(25)])
        second = runs.crawl([article_path(n) for n in range(25, 35)])
    assert len(first["records"]) == 25 and len(second["records"]) == 10
    return [first, second]


def test_a_label_before_a_link_to_another_article_is_still_learned(briefings: list[dict[str, Any]]) -> None:
    """What is template is still learned and left out: the "More from The Wire:" label before a
    link to another article, and nothing else."""
    first, second = briefings
    assert [line["text"] for line in first["template_lines_learned"]] == ["more from the wire"]
    for record in second["records"]:
        assert "More from The Wire:" not in record["text"], record["url"]


def test_labels_that_open_an_articles_own_paragraphs_are_not_template(
    briefings: list[dict[str, Any]],
) -> None:
    """Case 1: "Why it matters: ...", "The big picture: ...", "What's next: ..." recur in every
    article, each followed by the article's own words: every record keeps all three."""
    records = by_number(briefings[0]["records"] + briefings[1]["records"])
    assert len(records) == 35
    for number, record in records.items():
        for paragraph in labelled(number):
            assert paragraph in record["text"], (number, paragraph)
        for paragraph in own_paragraphs(number):
            assert paragraph in record["text"], (number, paragraph)


def test_a_line_that_differs_only_in_its_figures_is_content(briefings: list[dict[str, Any]]) -> None:
    """Case 2: "The FTSE 100 closed at 7,512.3 points, up 0.4 per cent ..." is news in every record."""
    records = by_number(briefings[0]["records"] + briefings[1]["records"])
    assert len(records) == 35
    for number, record in records.items():
        assert market_line(number) in record["text"], number


# --- case 3: five pages teach nothing ----------------------------------------------------

AGENCY = (
    "The allegations, first reported by the Northern Courier, were denied in a statement by the "
    "company, which said it had complied with every rule and would cooperate fully with any inquiry."
)


def test_a_paragraph_shared_by_five_pages_of_a_new_source_stays_in_the_next_article(tmp_path: Path) -> None:
    """Case 3: a new source's first five pages share a paragraph (an agency paragraph, a repeated
    allegation, an attacker's pages); the next real article that quotes it keeps it."""
    routes = {article_path(n): page(headline(n), escaped([*own_paragraphs(n)[:3], AGENCY, *own_paragraphs(n)[3:]]))
              for n in range(6)}  # fmt: skip
    with hostile_server(routes) as site:
        runs = Runs(site, tmp_path)
        first = runs.crawl([article_path(n) for n in range(5)])
        second = runs.crawl([article_path(5)])
    assert len(first["records"]) == 5
    (record,) = second["records"]
    assert AGENCY in record["text"]
    for paragraph in own_paragraphs(5):
        assert paragraph in record["text"]
    assert "news/boilerplate/removed" not in second["stats"]


# --- case 4: copies are not articles -------------------------------------------------------

COPIES = ["/news/2026/11/budget.html", "/amp/news/2026/11/budget.html", "/print/news/2026/11/budget.html",
          "/m/news/2026/11/budget.html", "/lite/news/2026/11/budget.html"]  # fmt: skip
UPDATE = [
    "Update: After this article was first published, the council confirmed that the revised budget "
    "would be put to a second vote next month, once the auditors have reported on the cost of the "
    "new depot and the transport committee has reviewed the bus contract.",
    "The opposition group said it would table an amendment to protect the library budget, and "
    "several residents' associations asked for the vote to be held in the evening so that working "
    "people could attend the meeting in person.",
]


def test_copies_of_an_article_at_other_urls_do_not_count_as_articles(tmp_path: Path) -> None:
    """Case 4: one article at five URLs without a canonical link (amp, print, m, ?output=amp):
    the four copies are dropped as duplicates and not counted, and the article's next version
    keeps every paragraph."""
    own = own_paragraphs(40)
    routes: dict[str, Any] = {path: page(headline(40), escaped(own)) for path in COPIES}
    with hostile_server(routes) as site:
        runs = Runs(site, tmp_path)
        first = runs.crawl(COPIES)
        assert len(first["records"]) == 1
        assert first["stats"]["news/dropped/duplicate_content"] == 4
        assert runs.sources_command("--json")[SOURCE]["articles_counted"] == 1
        updated = page(headline(40), escaped([*own, *UPDATE]))
        site.routes.update({path: updated for path in COPIES})
        second = runs.crawl(COPIES, **REFRESH)
    # the URL written in the first run has its second version (a copy may now come out as an
    # article of its own: the dedupe step cannot tell it from one without a canonical link)
    versions = {record["url"]: record["version"] for record in second["records"]}
    assert versions[first["records"][0]["url"]] == 2, versions
    for record in second["records"]:
        for paragraph in [*own, *UPDATE]:
            assert paragraph in record["text"], (record["url"], paragraph)


# --- case 5: learning never makes a version --------------------------------------------------

DIGEST = (
    "Get the Evening Digest: the day's council, court and transport news from across the county, "
    "sent to your inbox at six o'clock every weekday evening."
)


def test_an_unchanged_page_stays_unchanged_when_a_learned_line_is_diluted(tmp_path: Path) -> None:
    """Case 5: a line learned early (in articles 0-9 and 20-25) is diluted by later articles
    without it and stops being template; the pages 20-25, which never changed, are not emitted
    again."""

    def body(n: int) -> list[str]:
        own = own_paragraphs(100 + n)
        return [*own[:3], DIGEST, *own[3:]] if n < 10 or 20 <= n < 26 else own

    routes = {article_path(n): page(headline(100 + n), escaped(body(n))) for n in range(58)}
    with hostile_server(routes) as site:
        runs = Runs(site, tmp_path)
        runs.crawl([article_path(n) for n in range(20)])  # the line in 10 of 20: learned
        learned = runs.crawl([article_path(n) for n in range(20, 26)])
        assert all(DIGEST not in record["text"] for record in learned["records"])  # template: left out
        runs.crawl([article_path(n) for n in range(26, 58)])  # 16 of 58: no longer template
        assert runs.sources_command("--json")[SOURCE]["template_lines"] == []
        refetched = runs.crawl([article_path(n) for n in range(20, 26)], **REFRESH)
    assert refetched["records"] == []
    assert refetched["stats"]["news/dropped/unchanged"] == 6


# --- case 6: --reset during a running crawl ---------------------------------------------------

FOOTER = (
    "The Wire is an independent newsroom. Our reporting is free to read because readers like you "
    "support it: become a member today and help us cover every council meeting in the county."
)


def test_a_reset_during_a_running_crawl_is_not_written_back(tmp_path: Path) -> None:
    """Case 6: `news-ingest sources --reset` while a crawl of the source runs: the crawl does
    not write back what the reset forgot."""
    release = threading.Event()

    def held(_: int) -> Reply:  # the run's last article waits until the reset is done
        release.wait(120)
        return page(headline(29), escaped([*own_paragraphs(29), FOOTER]))

    routes: dict[str, Any] = {article_path(n): page(headline(n), escaped([*own_paragraphs(n), FOOTER]))
                              for n in range(29)}  # fmt: skip
    routes[article_path(29)] = held
    with hostile_server(routes) as site:
        runs = Runs(site, tmp_path)
        runs.crawl([article_path(n) for n in range(25)])
        before = runs.sources_command("--json")[SOURCE]
        assert [line["text"] for line in before["template_lines"]] == [FOOTER[:160]]

        site.routes["/index.html"] = index([article_path(n) for n in range(25, 30)])
        log = tmp_path / "crawl.log"
        env = runs.env(NEWS_OUTPUT=str(runs.output()))
        with log.open("w") as stderr:
            crawl = subprocess.Popen(
                scrapy_command("crawlall", "-s", "LOG_LEVEL=DEBUG"), cwd=REPO, env=env,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        try:
            # the crawl has written articles of the source (so it holds what it learned of it)
            deadline = time.monotonic() + 120
            while log.read_text().count("Scraped from <200") < 4 or not site.times(article_path(29)):
                assert crawl.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
            reset = runs.sources_command("--reset", SOURCE)
            assert reset.startswith(f"Forgot what was learned of {SOURCE}'s template"), reset
        finally:
            release.set()
            assert crawl.wait(120) == 0, log.read_text()[-3000:]
    after = runs.sources_command("--json")[SOURCE]
    assert after["template_lines"] == [] and after["articles_counted"] == 0, after
    assert f"What was learned of {SOURCE}'s template was reset during the run" in log.read_text()


# --- the memory risk ------------------------------------------------------------------------


def test_memory_for_learning_is_bounded_across_sources(tmp_path: Path) -> None:
    """Fifty sources, each at its line limit (5,000 lines): the learner's memory stays within
    the documented figure for its default bound, not growing with the number of sources."""
    store = SqliteStateStore(tmp_path / "state.sqlite")
    rng = random.Random(7)
    words = list(dict.fromkeys("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(600)))
    tracemalloc.start()
    try:
        learner = TemplateLearner(store, LearningConfig())
        start = tracemalloc.get_traced_memory()[0]
        for source in range(50):
            for article in range(350):  # under the window (400): no count is halved
                # text of its own in every paragraph (letters only: digits are content now, not then)
                paragraphs = [f"{words[source]} {words[article]} {words[n]} story" for n in range(16)]
                learner.clean(f"site{source}", f"a{article}", paragraphs, "2026-12-03T10:00:00Z")
        held = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
        store.close()
    assert held < 30 * 1024 * 1024, f"{held / 2**20:.1f} MB"


def test_the_memory_bound_counts_lines_over_every_source_and_loses_nothing(tmp_path: Path) -> None:
    """The bound (NEWS_BOILERPLATE_MEMORY_LINES) is counted in lines and counted articles over
    every source; a source let go is saved first."""
    store = SqliteStateStore(tmp_path / "state.sqlite")
    learner = TemplateLearner(store, LearningConfig(memory_lines=3000))
    for source in range(5):
        for article in range(100):
            paragraphs = [f"source {source} article {article} paragraph {n}" for n in range(10)]
            learner.clean(f"site{source}", f"a{article}", paragraphs, "2026-12-03T10:00:00Z")
            assert learner.held <= 3000 or len(learner._sources) == 1
    learner.flush()
    # what was let go was saved first: nothing counted is lost
    assert store.template_sources() == {f"site{n}": 100 for n in range(5)}
    assert learner.loads == 5  # sources used one after the other: each read once
    store.close()


def test_a_reset_between_two_saves_of_a_crawl_is_not_undone(
    two_stores: tuple[StateStore, StateStore],
) -> None:
    """Case 6 on both stores: the counting a crawl holds when the source is reset is dropped,
    and what it counts after that starts from the reset."""
    crawl, command = two_stores
    learner = TemplateLearner(crawl, LearningConfig())
    for n in range(25):
        learner.clean(SOURCE, f"a{n}", [f"Story {n} of its own.", FOOTER], f"2026-12-03T10:{n:02d}:00Z")
    learner.flush()
    assert command.template_sources() == {SOURCE: 25}
    for n in range(25, 30):
        learner.clean(SOURCE, f"a{n}", [f"Story {n} of its own.", FOOTER], f"2026-12-03T11:{n:02d}:00Z")
    command.forget_template(SOURCE)
    learner.flush()  # the crawl's save after the reset
    assert command.load_template(SOURCE) == (0, {}, [])
    assert command.template_sources() == {}
    # the crawl goes on from the reset: nothing is template for a while, and it counts anew
    assert (
        learner.clean(SOURCE, "a30", ["Story 30 of its own.", FOOTER], "2026-12-03T12:00:00Z").removed == []
    )
    learner.flush()
    assert command.template_sources() == {SOURCE: 1}
