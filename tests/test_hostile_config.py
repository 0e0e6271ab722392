"""Hostile configuration (issue 19, cases 9, 10, 11 and 14, and SIGTERM): secrets in connection
strings, shard counts, out-of-range numbers, unsafe run ids, and a stop signal during long delays.

Every case runs the real command against a small local news site (``article_site``): a value that
cannot work stops the run at start with one line and exit code 2, no traceback and no request; a
stopped run ends within a bound and keeps every record it wrote.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.settings import Settings

import settings.base as base_settings
from crawler.run.settings_check import settings_problems
from crawler.state.store import display_location, mask_secrets
from tests.crawling import REPO, crawl_env, read_parts, run_in, run_scrapy, run_summary, scrapy_command
from tests.hostile import HostileServer, Reply, hostile_server

# --- a small news site -------------------------------------------------------------------------

_PLACES = ["Harbour Road", "the Old Market", "Northgate", "the railway station", "Castle Street", "Riverside"]
_WHO = ["the harbour master", "local traders", "the county council", "volunteers", "the fire service"]
_WHAT = ["a new footbridge", "repairs to the sea wall", "the parking scheme", "the library branch"]


def headline(site: str, number: int) -> str:
    return f"{site} story {number}: {_WHO[number % len(_WHO)]} and {_WHAT[number % len(_WHAT)]}"


def _paragraphs(site: str, number: int) -> list[str]:
    # every sentence names its site, story and paragraph: no two paragraphs anywhere are alike
    return [
        f"In paragraph {p} of the {site} report number {number}, {_WHO[(number + p) % len(_WHO)]} met at "
        f"{_PLACES[(number * 3 + p) % len(_PLACES)]} to discuss {_WHAT[(number + 2 * p) % len(_WHAT)]}. "
        f"Residents asked {p + number + 2} questions about the cost, and officials promised an answer "
        f"within {p + 3} weeks of the meeting, said the {site} desk on its {number}th story of the month."
        for p in range(7)
    ]


def _article(site: str, number: int) -> Reply:
    body = "\n".join(f"<p>{text}</p>" for text in _paragraphs(site, number))
    return Reply(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{headline(site, number)}</title>
<meta property="article:published_time" content="2026-11-{number + 1:02d}T09:30:00+00:00">
</head><body><main><article><h1>{headline(site, number)}</h1>
<p class="byline">By Alex Morgan</p>
{body}
</article></main></body></html>""".encode()
    )


def article_site(site: str, articles: int) -> dict[str, Reply]:
    """A home page linking ``articles`` articles, and a robots.txt that allows everything."""
    routes = {f"/news/{site}-{n}.html": _article(site, n) for n in range(articles)}
    links = "".join(
        f'<li><a href="/news/{site}-{n}.html">{headline(site, n)}</a></li>' for n in range(articles)
    )
    routes["/"] = Reply(f"<!doctype html><html><body><h1>{site}</h1><ul>{links}</ul></body></html>".encode())
    routes["/robots.txt"] = Reply(b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    return routes


@pytest.fixture(scope="module")
def news_site() -> Iterator[HostileServer]:
    with hostile_server(article_site("Gazette", 3)) as server:
        yield server


def sources_for(server: HostileServer, path: Path, name: str = "gazette", extra: str = "") -> Path:
    path.write_text(f'[sources.{name}]\nstart_urls = ["{server.base_url}/"]\nmax_depth = 1\n{extra}', "utf-8")
    return path


def start_lines(process: subprocess.CompletedProcess[str], command: str = "crawlall") -> list[str]:
    return [line for line in process.stderr.splitlines() if f"{command}: cannot start" in line]


def assert_stopped_at_start(process: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Exit 2, no traceback, one line that says why (holding every ``expected`` text)."""
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    lines = start_lines(process)
    assert len(lines) == 1, process.stderr[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


# --- case 9: secrets of the state's connection string -----------------------------------------

SECRET = "Pw-d0nt-show"
# a port where nothing listens: every run stops at start; those the settings check lets through
# print their banner first
LEAKY_STATES = {
    "slash-in-password": (f"postgresql://news:ab/{SECRET}@127.0.0.1:1/news", False),
    "hash-in-password": (f"postgresql://news:ab#{SECRET}@127.0.0.1:1/news", True),
    "sslpassword-parameter": (
        f"postgresql://news@127.0.0.1:1/news?sslpassword={SECRET}&connect_timeout=3",
        True,
    ),
    "ampersand-in-password-parameter": (f"postgresql://news@127.0.0.1:1/news?password=a&{SECRET}", True),
    "keyword-value-string": (f"host=127.0.0.1 port=1 dbname=news password='a {SECRET}'", False),
    # libpq percent-decodes parameter names too: %70assword is password
    "percent-encoded-password-keyword": (
        f"postgresql://news@127.0.0.1:1/news?sslmode=disable&%70assword={SECRET}",
        True,
    ),
    "percent-encoded-sslpassword-keyword": (
        f"postgresql://news@127.0.0.1:1/news?sslmode=disable&ssl%70assword={SECRET}",
        True,
    ),
}


@pytest.mark.parametrize(("state", "banner"), LEAKY_STATES.values(), ids=LEAKY_STATES.keys())
def test_a_state_password_is_never_shown_in_the_log_or_the_run_files(
    news_site: HostileServer, tmp_path: Path, state: str, banner: bool
) -> None:
    output, metrics = tmp_path / "out", tmp_path / "news.prom"
    output.mkdir()  # an output of earlier runs: the start failure's summary goes there
    env = crawl_env(
        NEWS_SOURCES=str(sources_for(news_site, tmp_path / "sources.toml")),
        NEWS_OUTPUT=str(output),
        NEWS_STATE=state,
        NEWS_METRICS_FILE=str(metrics),
        PYTHONPATH=str(REPO),
    )
    # `news-ingest` in a folder of its own: a state string taken for a file path lands there
    process = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawlall"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    line = assert_stopped_at_start(process, "NEWS_STATE")
    assert SECRET not in process.stderr + process.stdout, process.stderr[-3000:]
    assert "***" in line or "news@127.0.0.1:1/news" in line, line  # the line still says which state
    if banner:
        (shown,) = [
            text for text in process.stderr.splitlines() if "news-ingest" in text and "; state " in text
        ]
        assert "state postgresql://news@127.0.0.1:1/news" in shown, shown
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.name != "sources.toml"]
    assert any(path.parent.name == "_runs" for path in written)  # the start failure's summary
    for path in written:
        assert SECRET not in str(path) and SECRET not in path.read_text("utf-8", errors="replace"), path


@pytest.mark.parametrize(
    "output",
    [f"s3://AKIAEXAMPLE:{SECRET}@news-bucket/articles", f"https://reader:{SECRET}@127.0.0.1:1/articles"],
    ids=["s3-key-and-secret", "https-user-and-password"],
)
def test_credentials_in_the_output_url_stop_the_run_and_are_never_shown(
    news_site: HostileServer, tmp_path: Path, output: str
) -> None:
    process = run_scrapy(
        "crawlall",
        NEWS_SOURCES=str(sources_for(news_site, tmp_path / "sources.toml")),
        NEWS_OUTPUT=output,
        NEWS_STATE=str(tmp_path / "state.sqlite"),
    )
    line = assert_stopped_at_start(process, "NEWS_OUTPUT")
    assert SECRET not in process.stderr + process.stdout, process.stderr[-3000:]
    assert "news-bucket" in line or "127.0.0.1:1" in line, line  # the line still says which output


@pytest.mark.parametrize(
    ("location", "shown", "secrets"),
    [
        ("postgresql://news:ab/cd@db:5432/news", "postgresql://news@db:5432/news", ["ab/cd"]),
        ("postgresql://news:a#b?c@db/news?sslmode=require", "postgresql://news@db/news?sslmode=require", ["a#b?c"]),
        ("postgresql://news:p@ss@db/news", "postgresql://news@db/news", ["p@ss"]),
        ("postgres://db/news?sslpassword=k3y-9&sslmode=require", "postgres://db/news?sslpassword=***&sslmode=require",
         ["k3y-9"]),
        ("postgresql://db/news?PassWord=x%26yz&application_name=me@x",
         "postgresql://db/news?PassWord=***&application_name=me@x", ["x%26yz", "x&yz"]),
        ("postgresql://h1:5432,h2:5433/news?oauth_client_secret=s3cr3t",
         "postgresql://h1:5432,h2:5433/news?oauth_client_secret=***", ["s3cr3t"]),
        ("host=db password='a b\\' c' user=news", "host=db password=*** user=news", ["a b' c"]),
        ("postgresql://u@h/db?sslmode=disable&%70assword=hunter22", "postgresql://u@h/db?sslmode=disable&%70assword=***",
         ["hunter22"]),
        ("postgresql://u@h/db?ssl%70assword=hun&ter22&%63onnect_timeout=3",
         "postgresql://u@h/db?ssl%70assword=***&%63onnect_timeout=3", ["hun&ter22"]),
        ("postgresql://db.internal/news", "postgresql://db.internal/news", []),
        ("./state/news.sqlite", "./state/news.sqlite", []),
    ],
)  # fmt: skip
def test_the_display_of_a_connection_string_follows_libpq_and_masks_every_secret(
    location: str, shown: str, secrets: list[str]
) -> None:
    assert display_location(location) == shown
    # an error message that quotes the location, and the secrets as libpq read them
    masked = mask_secrets(f"cannot connect to {location}: {', '.join(secrets)} refused", location)
    assert masked.startswith(f"cannot connect to {shown}: "), masked
    for secret in secrets:
        assert secret not in masked, masked


@pytest.mark.parametrize(
    "state",
    [
        f"host=db password={SECRET}",  # taken for a file path before: "no state at .../host=db password=..."
        f"postgresql://news@127.0.0.1:1/news?sslmode=disable&%70assword={SECRET}",
        f"postgresql://news:ab/{SECRET}@127.0.0.1:1/news",
    ],
    ids=["keyword-value-string", "percent-encoded-keyword", "slash-in-password"],
)
def test_the_sources_command_never_shows_a_state_secret(tmp_path: Path, state: str) -> None:
    env = crawl_env(NEWS_STATE=state, PYTHONPATH=str(REPO))
    process = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "sources"], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    assert SECRET not in process.stderr + process.stdout, process.stderr[-3000:]
    (line,) = [line for line in process.stderr.splitlines() if line.startswith("sources: ")]
    assert "NEWS_STATE" in line, line
    assert list(tmp_path.iterdir()) == []  # nothing made of the string either


# --- case 10: shards ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_sites() -> Iterator[list[HostileServer]]:
    with (
        hostile_server(article_site("Herald", 2), "127.0.0.2") as one,
        hostile_server(article_site("Courier", 2), "127.0.0.3") as two,
    ):
        yield [one, two]


def two_sources(servers: list[HostileServer], path: Path) -> Path:
    text = "".join(
        f'[sources.{name}]\nstart_urls = ["{server.base_url}/"]\nmax_depth = 1\n'
        for name, server in zip(("herald", "courier"), servers, strict=True)
    )
    path.write_text(text, "utf-8")
    return path


def _bounded_memory() -> None:
    # a crawl start needs far less; an allocation per shard of 100 million needs far more
    resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))


def test_a_shard_count_beyond_any_bound_stops_at_start(
    two_sites: list[HostileServer], tmp_path: Path
) -> None:
    before = [len(server.requests) for server in two_sites]
    env = crawl_env(NEWS_SOURCES=str(two_sources(two_sites, tmp_path / "sources.toml")))
    env["NEWS_OUTPUT"] = str(tmp_path / "out")
    process = subprocess.run(
        scrapy_command("crawlall", "--shard", "0/100000000"), cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120, check=False, preexec_fn=_bounded_memory,
    )  # fmt: skip
    assert_stopped_at_start(process, "0/100000000", "at most 100000")
    assert [len(server.requests) for server in two_sites] == before


@pytest.mark.parametrize("shard", ["2/3", "15/16"])
def test_a_shard_beyond_the_site_groups_has_nothing_to_crawl(
    two_sites: list[HostileServer], tmp_path: Path, shard: str
) -> None:
    # an Indexed Job of N pods whose sources file lost a site: the pods beyond the groups idle
    before = [len(server.requests) for server in two_sites]
    output = tmp_path / "out"
    process = run_scrapy(
        "crawlall", "--shard", shard, NEWS_SOURCES=str(two_sources(two_sites, tmp_path / "sources.toml")),
        NEWS_OUTPUT=str(output),
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    (line,) = [line for line in process.stderr.splitlines() if "has no site group" in line]
    assert (
        "WARNING" in line and f"Shard {shard} has no site group: the sources file has 2 site group(s)" in line
    )
    assert [len(server.requests) for server in two_sites] == before
    assert read_parts(output) == []


@pytest.mark.parametrize("groups", [2, 3])
def test_shards_below_the_site_groups_crawl_one_group_each(
    groups: int, two_sites: list[HostileServer], tmp_path: Path
) -> None:
    # N=3 over 2 groups is planned as N=2: 0/3 and 1/3 crawl one group each, as 0/2 and 1/2 do
    sources = two_sources(two_sites, tmp_path / "sources.toml")
    titles = []
    for index in range(2):
        output = tmp_path / f"out{index}"
        process = run_scrapy(
            "crawlall", "--shard", f"{index}/{groups}", NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output)
        )
        assert process.returncode == 0, process.stderr[-3000:]
        assert f"Shard {index}/{groups}: 1 site group(s), 1 source(s)" in process.stderr
        titles.append(sorted(record["title"] for record in read_parts(output)))
    expected = {site: sorted(headline(site, n) for n in range(2)) for site in ("Herald", "Courier")}
    assert sorted(titles) == sorted(expected.values())


def test_an_empty_shard_option_is_refused(news_site: HostileServer, tmp_path: Path) -> None:
    before = len(news_site.requests)
    process = run_scrapy(
        "crawlall", "--shard=", NEWS_SOURCES=str(sources_for(news_site, tmp_path / "s.toml")),
        NEWS_OUTPUT=str(tmp_path / "out"),
    )  # fmt: skip
    assert_stopped_at_start(process, "--shard ''")
    assert len(news_site.requests) == before


# --- case 11: values that pass a type check and then crash or fail ---------------------------

SOURCE_CASES = {
    "huge-max-age": ('max_age = "99999999999999w"\n', "'max_age'"),
    "zero-max-age": ('max_age = "0s"\n', "'max_age'"),
    "nan-timeout": ("[sources.gazette.settings]\nDOWNLOAD_TIMEOUT = nan\n", "DOWNLOAD_TIMEOUT=nan"),
    "infinite-delay": ("[sources.gazette.settings]\nDOWNLOAD_DELAY = inf\n", "DOWNLOAD_DELAY=inf"),
    "huge-delay": ("[sources.gazette.settings]\nDOWNLOAD_DELAY = 1e308\n", "DOWNLOAD_DELAY=1e+308"),
    "negative-concurrency": ("[sources.gazette.settings]\nCONCURRENT_REQUESTS_PER_DOMAIN = -4\n", "=-4"),
    "huge-page-budget": ("max_pages = 100000000000\n", "'max_pages'"),
}


@pytest.mark.parametrize(("extra", "named"), SOURCE_CASES.values(), ids=SOURCE_CASES.keys())
def test_a_sources_value_out_of_range_stops_at_start(
    news_site: HostileServer, tmp_path: Path, extra: str, named: str
) -> None:
    before = len(news_site.requests)
    sources = sources_for(news_site, tmp_path / "sources.toml", extra=extra)
    # an infinite delay held the run for ever: the bound here only ends a run that hangs
    process = run_scrapy("crawlall", NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(tmp_path / "out"), timeout=90)
    assert_stopped_at_start(process, "[sources.gazette]", named)
    assert len(news_site.requests) == before


def test_a_deeply_nested_sources_file_and_a_name_with_a_newline_stop_at_start(
    news_site: HostileServer, tmp_path: Path
) -> None:
    nested = tmp_path / "nested.toml"
    nested.write_text(
        sources_for(news_site, tmp_path / "ok.toml").read_text() + "x = " + "[" * 100_000 + "\n"
    )
    newline = tmp_path / "newline.toml"
    newline.write_text(f'[sources."gazette\\n"]\nstart_urls = ["{news_site.base_url}/"]\n', "utf-8")
    before = len(news_site.requests)
    for sources, named in ((nested, "nested too deeply"), (newline, "a source name is")):
        process = run_scrapy("crawlall", NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(tmp_path / "out"))
        assert_stopped_at_start(process, str(sources), named)
    assert len(news_site.requests) == before


SETTING_CASES = {
    "health-min-runs-zero": ({"NEWS_HEALTH_MIN_RUNS": "0"}, [], "NEWS_HEALTH_MIN_RUNS=0"),
    "negative-boilerplate-pages": ({"NEWS_BOILERPLATE_MIN_PAGES": "-5"}, [], "NEWS_BOILERPLATE_MIN_PAGES=-5"),
    "negative-boilerplate-share": (
        {"NEWS_BOILERPLATE_MIN_SHARE": "-0.5"},
        [],
        "NEWS_BOILERPLATE_MIN_SHARE=-0.5",
    ),
    "nan-error-rate": ({"NEWS_MAX_ERROR_RATE": "nan"}, [], "NEWS_MAX_ERROR_RATE=nan"),
    "nan-timeout-flag": ({}, ["-s", "DOWNLOAD_TIMEOUT=nan"], "DOWNLOAD_TIMEOUT='nan'"),
    "infinite-delay-flag": ({}, ["-s", "DOWNLOAD_DELAY=inf"], "DOWNLOAD_DELAY='inf'"),
    "huge-delay-flag": ({}, ["-s", "DOWNLOAD_DELAY=1e308"], "DOWNLOAD_DELAY='1e308'"),
    "negative-refresh-flag": ({}, ["-s", "NEWS_REFRESH_INTERVAL=-60"], "NEWS_REFRESH_INTERVAL"),
}


@pytest.mark.parametrize(("env", "args", "named"), SETTING_CASES.values(), ids=SETTING_CASES.keys())
def test_a_setting_out_of_range_stops_at_start(
    news_site: HostileServer, tmp_path: Path, env: dict[str, str], args: list[str], named: str
) -> None:
    before = len(news_site.requests)
    sources = sources_for(news_site, tmp_path / "sources.toml")
    process = run_scrapy(
        "crawlall", *args, NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(tmp_path / "out"), timeout=90, **env
    )
    assert_stopped_at_start(process, named)
    assert len(news_site.requests) == before


def _numeric_settings() -> list[str]:
    return sorted(
        name
        for name, value in vars(base_settings).items()
        if name.startswith("NEWS_") and isinstance(value, (int, float)) and not isinstance(value, bool)
    )


@pytest.mark.parametrize(
    "name", [*_numeric_settings(), "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT", "CONCURRENT_REQUESTS"]
)
def test_every_numeric_setting_has_a_range(name: str) -> None:
    bad = ["-1000000000000000000", "1000000000000000000"]
    if not isinstance(getattr(base_settings, name, 1.0), int) or not name.startswith("NEWS_"):
        bad += ["nan", "inf", "-inf"]
    for value in bad:
        settings = Settings()
        settings.setmodule(base_settings)
        settings.set(name, value, priority="cmdline")
        problems = settings_problems(settings)
        assert any(name in problem for problem in problems), (name, value, problems)
    settings = Settings()
    settings.setmodule(base_settings)
    assert settings_problems(settings) == []  # every default is in its range


# Values users set, with Scrapy's documented meanings: 0 turns LogStats, the size limits, the depth
# limit and the CLOSESPIDER_* conditions off, and means "per domain" for CONCURRENT_REQUESTS_PER_IP
SCRAPY_VALUES_IN_USE = [
    ("LOGSTATS_INTERVAL", "0"), ("LOGSTATS_INTERVAL", "300"), ("DOWNLOAD_DELAY", "0.25"),
    ("CONCURRENT_REQUESTS", "256"), ("CONCURRENT_REQUESTS", "1000"), ("CONCURRENT_REQUESTS_PER_DOMAIN", "32"),
    ("CONCURRENT_REQUESTS_PER_IP", "0"), ("AUTOTHROTTLE_START_DELAY", "0"), ("AUTOTHROTTLE_MAX_DELAY", "120"),
    ("AUTOTHROTTLE_TARGET_CONCURRENCY", "0.5"), ("AUTOTHROTTLE_TARGET_CONCURRENCY", "16"), ("RETRY_TIMES", "0"),
    ("REDIRECT_MAX_TIMES", "0"), ("DOWNLOAD_MAXSIZE", "0"), ("DOWNLOAD_WARNSIZE", "0"), ("DEPTH_LIMIT", "0"),
    ("CLOSESPIDER_TIMEOUT", "0"), ("CLOSESPIDER_TIMEOUT", "5400.5"), ("CLOSESPIDER_ITEMCOUNT", "0"),
    ("CLOSESPIDER_PAGECOUNT", "0"), ("CLOSESPIDER_ERRORCOUNT", "0"), ("CLOSESPIDER_TIMEOUT_NO_ITEM", "0"),
    ("CLOSESPIDER_PAGECOUNT_NO_ITEM", "0"), ("DNS_TIMEOUT", "2.5"),
]  # fmt: skip
# and where 0 is no "off": Scrapy times out at once, AutoThrottle and the slots refuse it or never fetch
SCRAPY_VALUES_REFUSED = [
    ("DOWNLOAD_TIMEOUT", "0"), ("AUTOTHROTTLE_TARGET_CONCURRENCY", "0"), ("CONCURRENT_REQUESTS_PER_DOMAIN", "0"),
    ("CONCURRENT_REQUESTS", "0"), ("CLOSESPIDER_TIMEOUT_NO_ITEM", "-1"), ("CLOSESPIDER_PAGECOUNT_NO_ITEM", "nan"),
]  # fmt: skip


def _problems_with(name: str, value: str) -> list[str]:
    settings = Settings()
    settings.setmodule(base_settings)
    settings.set(name, value, priority="cmdline")
    return settings_problems(settings)


@pytest.mark.parametrize(
    ("name", "value"), SCRAPY_VALUES_IN_USE, ids=[f"{n}={v}" for n, v in SCRAPY_VALUES_IN_USE]
)
def test_scrapy_values_users_set_are_accepted(name: str, value: str) -> None:
    assert _problems_with(name, value) == []


@pytest.mark.parametrize(
    ("name", "value"), SCRAPY_VALUES_REFUSED, ids=[f"{n}={v}" for n, v in SCRAPY_VALUES_REFUSED]
)
def test_scrapy_values_that_cannot_work_are_refused(name: str, value: str) -> None:
    (problem,) = _problems_with(name, value)
    assert f"setting {name}=" in problem, problem


def test_a_crawl_with_logstats_off_and_zero_meaning_no_limit_runs(
    news_site: HostileServer, tmp_path: Path
) -> None:
    sources = sources_for(
        news_site, tmp_path / "sources.toml",
        extra="[sources.gazette.settings]\nDOWNLOAD_DELAY = 0.25\nDOWNLOAD_MAXSIZE = 0\n",
    )  # fmt: skip
    output = tmp_path / "out"
    values = ["LOGSTATS_INTERVAL=0", "CONCURRENT_REQUESTS=256", "RETRY_TIMES=0", "DOWNLOAD_MAXSIZE=0",
              "DOWNLOAD_WARNSIZE=0", "CLOSESPIDER_TIMEOUT=0", "CLOSESPIDER_ITEMCOUNT=0", "DEPTH_LIMIT=0"]  # fmt: skip
    process = run_scrapy(
        "crawlall", *(arg for value in values for arg in ("-s", value)), NEWS_SOURCES=str(sources),
        NEWS_OUTPUT=str(output),
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Crawled 0 pages" not in process.stderr  # LogStats off: its first line never comes
    titles = sorted(record["title"] for record in read_parts(output))
    assert titles == sorted(headline("Gazette", n) for n in range(3))


# --- case 14: run ids --------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", ["../../../escaped", "ABSOLUTE", ".hidden", "two words", "a/b", "x" * 101])
def test_an_unsafe_run_id_stops_at_start_and_writes_nothing_outside_the_output(
    news_site: HostileServer, tmp_path: Path, run_id: str
) -> None:
    run_id = str(tmp_path / "elsewhere" / "abs") if run_id == "ABSOLUTE" else run_id
    output = tmp_path / "a" / "b" / "c" / "out"
    output.mkdir(parents=True)  # an output of earlier runs: the start failure's summary goes there
    before = len(news_site.requests)
    process = run_scrapy(
        "crawlall", NEWS_SOURCES=str(sources_for(news_site, tmp_path / "sources.toml")),
        NEWS_OUTPUT=str(output), NEWS_RUN_ID=run_id,
    )  # fmt: skip
    assert_stopped_at_start(process, "NEWS_RUN_ID")
    assert len(news_site.requests) == before
    outside = [
        path for path in tmp_path.rglob("*")
        if path.is_file() and output not in path.parents and path.name != "sources.toml"
    ]  # fmt: skip
    assert outside == []
    # the start failure's summary is in the output, under an id of its own
    (summary,) = (output / "_runs").glob("*.json")
    assert json.loads(summary.read_text())["status"] == "not_started"


def test_a_safe_run_id_names_the_parts_and_the_summary(news_site: HostileServer, tmp_path: Path) -> None:
    output = tmp_path / "out"
    process = run_scrapy(
        "crawlall", NEWS_SOURCES=str(sources_for(news_site, tmp_path / "sources.toml")),
        NEWS_OUTPUT=str(output), NEWS_RUN_ID="nightly-2026.12.04_a",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    parts = sorted(path.name for path in output.rglob("*.jsonl"))
    assert parts == ["nightly-2026.12.04_a-00000.jsonl"]
    assert run_summary(output)["run_id"] == "nightly-2026.12.04_a"
    assert sorted(record["title"] for record in read_parts(output)) == sorted(
        headline("Gazette", n) for n in range(3)
    )


# --- SIGTERM: a bounded stop whatever the delays ------------------------------------------------


def _open_records(output: Path) -> int:
    return sum(len(path.read_text("utf-8").splitlines()) for path in output.rglob(".*.inprogress"))


def _started(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        scrapy_command("crawlall", *args), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for(condition: object, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"the run never reached {what}"
        time.sleep(0.1)


def _terminated_when(condition: object, process: subprocess.Popen[str], what: str) -> str:
    """SIGTERM once the run reaches ``what``; its log."""
    try:
        _wait_for(condition, process, what)
        process.send_signal(signal.SIGTERM)
        # a bound, not a measurement: without one a run held by an hour-long delay waited it out
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return stderr


def test_sigterm_ends_a_run_held_by_an_hour_long_delay_and_keeps_its_records(tmp_path: Path) -> None:
    with (
        hostile_server(article_site("Fast", 6), "127.0.0.4") as fast,
        hostile_server(article_site("Slow", 6), "127.0.0.5") as slow,
    ):
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[sources.fast]\nstart_urls = ["{fast.base_url}/"]\nmax_depth = 1\n'
            f'[sources.slow]\nstart_urls = ["{slow.base_url}/"]\nmax_depth = 1\n'
            # the largest delay the sources file accepts: a request an hour
            "[sources.slow.settings]\nDOWNLOAD_DELAY = 3600\n",
            "utf-8",
        )
        output = tmp_path / "out"
        process = _started(crawl_env(NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output)))
        stderr = _terminated_when(lambda: _open_records(output) == 6, process, "the fast site's six records")
        # the slow site's delay held: its first request of a slot goes at once (Scrapy delays the
        # ones after it), so robots.txt and the start page at most, and none of its articles
        requested = [path for _, path in slow.requests]
        assert requested[:1] == ["/robots.txt"] and set(requested) <= {"/robots.txt", "/"}, requested
    assert "Traceback" not in stderr, stderr[-3000:]
    assert process.returncode == 1, stderr[-3000:]  # the run did not finish
    assert not list(output.rglob(".*.inprogress"))  # the part was completed, not left for recovery
    assert sorted(record["title"] for record in read_parts(output)) == sorted(
        headline("Fast", n) for n in range(6)
    )
    summary = run_summary(output)
    assert summary["finish_reason"] == "shutdown" and summary["records_written"] == 6
    assert summary["stats"]["news/shutdown/cancelled"] >= 1


def test_sigterm_ends_a_run_held_by_a_download_that_never_ends(tmp_path: Path) -> None:
    routes = article_site("Stuck", 1)
    stuck = routes.pop("/")
    routes["/"] = lambda _: (time.sleep(300), stuck)[1]  # answers after five minutes
    with (
        hostile_server(article_site("Quick", 4), "127.0.0.6") as quick,
        hostile_server(routes, "127.0.0.7") as slow,
    ):
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[sources.quick]\nstart_urls = ["{quick.base_url}/"]\nmax_depth = 1\n'
            f'[sources.stuck]\nstart_urls = ["{slow.base_url}/"]\nmax_depth = 1\n',
            "utf-8",
        )
        output = tmp_path / "out"
        env = crawl_env(
            NEWS_SOURCES=str(sources),
            NEWS_OUTPUT=str(output),
            NEWS_SHUTDOWN_GRACE="3",
            NEWS_BOILERPLATE_LEARN="no",
        )
        process = _started(env, "-s", "DOWNLOAD_TIMEOUT=600")
        stderr = _terminated_when(
            lambda: _open_records(output) == 4 and "/" in [p for _, p in slow.requests], process, "4"
        )
        assert "Traceback" not in stderr, stderr[-3000:]
        assert process.returncode == 1, stderr[-3000:]
        # stopped before the download ended: its part is left as a kill leaves it, and the next
        # run completes it; no record is lost or doubled
        assert len(list(output.rglob(".*.inprogress"))) == 1
        rerun = run_in(
            env | {"NEWS_SOURCES": str(sources_for(quick, tmp_path / "quick.toml", "quick"))}, "crawlall"
        )
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    titles = [record["title"] for record in read_parts(output)]
    assert sorted(titles) == sorted(headline("Quick", n) for n in range(4))
