from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.server import SiteServer, running_site
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
