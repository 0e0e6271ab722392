from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.state.access import open_store
from crawler.state.store import StateStore
from demo.server import SiteServer, running_site
from tests import pgserver
from tests.crawling import Crawl, article_crawl, run_scrapy, url_file


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
    process = run_scrapy(*article_crawl(urls, output, "-O", str(work / "feed.jsonl")))
    assert process.returncode == 0, process.stderr[-3000:]
    return Crawl(site.base_url, output, process)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    """A PostgreSQL server of its own for the test session (tests/pgserver.py), stopped and removed at
    the end."""
    with pgserver.server_for_tests() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer) -> str:
    """The URL of a new empty database on the session's server (role news, password secret)."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[StateStore, StateStore]]:
    """Two connections to one state, on each kind of store: two workers', or a crawl's and a
    command's."""
    location = (
        str(tmp_path / "state.sqlite") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    one, two = open_store(location), open_store(location)
    yield one, two
    one.close()
    two.close()
