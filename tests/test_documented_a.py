"""Documented behaviours checked by real crawls: exit codes, duplicates, discovery limits, refreshes.

Each test runs the real ``scrapy`` commands in a subprocess against servers on loopback
(tests/hostile.py), whose pages are written here by hand: a headline, a byline, a date in the
markup and a body of four paragraphs (about 110 words, over ``NEWS_EXTRACT_MIN_WORDS``). Every
article is about another town, so that no two bodies share a paragraph (no template line is
learned, no text is a duplicate unless a test serves it twice). Expected values come from
the docs and from these pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crawling import crawl_env, read_parts, run_in, run_summary
from tests.hostile import HostileServer, Reply, hostile_server

REPO_SCHEMA = Path(__file__).resolve().parent.parent / "schema" / "record.schema.json"
XML = {"Content-Type": "application/xml"}
OLD_DAY = "2023-09-04T10:30:00+00:00"  # years before any max_age and refresh window


def moment(ago: timedelta) -> datetime:
    """A time ``ago`` before now, to the second, never at midnight (read as a bare day)."""
    return (datetime.now(UTC) - ago).replace(second=17, microsecond=0)


def iso(when: datetime) -> str:
    return when.isoformat()


def utc(when: datetime) -> str:
    """As a record states an instant."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(town: str) -> str:
    return f"{town.lower()}-council-approves-harbour-wall"


def title(town: str) -> str:
    return f"{town} council approves new harbour wall"


def body(town: str) -> list[str]:
    return [
        f"The {town} council voted on Tuesday evening to build a new harbour wall, ending a debate "
        f"about the future of the {town} waterfront that had divided residents for most of the year.",
        f"Engineers told councillors that the old wall in {town} had been patched so often that another "
        "winter of storms could breach it, flooding the fish market and the houses behind the quay.",
        f"Work in {town} is due to start in the spring and should take eighteen months; the harbour "
        "will stay open to fishing boats throughout, with one berth closed at a time while crews work.",
        f"Shopkeepers on the {town} quay said they were relieved, although several asked the council "
        "to keep the footpath along the water open for the summer visitors their trade depends on.",
    ]


def article(
    town: str,
    *,
    published: str,
    modified: str | None = None,
    update: str = "",
) -> str:
    """An article page: ``update`` is one more paragraph (a changed text)."""
    head = f"<meta property='article:published_time' content='{published}'>"
    if modified:
        head += f"<meta property='article:modified_time' content='{modified}'>"
    paragraphs = body(town) + ([update] if update else [])
    text = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title(town)} - The Coast Courier</title><meta property='og:type' content='article'>"
        f"{head}</head><body><header><a href='/'>The Coast Courier</a></header>"
        f"<main><article><h1>{title(town)}</h1><p class='byline'>By Mary Stone</p>{text}"
        "</article></main><footer>The Coast Courier</footer></body></html>"
    )


def page(html: str) -> Reply:
    return Reply(html.encode())


def start_page(links: list[str]) -> Reply:
    """A section page of bare links: no dates, no teasers."""
    items = "".join(f"<li><a href='{link}'>{link.rsplit('/', 1)[-1]}</a></li>" for link in links)
    return page(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>News - The Coast Courier"
        f"</title></head><body><h1>News</h1><ul>{items}</ul></body></html>"
    )


def urlset(entries: list[tuple[str, str | None]]) -> Reply:
    urls = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for loc, lastmod in entries
    )
    xml = f"<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
    return Reply(xml.encode(), headers=XML)


def sitemap_index(entries: list[tuple[str, str]]) -> Reply:
    maps = "".join(
        f"<sitemap><loc>{loc}</loc><lastmod>{lastmod}</lastmod></sitemap>" for loc, lastmod in entries
    )
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{maps}</sitemapindex>"
    )
    return Reply(xml.encode(), headers=XML)


def server_error() -> Reply:
    return Reply(b"internal server error", 500, {"Content-Type": "text/plain"})


def requested(server: HostileServer) -> list[str]:
    """The paths requested, in order (robots.txt left out)."""
    return [path for _, path in server.requests if path != "/robots.txt"]


@dataclass
class Run:
    code: int
    stderr: str
    output: Path

    @property
    def summary(self) -> dict[str, Any]:
        return run_summary(self.output)

    @property
    def records(self) -> list[dict[str, Any]]:
        return read_parts(self.output)


def crawl(env: dict[str, str], output: Path, *args: str) -> Run:
    process = run_in(env, *args, "-s", f"NEWS_OUTPUT={output}")
    return Run(process.returncode, process.stderr, output)


def sources(tmp_path: Path, text: str) -> dict[str, str]:
    """A state and a sources file of the test's own."""
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return crawl_env(NEWS_SOURCES=str(path), NEWS_STATE=str(tmp_path / "state" / "news.sqlite"))


# --- 1. exit 1 above NEWS_MAX_ERROR_RATE ----------------------------------------------------


def test_failed_fetches_above_news_max_error_rate_fail_the_run(tmp_path: Path) -> None:
    good = f"/news/{slug('Ashford')}.html"
    broken = [f"/news/broken-story-number-{name}.html" for name in ("one", "two", "three")]
    routes = {"/news/": start_page([good, *broken]), good: page(article("Ashford", published=OLD_DAY))}
    routes.update({path: server_error() for path in broken})
    with hostile_server(routes) as server:
        text = f'[sources.courier]\nstart_urls = ["{server.url("/news/")}"]\nmax_depth = 1\n'
        env = sources(tmp_path, text)
        failed = crawl(env, tmp_path / "out-default", "crawlall")
        # the same run on a state of its own, allowing 90 % of failed fetches
        env["NEWS_STATE"] = str(tmp_path / "state2" / "news.sqlite")
        allowed = crawl(env, tmp_path / "out-allowed", "crawlall", "-s", "NEWS_MAX_ERROR_RATE=0.9")

    # 5 pages fetched (the section, the article, three 500s after their retries): 3 failed = 60 % > 50 %
    assert failed.code == 1, failed.stderr[-3000:]
    summary = failed.summary
    assert summary["status"] == "failed"
    assert summary["pages_fetched"] == 5
    assert summary["dropped"] == {"http_error": 3}
    assert summary["stats"]["news/http_status/500"] == 3
    assert summary["records_written"] == 1
    assert len(summary["problems"]) == 1 and "NEWS_MAX_ERROR_RATE" in summary["problems"][0]

    assert allowed.code == 0, allowed.stderr[-3000:]
    assert allowed.summary["status"] == "ok" and allowed.summary["problems"] == []
    assert allowed.summary["dropped"] == {"http_error": 3}
    assert [record["title"] for record in allowed.records] == [title("Ashford")]


# --- 2. exit 1 for a pipeline error ----------------------------------------------------------


def test_a_pipeline_step_that_raises_is_a_pipeline_error_and_fails_the_run(tmp_path: Path) -> None:
    # A valid JSON Schema (it passes check_schema) whose "title" points at a definition that does
    # not exist: validating a record with a title raises (an unresolvable $ref) instead of
    # reporting an error, a real unexpected exception in the validate step.
    schema = json.loads(REPO_SCHEMA.read_text(encoding="utf-8"))
    schema["properties"]["title"] = {"$ref": "#/$defs/no_such_definition"}
    schema_path = tmp_path / "dangling-ref.schema.json"
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    path = f"/news/{slug('Brampton')}.html"
    with hostile_server({path: page(article("Brampton", published=OLD_DAY))}) as server:
        run = crawl(
            crawl_env(), tmp_path / "out", "crawl", "article", "-a", f"url={server.url(path)}",
            "-s", f"NEWS_VALIDATE_SCHEMA={schema_path}",
        )  # fmt: skip

    assert run.code == 1, run.stderr[-3000:]
    summary = run.summary
    assert summary["pages_fetched"] == 1 and summary["records_extracted"] == 1  # it did reach the step
    assert summary["dropped"] == {"pipeline_error": 1}
    assert summary["records_written"] == 0 and run.records == []
    assert summary["status"] == "failed"
    assert summary["problems"] == ["1 pipeline error(s)"]


# --- 3. exit 1 for a crawl that did not finish -----------------------------------------------


def test_a_crawl_that_does_not_finish_fails_the_run(tmp_path: Path) -> None:
    path = f"/news/{slug('Carlow')}.html"

    def slow(before: int) -> Reply:
        time.sleep(5)  # far longer than CLOSESPIDER_TIMEOUT
        return page(article("Carlow", published=OLD_DAY))

    with hostile_server({path: slow}) as server:
        run = crawl(
            crawl_env(), tmp_path / "out", "crawl", "article", "-a", f"url={server.url(path)}",
            # only the unfinished crawl may fail this run, not the page it cut off
            "-s", "CLOSESPIDER_TIMEOUT=2", "-s", "NEWS_MAX_ERROR_RATE=1", "-s", "RETRY_TIMES=0",
        )  # fmt: skip
        assert requested(server) == [path]

    assert run.code == 1, run.stderr[-3000:]
    summary = run.summary
    assert summary["finish_reason"] == "closespider_timeout"
    assert summary["status"] == "failed"
    assert len(summary["problems"]) == 1 and "did not finish" in summary["problems"][0], summary["problems"]


# --- 4. exit 2 for a setting whose value cannot be used --------------------------------------


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        pytest.param("NEWS_DATES_TIMEZONE", "Mars/Olympus", id="unknown-time-zone"),
        pytest.param("NEWS_VALIDATE_SCHEMA", "{tmp}/no-such-schema.json", id="missing-schema-file"),
    ],
)
def test_crawlall_exits_2_for_a_setting_of_the_right_type_that_cannot_be_used(
    tmp_path: Path, setting: str, value: str
) -> None:
    path = f"/news/{slug('Dunmore')}.html"
    routes = {"/news/": start_page([path]), path: page(article("Dunmore", published=OLD_DAY))}
    with hostile_server(routes) as server:
        env = sources(tmp_path, f'[sources.courier]\nstart_urls = ["{server.url("/news/")}"]\n')
        env[setting] = value.format(tmp=tmp_path)
        run = crawl(env, tmp_path / "out", "crawlall")
        assert requested(server) == []  # nothing fetched

    assert run.code == 2, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if "crawlall: cannot start" in line]
    assert len(lines) == 1 and setting in lines[0], run.stderr[-3000:]
    assert "Traceback" not in run.stderr


# --- 5. duplicates: kept with duplicate_of, or dropped ---------------------------------------


def test_the_same_text_under_another_url_is_kept_with_duplicate_of_or_dropped(tmp_path: Path) -> None:
    original = f"/news/{slug('Elmstead')}.html"
    copy = f"/partners/{slug('Elmstead')}-syndicated.html"
    mirror = f"/mirror/{slug('Elmstead')}-mirrored.html"
    html = article("Elmstead", published=OLD_DAY)  # no canonical link: each URL is its own article
    env = crawl_env(NEWS_STATE=str(tmp_path / "state" / "news.sqlite"))
    state = ("-s", "NEWS_STATE_ENABLED=true")
    with hostile_server({original: page(html), copy: page(html), mirror: page(html)}) as server:
        first = crawl(env, tmp_path / "out1", "crawl", "article", "-a", f"url={server.url(original)}", *state)
        kept = crawl(
            env, tmp_path / "out2", "crawl", "article", "-a", f"url={server.url(copy)}", *state,
            "-s", "NEWS_DEDUPE_KEEP_DUPLICATES=true",
        )  # fmt: skip
        dropped = crawl(env, tmp_path / "out3", "crawl", "article", "-a", f"url={server.url(mirror)}", *state)

    assert first.code == 0, first.stderr[-3000:]
    (first_copy,) = first.records
    assert first_copy["url"] == server.url(original)
    assert first_copy.get("duplicate_of") is None

    assert kept.code == 0, kept.stderr[-3000:]
    (second_copy,) = kept.records
    assert second_copy["url"] == server.url(copy)
    assert second_copy["id"] != first_copy["id"]
    assert second_copy["text"] == first_copy["text"]
    assert second_copy["duplicate_of"] == first_copy["id"]

    assert dropped.code == 0, dropped.stderr[-3000:]
    assert dropped.records == []
    assert dropped.summary["dropped"] == {"duplicate_content": 1}


# --- 6 and 7. discovery limits and skips, drops by the article's own date and offsite --------

CAPPED_TOWNS = ("Fairlie", "Glenrock", "Harwick", "Inverkip", "Jedburgh", "Kelso")


@dataclass
class Discovery:
    run: Run
    server: HostileServer
    elsewhere: HostileServer
    paths: dict[str, Any]

    def skipped(self, source: str) -> dict[str, int]:
        return self.run.summary["sources"][source]["skipped"]

    def dropped(self, source: str) -> dict[str, int]:
        return self.run.summary["sources"][source]["dropped"]

    def written(self, source: str) -> list[str]:
        return sorted(
            record["url"].removeprefix(self.server.base_url)
            for record in self.run.records
            if record["source"] == source
        )


@pytest.fixture(scope="module")
def discovery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Discovery]:
    """One `crawl news` of four sources on one server, each showing one rule."""
    work = tmp_path_factory.mktemp("discovery")
    fresh = iso(moment(timedelta(hours=1)))
    routes: dict[str, Any] = {}
    paths: dict[str, Any] = {}

    # capped: six articles on its start page, max_pages = 3
    capped = [f"/capped/news/{slug(town)}.html" for town in CAPPED_TOWNS]
    routes["/capped/"] = start_page(capped)
    for town, path in zip(CAPPED_TOWNS, capped, strict=True):
        routes[path] = page(article(town, published=OLD_DAY))
    paths["capped"] = capped

    # indexed: a sitemap index of four sitemaps, one article each; NEWS_DISCOVERY_MAX_SITEMAPS = 3
    children = [f"/indexed/sitemap-{n}.xml" for n in range(1, 5)]
    indexed_articles = [f"/indexed/news/{slug(town)}.html" for town in ("Lanark", "Moffat", "Nairn", "Oban")]
    routes["/indexed/sitemap-index.xml"] = sitemap_index(
        [(f"{{base}}{child}", f"2024-0{n}-01") for n, child in enumerate(children, start=1)]
    )
    for child, path, town in zip(
        children, indexed_articles, ("Lanark", "Moffat", "Nairn", "Oban"), strict=True
    ):
        routes[child] = urlset([(f"{{base}}{path}", None)])
        routes[path] = page(article(town, published=OLD_DAY))
    paths["indexed"] = (children, indexed_articles)

    # aged (max_age 2d): an index with a sitemap unchanged since 2020 and a recent one; the recent
    # one lists an article, a tag page and a section page
    aged_article = f"/aged/news/{slug('Peebles')}.html"
    routes["/aged/sitemap-index.xml"] = sitemap_index(
        [("{base}/aged/sitemap-archive.xml", "2020-01-01"), ("{base}/aged/sitemap-recent.xml", fresh)]
    )
    routes["/aged/sitemap-archive.xml"] = urlset(
        [(f"{{base}}/aged/news/{slug('Rothesay')}.html", "2020-01-01")]
    )
    routes["/aged/sitemap-recent.xml"] = urlset(
        [(f"{{base}}{aged_article}", fresh), ("{base}/tag/harbour/", fresh), ("{base}/world/", fresh)]
    )
    routes[aged_article] = page(article("Peebles", published=fresh))
    routes[f"/aged/news/{slug('Rothesay')}.html"] = page(article("Rothesay", published=fresh))
    paths["aged"] = aged_article

    # dated (max_age 2d): a start page without dates; one fresh article, one from 2023, and one
    # whose URL redirects to another site (127.0.0.2)
    dated_fresh, dated_old = f"/dated/news/{slug('Selkirk')}.html", f"/dated/news/{slug('Thurso')}.html"
    moved = "/dated/news/story-moved-to-another-site.html"
    routes["/dated/"] = start_page([dated_fresh, dated_old, moved])
    routes[dated_fresh] = page(article("Selkirk", published=fresh))
    routes[dated_old] = page(article("Thurso", published=OLD_DAY))
    paths["dated"] = (dated_fresh, dated_old, moved)

    elsewhere_path = "/news/story-moved-to-another-site.html"
    with (
        hostile_server(
            {elsewhere_path: page(article("Ullapool", published=fresh))}, host="127.0.0.2"
        ) as elsewhere,
        hostile_server(routes) as server,
    ):
        routes[moved] = Reply(b"", 301, {"Location": elsewhere.url(elsewhere_path)})
        # the sitemaps name absolute URLs on this server
        for path, reply in list(routes.items()):
            if isinstance(reply, Reply) and b"{base}" in reply.body:
                routes[path] = Reply(
                    reply.body.replace(b"{base}", server.base_url.encode()), reply.status, reply.headers
                )
        base = server.base_url
        text = f"""
[sources.capped]
start_urls = ["{base}/capped/"]
max_depth = 1
max_pages = 3

[sources.indexed]
sitemaps = ["{base}/indexed/sitemap-index.xml"]

[sources.aged]
sitemaps = ["{base}/aged/sitemap-index.xml"]
max_age = "2d"

[sources.dated]
start_urls = ["{base}/dated/"]
max_depth = 1
max_age = "2d"
"""
        env = sources(work, text)
        run = crawl(env, work / "out", "crawl", "news", "-s", "NEWS_DISCOVERY_MAX_SITEMAPS=3")
        yield Discovery(run, server, elsewhere, paths)


def test_discovery_run_succeeds(discovery: Discovery) -> None:
    assert discovery.run.code == 0, discovery.run.stderr[-3000:]
    assert discovery.run.summary["problems"] == []


def test_max_pages_stops_a_source_at_that_many_article_requests(discovery: Discovery) -> None:
    fetched = [path for path in requested(discovery.server) if path in discovery.paths["capped"]]
    assert len(fetched) == len(set(fetched)) == 3
    assert discovery.skipped("capped").get("max_pages") == 3
    assert len(discovery.written("capped")) == 3
    assert set(discovery.written("capped")) == set(fetched)


def test_max_sitemaps_caps_the_sitemaps_an_index_fans_out_to(discovery: Discovery) -> None:
    children, articles = discovery.paths["indexed"]
    seen = requested(discovery.server)
    # the index counts: it and two of its four sitemaps make the three allowed
    assert seen.count("/indexed/sitemap-index.xml") == 1
    fetched = [child for child in children if child in seen]
    assert len(fetched) == 2
    assert discovery.skipped("indexed").get("max_sitemaps") == 2
    # each sitemap lists one article: those of the two fetched sitemaps are written, no other
    listed = dict(zip(children, articles, strict=True))
    assert discovery.written("indexed") == sorted(listed[child] for child in fetched)


def test_a_sitemap_unchanged_since_before_max_age_is_not_fetched(discovery: Discovery) -> None:
    seen = requested(discovery.server)
    assert "/aged/sitemap-archive.xml" not in seen
    assert f"/aged/news/{slug('Rothesay')}.html" not in seen
    assert "/aged/sitemap-recent.xml" in seen
    assert discovery.skipped("aged").get("too_old_sitemap") == 1


def test_section_and_tag_pages_in_a_sitemap_are_skipped_as_listings(discovery: Discovery) -> None:
    seen = requested(discovery.server)
    assert "/tag/harbour/" not in seen and "/world/" not in seen
    assert discovery.skipped("aged").get("listing") == 2
    assert discovery.written("aged") == [discovery.paths["aged"]]


def test_an_article_older_than_max_age_by_its_own_date_is_dropped_too_old(discovery: Discovery) -> None:
    fresh, old, _ = discovery.paths["dated"]
    seen = requested(discovery.server)
    assert old in seen  # nothing said its age before it was downloaded
    assert discovery.dropped("dated").get("too_old") == 1
    assert discovery.written("dated") == [fresh]


def test_an_article_that_redirects_off_the_source_is_dropped_offsite(discovery: Discovery) -> None:
    _, _, moved = discovery.paths["dated"]
    assert moved in requested(discovery.server)
    assert requested(discovery.elsewhere) == []
    assert discovery.dropped("dated").get("offsite") == 1
    assert not [record for record in discovery.run.records if "127.0.0.2" in record["url"]]


# --- 8. the refresh window, and modified_at -------------------------------------------------


def test_refresh_window_refetches_fresh_articles_and_skips_older_ones(tmp_path: Path) -> None:
    inside, outside, changed = "Wick", "Yell", "Zennor"
    path = {town: f"/news/{slug(town)}.html" for town in (inside, outside, changed)}
    one_hour_ago, three_hours_ago = moment(timedelta(hours=1)), moment(timedelta(hours=3))
    first_modified = one_hour_ago + timedelta(minutes=10)
    routes = {
        "/news/": start_page(list(path.values())),
        path[inside]: page(article(inside, published=iso(one_hour_ago))),
        path[outside]: page(article(outside, published=iso(three_hours_ago))),
        path[changed]: page(article(changed, published=iso(one_hour_ago), modified=iso(first_modified))),
    }
    # a refresh window of two hours: one hour after publication is inside it, three hours outside
    window = ("-s", "NEWS_REFRESH_WINDOW=7200", "-s", "NEWS_REFRESH_INTERVAL=0")
    with hostile_server(routes) as server:
        env = sources(
            tmp_path, f'[sources.courier]\nstart_urls = ["{server.url("/news/")}"]\nmax_depth = 1\n'
        )
        first = crawl(env, tmp_path / "out1", "crawlall", *window)
        newer = moment(timedelta(minutes=2))
        routes[path[changed]] = page(
            article(
                changed,
                published=iso(one_hour_ago),
                modified=iso(newer),
                update="Update: the council said on Wednesday that the contract would go to tender next month.",
            )
        )
        second = crawl(env, tmp_path / "out2", "crawlall", *window)
        fetches = requested(server)

    assert first.code == 0, first.stderr[-3000:]
    assert len(first.records) == 3
    (original,) = [record for record in first.records if record["url"] == server.url(path[changed])]
    assert original["modified_at"] == utc(first_modified)

    assert second.code == 0, second.stderr[-3000:]
    summary = second.summary
    assert fetches.count(path[outside]) == 1  # outside its window: not downloaded again
    assert summary["skipped"].get("seen") == 1
    assert fetches.count(path[inside]) == 2 and fetches.count(path[changed]) == 2
    assert summary["stats"]["news/refetched/fresh"] == 2
    assert summary["dropped"] == {"unchanged": 1}
    (update,) = second.records
    assert update["url"] == server.url(path[changed])
    assert update["version"] == 2 and update["id"] == original["id"]
    assert "go to tender next month" in update["text"]
    # the page's own update time, newer than the last emitted one
    assert update["modified_at"] == utc(newer)


def test_a_changed_text_under_a_stale_update_time_gets_the_fetch_time_as_modified_at(tmp_path: Path) -> None:
    town = "Ayton"
    path = f"/news/{slug(town)}.html"
    published = moment(timedelta(hours=1))
    stated = published + timedelta(minutes=10)  # the CMS never moves it
    routes = {
        "/news/": start_page([path]),
        path: page(article(town, published=iso(published), modified=iso(stated))),
    }
    with hostile_server(routes) as server:
        env = sources(
            tmp_path, f'[sources.courier]\nstart_urls = ["{server.url("/news/")}"]\nmax_depth = 1\n'
        )
        first = crawl(env, tmp_path / "out1", "crawlall")
        routes[path] = page(
            article(
                town,
                published=iso(published),
                modified=iso(stated),
                update="Update: the council said on Wednesday that the contract would go to tender next month.",
            )
        )
        second = crawl(env, tmp_path / "out2", "crawlall", "-s", "NEWS_REFRESH_INTERVAL=0")

    assert first.code == 0 and second.code == 0, second.stderr[-3000:]
    (original,) = first.records
    assert original["modified_at"] == utc(stated)
    (update,) = second.records
    assert update["version"] == 2
    # the page states no newer update time than the last emitted one: the time the change was fetched
    assert update["modified_at"] == update["fetched_at"]


# --- 9. crawl article with the state on remembers ---------------------------------------------


def test_crawl_article_with_the_state_on_remembers_what_it_emitted(tmp_path: Path) -> None:
    fresh_town, old_town = "Banff", "Cromer"
    fresh, old = f"/news/{slug(fresh_town)}.html", f"/news/{slug(old_town)}.html"
    routes = {
        fresh: page(article(fresh_town, published=iso(moment(timedelta(hours=1))))),
        old: page(article(old_town, published=OLD_DAY)),
    }
    env = crawl_env(NEWS_STATE=str(tmp_path / "state" / "news.sqlite"))
    with hostile_server(routes) as server:
        args = (
            "crawl",
            "article",
            "-a",
            f"url={server.url(fresh)},{server.url(old)}",
            "-s",
            "NEWS_STATE_ENABLED=true",
        )
        first = crawl(env, tmp_path / "out1", *args)
        after_first = len(requested(server))
        again = crawl(env, tmp_path / "out2", *args)
        after_again = len(requested(server))
        # once the refresh interval has passed (here: at once), the fresh one is fetched again
        refreshed = crawl(env, tmp_path / "out3", *args, "-s", "NEWS_REFRESH_INTERVAL=0")
        last = requested(server)[after_again:]

    assert first.code == 0, first.stderr[-3000:]
    assert len(first.records) == 2

    # the identical second crawl: both emitted before, neither downloaded again
    assert again.code == 0, again.stderr[-3000:]
    assert again.records == []
    assert after_again == after_first
    assert again.summary["skipped"] == {"seen": 2}

    assert refreshed.code == 0, refreshed.stderr[-3000:]
    assert refreshed.records == []
    assert last == [fresh]
    assert refreshed.summary["dropped"] == {"unchanged": 1}
    assert refreshed.summary["skipped"] == {"seen": 1}
    assert refreshed.summary["stats"]["news/refetched/fresh"] == 1
