from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.server import SiteServer, running_site
from tests import pgserver
from tests.crawling import Crawl, run_scrapy, url_file


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    """The demo news site served on 127.0.0.1 for the whole test session."""
    with running_site() as server:
        yield server


@pytest.fixture(scope="session")
def demo_crawl(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of every demo URL, shared by the tests that read its records."""
    work = tmp_path_factory.mktemp("demo-crawl")
    urls = url_file(site.base_url, work / "urls.txt")
    output = work / "output"
    process = run_scrapy(
        "crawl",
        "article",
        "-a",
        f"urls={urls}",
        "-s",
        f"NEWS_OUTPUT={output}",
        "-O",
        str(work / "feed.jsonl"),
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return Crawl(site.base_url, output, process)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    """A PostgreSQL server of its own for the test session (tests/pgserver.py), stopped and removed at
    the end. Without the server programs the tests that need it fail (CI runs as root and `make test`
    installs them), or are skipped when not root, who could not have installed them."""
    problem = pgserver.unavailable()
    if problem is not None:
        if os.geteuid() != 0:
            pytest.skip(problem)
        pytest.fail(problem)
    with pgserver.running_postgres() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer) -> str:
    """The URL of a new empty database on the session's server (role news, password secret)."""
    return pg_server.new_database()
