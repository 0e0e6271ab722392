"""A misspelt or mistyped setting stops `crawlall` at start: one line, exit code 2, nothing fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.server import SiteServer
from tests.crawling import run_scrapy, sources_file


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["-s", "NEWS_OUTPT=/tmp/x"], {}, "setting NEWS_OUTPT: no such setting (did you mean NEWS_OUTPUT?)"),
        (
            [],
            {"NEWS_OUPUT": "/tmp/x"},
            "environment variable NEWS_OUPUT: no such setting (did you mean NEWS_OUTPUT?)",
        ),
        ([], {"NEWS_SINK_MAX_ITEMS": "ten"}, "environment variable NEWS_SINK_MAX_ITEMS='ten'"),
        (["-s", "NEWS_SINK_MAX_ITEMS=ten"], {}, "setting NEWS_SINK_MAX_ITEMS='ten'"),
        (["-s", "NEWS_SINK_ENABLED=maybe"], {}, "setting NEWS_SINK_ENABLED='maybe': expected one of"),
        (
            [],
            {"NEWS_LOG_FORMAT": "jsn"},
            "NEWS_LOG_FORMAT='jsn': expected one of ['json', 'text'] (did you mean json?)",
        ),
    ],
    ids=["misspelt-s", "misspelt-env", "mistyped-env", "mistyped-s", "mistyped-s-bool", "bad-log-format-env"],
)
def test_a_wrong_setting_stops_the_run_with_one_line(
    site: SiteServer, tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    before = len(site.requests)
    process = run_scrapy(
        "crawlall", *args, NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(tmp_path / "out"), **env
    )
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    lines = [text for text in process.stderr.splitlines() if "crawlall: cannot start" in text]
    assert len(lines) == 1 and line in lines[0], process.stderr[-3000:]
    assert len(site.requests) == before


def test_unknown_names_can_be_allowed(site: SiteServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sources.x]\nstart_urls = ["http://127.0.0.1:1/"]\nmystery = 1\n')
    process = run_scrapy(
        "crawlall", NEWS_SOURCES=str(bad), NEWS_OTHER_TOOL="1", NEWS_IGNORE_UNKNOWN_SETTINGS="true"
    )
    # past the settings check: the next thing wrong is the sources file
    assert process.returncode == 2
    assert "NEWS_OTHER_TOOL" not in process.stderr and "[sources.x] key 'mystery'" in process.stderr


def test_scrapy_crawl_has_the_same_exit_codes(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    unknown = run_scrapy("crawl", "news", "-a", "source=nonexistent", NEWS_SOURCES=str(sources))
    assert unknown.returncode == 2, unknown.stderr[-3000:]
    assert "Traceback" not in unknown.stderr
    lines = [text for text in unknown.stderr.splitlines() if "crawl: cannot start" in text]
    assert len(lines) == 1 and "nonexistent" in lines[0], unknown.stderr[-3000:]
    misspelt = run_scrapy("crawl", "news", "-s", "NEWS_OUTPT=x", NEWS_SOURCES=str(sources))
    assert misspelt.returncode == 2 and "did you mean NEWS_OUTPUT?" in misspelt.stderr


def test_the_start_failure_is_in_the_log_file(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    log = tmp_path / "crawl.log"
    process = run_scrapy("crawlall", "-s", "NEWS_OUTPT=x", "-s", f"LOG_FILE={log}", NEWS_SOURCES=str(sources))
    assert process.returncode == 2
    lines = [text for text in log.read_text().splitlines() if "crawlall: cannot start" in text]
    assert len(lines) == 1 and "did you mean NEWS_OUTPUT?" in lines[0]
