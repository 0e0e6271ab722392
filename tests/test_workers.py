"""Extraction in worker processes: a page that crashes, hangs or breaks the extractor is dropped alone."""

from __future__ import annotations

from pathlib import Path

from demo.server import SiteServer
from tests.crawling import read_parts, run_scrapy, run_summary, sources_file

COUNT = 30


def test_crash_hang_and_exception_in_workers_lose_no_other_record(site: SiteServer, tmp_path: Path) -> None:
    text = f'[sources.bulk]\nstart_urls = ["{{base}}/generated/?count={COUNT}"]\nmax_depth = 1\n'
    sources = sources_file(site.base_url, tmp_path / "sources.toml", text)
    # the hanging page waits out the timeout twice (a timed-out page gets one more try)
    process = run_scrapy(
        "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o",
        "-s", "NEWS_EXTRACT_WORKERS=2", "-s", "NEWS_EXTRACT_TIMEOUT=15",
        "-s", "NEWS_EXTRACT_PLUGINS=tests.plugins.faults.misbehave",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    dropped = run_summary(tmp_path / "o")["dropped"]
    assert dropped == {"extract_error": 2, "extract_timeout": 1}, dropped
    urls = {record["url"].rsplit("/", 1)[1] for record in read_parts(tmp_path / "o")}
    expected = {f"{n}.html" for n in range(COUNT)} - {"13.html", "17.html", "19.html"}
    assert urls == expected
    assert "the worker died" in process.stderr and "extractor bug on this page" in process.stderr


def test_inline_extraction_gives_the_same_records(site: SiteServer, tmp_path: Path) -> None:
    text = '[sources.bulk]\nstart_urls = ["{base}/generated/?count=5"]\nmax_depth = 1\n'
    sources = sources_file(site.base_url, tmp_path / "sources.toml", text)
    outputs = {}
    for workers in ("0", "2"):
        process = run_scrapy(
            "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/{workers}",
            "-s", f"NEWS_EXTRACT_WORKERS={workers}",
        )  # fmt: skip
        assert process.returncode == 0, process.stderr[-2000:]
        outputs[workers] = sorted(
            ({k: v for k, v in r.items() if k != "fetched_at"} for r in read_parts(tmp_path / workers)),
            key=lambda r: r["url"],
        )
    assert outputs["0"] == outputs["2"] and len(outputs["0"]) == 5
