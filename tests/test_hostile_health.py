"""Issue 19, cases 7 and 8: health judges what a source discovered and wrote against its own
history, so a quiet hour is not an alarm and a source whose discovery collapses is.

A small news site of "The Harrow Ledger": articles (h1, byline, date, 6-8 paragraphs of their
own) linked from its home page `/`, newest first, every article published an hour ago (so each
run fetches the earlier ones again inside their refresh window, as cron runs do). Each test
crawls it with `crawlall` several times sharing one state, as cron would: three ordinary runs,
then the run under test.
"""

from __future__ import annotations

import html
import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.crawling import crawl_env, read_parts, run_in
from tests.hostile import HostileServer, Reply, hostile_server

PUBLISHER = "The Harrow Ledger"
_WHO = ["The borough council", "A spokesperson for the port", "The head of the fire service",
        "Local shopkeepers", "The rail operator", "Two parish councillors", "The hospital trust",
        "A group of residents", "The harbour authority", "The county's planning officer"]  # fmt: skip
_DID = ["confirmed", "disputed", "welcomed", "postponed", "questioned", "approved", "criticised",
        "costed", "reviewed", "extended"]  # fmt: skip
_WHAT = ["the footbridge repairs", "a new bus lane", "the market hall lease", "a flood barrier",
         "the school expansion", "a late-night licence", "the pier restoration", "a cycling route",
         "the car park charges", "a housing scheme"]  # fmt: skip
_WHERE = ["near the quay", "on Mill Lane", "at the old brewery", "beside the station", "in Eastgate",
          "on the seafront", "by the retail park", "at Kingsmead"]  # fmt: skip


def paragraphs(number: int) -> list[str]:
    """The article's own text: 6-8 paragraphs no other article shares (a seed per article)."""
    rng = random.Random(number * 104729)

    def sentence() -> str:
        return (
            f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)} {rng.choice(_WHERE)} "
            f"after {rng.randint(2, 97)} objections and a bill of {rng.randint(11, 990)} thousand pounds."
        )

    return [f"Story {number}, part {part}: " + " ".join(sentence() for _ in range(3))
            for part in range(rng.randint(6, 8))]  # fmt: skip


def headline(number: int) -> str:
    rng = random.Random(number)
    return f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)} (report {number})"


def article_path(number: int) -> str:
    return f"/news/2026/05/harrow-ledger-report-number-{number:03d}.html"


def article_page(number: int, published: datetime, stub: bool = False) -> bytes:
    own = paragraphs(number)
    if stub:  # a redesign that leaves a teaser in the page and loads the rest with JavaScript
        own = [own[0].split(". ")[0] + ".", "Subscribe to read the rest of this story."]
    body = "\n".join(f"<p>{html.escape(text)}</p>" for text in own)
    when = published.isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(headline(number))} | {PUBLISHER}</title>
<meta property="article:published_time" content="{when}">
</head><body>
<header><a href="/">{PUBLISHER}</a></header>
<main><article>
<h1>{html.escape(headline(number))}</h1>
<p class="byline">By Morgan Ellery</p>
<time datetime="{when}">{published:%d %B %Y}</time>
{body}
</article></main>
<footer><p>&copy; 2026 {PUBLISHER}</p></footer>
</body></html>""".encode()


def home_page(numbers: range) -> bytes:
    links = "\n".join(
        f'<li><a href="{article_path(n)}">{html.escape(headline(n))}</a></li>' for n in reversed(numbers)
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{PUBLISHER}</title></head>
<body><h1>{PUBLISHER}</h1><ul>
{links}
</ul></body></html>""".encode()


# What the home page becomes when the site turns into a JavaScript app: no links at all.
JS_SHELL = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The Harrow Ledger</title>
<script type="module" src="/static/app.4f9c2e.js"></script></head>
<body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>"""


@dataclass
class Site:
    """The site as it is now: how many articles it has published, and how it serves them."""

    server: HostileServer
    histories: Histories
    published: datetime = field(default_factory=lambda: datetime.now(timezone.utc) - timedelta(hours=1))

    def publish(
        self,
        count: int,
        *,
        home: str = "normal",
        articles: str = "normal",
        consent: str = "",
        teasers: int = 0,
    ) -> None:
        """``count`` articles; ``teasers``: the first (oldest) ones serve only a teaser now."""
        numbers = range(count)
        routes = self.server.routes
        routes.clear()
        routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        routes["/"] = Reply(JS_SHELL if home == "js_shell" else home_page(numbers))
        for number in numbers:
            path = article_path(number)
            if articles == "consent":  # every article answers with a redirect to a consent page elsewhere
                target = f"{consent}/consent?continue={quote(self.server.url(path), safe='')}"
                routes[path] = Reply(b"", 302, {"Location": target, "Content-Type": "text/html"})
            else:
                stub = articles == "stub" or number < teasers
                routes[path] = Reply(article_page(number, self.published, stub=stub))


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    """One server for the module: the histories below name its address."""
    with hostile_server({}) as server:
        yield server


@pytest.fixture
def site(server: HostileServer, histories: Histories) -> Site:
    return Site(server, histories)


@dataclass
class History:
    """The three ordinary runs of one kind, made once for the module: their folder (state,
    output, sources) and the publication time their pages gave."""

    folder: Path
    published: datetime


@dataclass
class Histories:
    root: Path
    made: dict[tuple[int, bool], History] = field(default_factory=dict)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Histories:
    return Histories(tmp_path_factory.mktemp("histories"))


def crawl(site: Site, tmp_path: Path, **env: str) -> tuple[int, dict[str, Any]]:
    """One `crawlall` sharing the test's state and output: its exit code and its run summary."""
    output, state, sources = tmp_path / "out", tmp_path / "state.sqlite", tmp_path / "sources.toml"
    sources.write_text(f'[sources.ledger]\nstart_urls = ["{site.server.url("/")}"]\nmax_depth = 1\n')
    settings = {
        "NEWS_SOURCES": str(sources),
        "NEWS_OUTPUT": str(output),
        "NEWS_STATE": str(state),
        "NEWS_REFRESH_INTERVAL": "0",  # every run fetches the fresh articles again, as hourly runs do
        "NEWS_HEALTH_FAIL_RUN": "true",
        **env,
    }
    process = run_in(crawl_env(**settings), "crawlall")
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    summaries = sorted((output / "_runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    summary = json.loads(summaries[-1].read_text())
    summary["records"] = [r for r in read_parts(output) if r["fetched_at"] >= summary["started_at"][:19]]
    summary["log"] = process.stderr
    return process.returncode, summary


def ordinary_runs(site: Site, tmp_path: Path, per_run: int, teasers: bool = False) -> None:
    """Three healthy runs, each finding ``per_run`` new articles on the home page (``teasers``: the
    articles of the earlier runs serve only a teaser now, as behind a metered paywall).

    The same three runs serve every test that asks for them: the first makes them, the others
    start from a copy of its folder as those runs left it."""
    made = site.histories.made.get((per_run, teasers))
    if made is not None:
        shutil.copytree(made.folder, tmp_path, dirs_exist_ok=True)
        site.published = made.published
        return
    for run in range(1, 4):
        site.publish(per_run * run, teasers=per_run * (run - 1) if teasers else 0)
        code, summary = crawl(site, tmp_path)
        assert code == 0, (summary["problems"], summary["log"][-3000:])
        assert len(summary["records"]) == per_run
        assert summary["health"]["ledger"].get("healthy", True) is True, summary["health"]
    folder = site.histories.root / f"{per_run}-{teasers}"
    shutil.copytree(tmp_path, folder)
    site.histories.made[(per_run, teasers)] = History(folder, site.published)


def warnings_of(summary: dict[str, Any]) -> list[str]:
    return [line for line in summary["log"].splitlines() if " WARNING: Source ledger looks broken" in line]


def test_a_quiet_hour_with_the_usual_refetches_is_not_an_alarm(site: Site, tmp_path: Path) -> None:
    """Case 7: 15, 15, 15 new articles, then 5. The home page lists all 50; the 45 earlier ones are
    fetched again (inside their refresh window, unchanged), so 51 pages are fetched for 5 written."""
    ordinary_runs(site, tmp_path, per_run=15)
    site.publish(50)
    code, quiet = crawl(site, tmp_path)

    health = quiet["health"]["ledger"]
    assert health.get("problems") == [] and health["healthy"] is True, health
    assert warnings_of(quiet) == []
    assert code == 0 and quiet["status"] == "ok", quiet["problems"]
    assert len(quiet["records"]) == 5
    figures = health["figures"]
    assert figures["pages_fetched"] == 51  # the home page, 45 refetches, 5 new articles
    assert figures["written"] == 5
    assert figures["articles_found"] == 50  # every link of the home page
    assert figures["new_articles"] == 5 and figures["new_written"] == 5
    assert figures["refetched"] == 45 and figures["refetched_stubs"] == 0
    # the usual: the median of the three runs (15, 30 and 45 articles found; 15 new, all written)
    assert health["usual"]["articles_found"] == 30 and health["usual"]["written"] == 15
    assert health["usual"]["new_unwritten"] == 0
    assert health["usual"]["refetched_stub_share"] == 0  # runs 2 and 3 fetched 15 and 30 again, whole


def test_a_home_page_turned_into_a_javascript_shell_is_flagged(site: Site, tmp_path: Path) -> None:
    """Case 8: after three ordinary runs the home page is `<div id="root">` and a script: one page
    fetched, nothing found, nothing written."""
    ordinary_runs(site, tmp_path, per_run=15)
    site.publish(60, home="js_shell")
    code, broken = crawl(site, tmp_path)

    health = broken["health"]["ledger"]
    assert health["healthy"] is False, health
    # the home page linked 15, 30 and 45 articles in the three runs: the usual is 30
    assert health["problems"] == ["article URLs found fell to 0 (usual 30)"], health
    assert code == 1 and broken["status"] == "failed"  # NEWS_HEALTH_FAIL_RUN is on
    assert "source 'ledger' looks broken: article URLs found fell to 0 (usual 30)" in broken["problems"]
    assert len(warnings_of(broken)) == 1
    assert health["figures"]["pages_fetched"] == 1 and health["figures"]["written"] == 0
    # `news-ingest sources` judges the last run the same way, and shows what it found
    env = crawl_env(NEWS_STATE=str(tmp_path / "state.sqlite"), NEWS_SOURCES=str(tmp_path / "sources.toml"))
    shown = run_in(env, "sources")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "ledger: UNHEALTHY" in shown.stdout, shown.stdout
    assert "! article URLs found fell to 0 (usual 30)" in shown.stdout
    assert (
        "0 article URLs found, 0 new (0 written), 0 fetched again (0 stubs), 0 redirected off-site, 1 pages"
        in shown.stdout
    )


def test_articles_redirected_to_an_offsite_consent_page_are_flagged(site: Site, tmp_path: Path) -> None:
    """Case 8: after three ordinary runs every article answers 302 to a consent page on another
    host; 15 new articles and the 45 fresh ones fetched again, all redirected away."""
    ordinary_runs(site, tmp_path, per_run=15)
    with hostile_server({"/consent": Reply(b"<html><body><h1>We value your privacy</h1></body></html>")},
                        host="127.0.0.2") as wall:  # fmt: skip
        site.publish(60, articles="consent", consent=wall.base_url)
        code, broken = crawl(site, tmp_path)

    health = broken["health"]["ledger"]
    assert health["healthy"] is False, health
    assert health["problems"] == [
        "articles written fell to 0 (usual 15) while 15 new article URLs were requested and not written "
        "(usual 0)",
        "60 of 60 article requests were redirected off the source's domains (usual 0%)",
    ], health
    assert code == 1 and broken["status"] == "failed"
    assert len(warnings_of(broken)) == 2
    assert health["figures"]["pages_fetched"] == 1 and broken["records"] == []
    assert broken["sources"]["ledger"]["dropped"]["offsite"] == 60


@pytest.mark.parametrize("change", ["js_shell", "stubs", "quiet"])
def test_a_small_source_collapsing_to_zero_is_flagged_and_its_quiet_hour_is_not(
    site: Site, tmp_path: Path, change: str
) -> None:
    """A source of four new articles a run: too few for the "fell under half" rules, but a fall to
    nothing (no article links on its home page, or every new article a stub) is a break; a run
    with no new article is not."""
    ordinary_runs(site, tmp_path, per_run=4)
    if change == "js_shell":
        site.publish(16, home="js_shell")
    elif change == "stubs":
        site.publish(16, articles="stub")
    else:
        site.publish(12)  # nothing new this hour
    code, run = crawl(site, tmp_path)

    health = run["health"]["ledger"]
    assert run["records"] == []
    expected = {
        # the home page linked 4, 8 and 12 articles: the usual is 8
        "js_shell": ["article URLs found fell to 0 (usual 8)"],
        # the four new articles are teasers, dropped as not_article; the usual run wrote 4 of 4
        # and the 12 articles of the earlier runs, fetched again, are teasers too
        "stubs": [
            "articles written fell to 0 (usual 4) while 4 new article URLs were requested and not "
            "written (usual 0)",
            "12 of 12 articles fetched again came out as stubs (usual 0%)",
        ],
        "quiet": [],
    }[change]
    assert health["problems"] == expected, health
    assert health["healthy"] is (not expected)
    assert code == (1 if expected else 0), run["problems"]
    if change == "stubs":
        assert run["sources"]["ledger"]["dropped"]["not_article"] == 4 + 12  # the refetched ones too


@pytest.mark.parametrize("usual", ["whole", "teasers"])
def test_a_quiet_hour_whose_known_articles_all_became_stubs_is_flagged(
    site: Site, tmp_path: Path, usual: str
) -> None:
    """An hour with no new article in which every article fetched again is a teaser now (the
    soak's seed 1, cycle 32): nothing new came out as nothing and nothing was redirected, but 12
    articles written before are stubs. A source whose articles always shrink to a teaser once
    fetched (a metered paywall) is not broken by it: its usual share of stubs is as high."""
    ordinary_runs(site, tmp_path, per_run=4, teasers=usual == "teasers")
    site.publish(12, articles="stub")  # nothing new this hour, and the page holds only a teaser
    code, quiet = crawl(site, tmp_path)

    health = quiet["health"]["ledger"]
    # the usual share of articles fetched again that came out as stubs: runs 2 and 3 fetched 4 and
    # 8 again, whole (or all teasers by then)
    expected = [] if usual == "teasers" else ["12 of 12 articles fetched again came out as stubs (usual 0%)"]
    assert health["problems"] == expected, health
    assert health["healthy"] is (not expected)
    assert code == (1 if expected else 0), quiet["problems"]  # NEWS_HEALTH_FAIL_RUN is on
    assert len(warnings_of(quiet)) == len(expected)
    assert health["usual"]["refetched_stub_share"] == (1 if usual == "teasers" else 0)
    figures = health["figures"]
    assert quiet["records"] == [] and figures["written"] == 0
    assert figures["new_articles"] == 0 and figures["articles_found"] == 12
    assert figures["refetched"] == 12 and figures["refetched_stubs"] == 12
    assert quiet["sources"]["ledger"]["dropped"]["not_article"] == 12
    if usual == "teasers":
        return
    env = crawl_env(NEWS_STATE=str(tmp_path / "state.sqlite"), NEWS_SOURCES=str(tmp_path / "sources.toml"))
    shown = run_in(env, "sources")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "ledger: UNHEALTHY" in shown.stdout, shown.stdout
    assert "! 12 of 12 articles fetched again came out as stubs (usual 0%)" in shown.stdout
    assert "12 article URLs found, 0 new (0 written), 12 fetched again (12 stubs)" in shown.stdout
