"""`crawlall --shard I/N`: each worker a fixed part of the sources, by site group; together
exactly what one worker does. Real crawls of sites on distinct loopback addresses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from crawler.discovery.sources import Source
from crawler.state.shards import Shard, parse_shard, plan, site_groups, site_of
from tests import template_site as site_pages
from tests.crawling import crawl_env, read_parts, run_in
from tests.hostile import HostileServer, hostile_server


def test_sources_that_share_a_site_are_one_group_and_the_plan_is_balanced() -> None:
    assert site_of("news.bbc.co.uk") == site_of("www.bbc.co.uk") == "bbc.co.uk"
    assert site_of("127.0.0.2") == "127.0.0.2"
    sources = {
        "bbc-news": Source("bbc-news", feeds=("https://feeds.bbc.co.uk/news/rss.xml",), max_pages=300),
        "bbc-sport": Source("bbc-sport", start_urls=("https://www.bbc.co.uk/sport/",), max_pages=300),
        "lemonde": Source("lemonde", start_urls=("https://www.lemonde.fr/",), max_pages=500),
        "elpais": Source("elpais", start_urls=("https://elpais.com/",), max_pages=200),
        "small": Source("small", start_urls=("https://small.example/",), max_pages=100),
    }
    assert site_groups(sources.values()) == {
        "bbc.co.uk": ["bbc-news", "bbc-sport"],
        "elpais.com": ["elpais"],
        "lemonde.fr": ["lemonde"],
        "small.example": ["small"],
    }
    # heaviest first, each to the least loaded shard: bbc (600) -> 0, lemonde (500) -> 1,
    # elpais (200) -> 1 (500 < 600), small (100) -> 0 (600 < 700)
    assert plan(sources, 2) == [
        {"bbc.co.uk": ["bbc-news", "bbc-sport"], "small.example": ["small"]},
        {"lemonde.fr": ["lemonde"], "elpais.com": ["elpais"]},
    ]
    assert plan(sources, 2) == plan(dict(reversed(sources.items())), 2)  # the file's order does not matter
    assert parse_shard("3/16") == Shard(3, 16) and parse_shard("3/16").tag == "s03of16"
    for bad in ("4/4", "-1/4", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="shard"):
            parse_shard(bad)


SITES = 4


def sites() -> Iterator[list[HostileServer]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(hostile_server(site_pages.routes(), f"127.0.0.{2 + n}")) for n in range(SITES)
        ]


def write_sources(servers: list[HostileServer], path: Path) -> Path:
    # site n lists its own ten articles (their texts differ from every other site's)
    path.write_text(
        "".join(
            f'[sources.site{n}]\nstart_urls = ["{server.url(f"/index-{n}.html")}"]\nmax_depth = 1\n'
            f"allow = ['/news/2026/']\n"
            for n, server in enumerate(servers)
        )
    )
    return path


# Which of a source's first articles still carry its template lines depends on the order they
# are extracted in (learning needs NEWS_BOILERPLATE_MIN_PAGES articles first): off here, so that
# the bodies, and their content hashes, are the same whoever crawls them.
NOT_LEARNING = {"NEWS_BOILERPLATE_LEARN": "false"}


def crawlall(tmp_path: Path, name: str, sources: Path, *args: str) -> tuple[list[dict], dict]:
    output = tmp_path / name
    env = crawl_env(
        NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output), NEWS_STATE=str(tmp_path / f"{name}.sqlite"),
        **NOT_LEARNING,
    )  # fmt: skip
    process = run_in(env, "crawlall", *args)
    assert process.returncode == 0, process.stderr[-3000:]
    summary = json.loads(next((output / "_runs").glob("*.json")).read_text())
    return read_parts(output), summary


def test_two_shards_together_write_what_one_worker_writes(tmp_path: Path) -> None:
    for servers in sites():
        sources = write_sources(servers, tmp_path / "sources.toml")
        one, _ = crawlall(tmp_path, "one", sources)
        state = tmp_path / "shared.sqlite"
        shards = []
        for index in range(2):
            output = tmp_path / f"shard{index}"
            env = crawl_env(
                NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output), NEWS_STATE=str(state), **NOT_LEARNING
            )
            process = run_in(env, "crawlall", "--shard", f"{index}/2")
            assert process.returncode == 0, process.stderr[-3000:]
            summary = json.loads(next((output / "_runs").glob("*.json")).read_text())
            assert summary["run_id"].endswith(f"-s{index:02d}of02")
            shards.append((read_parts(output), summary))

    def key(record: dict) -> tuple[str, str, int]:
        return record["canonical_url"], record["content_hash"], record["version"]

    assert len(one) == 10 * SITES
    together = [key(record) for records, _ in shards for record in records]
    assert sorted(together) == sorted(key(record) for record in one)  # no duplicate, none missing
    # each site fetched by exactly one shard, two sites each
    fetched = [
        {name for name, tally in summary["sources"].items() if tally["pages_fetched"]}
        for _, summary in shards
    ]
    assert fetched[0] | fetched[1] == {f"site{n}" for n in range(SITES)} and not fetched[0] & fetched[1]
    assert len(fetched[0]) == len(fetched[1]) == 2
