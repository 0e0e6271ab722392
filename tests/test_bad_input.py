"""Bad input ends as a counted drop, never as a crashed crawl or a lost record."""

from __future__ import annotations

from demo.server import SiteServer
from tests.crawling import read_parts, run_scrapy, run_summary

TROUBLE = ["server-error", "huge", "binary-as-html", "slow", "malformed"]


def test_every_troublesome_response_is_accounted_for(site: SiteServer, tmp_path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{site.base_url}/trouble/{name}\n" for name in TROUBLE) + "not-a-url\n")
    output = tmp_path / "out"
    process = run_scrapy(
        "crawl", "article", "-a", f"urls={urls}",
        "-s", f"NEWS_OUTPUT={output}", "-s", "DOWNLOAD_MAXSIZE=1000000",
        "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0",
    )  # fmt: skip
    # 3 failed fetches of 5 pages: over NEWS_MAX_ERROR_RATE, a failed run (exit 1) that still
    # accounts for every URL
    assert process.returncode == 1, process.stderr[-3000:]
    summary = run_summary(output)
    assert summary["status"] == "failed"
    assert [p for p in summary["problems"] if "NEWS_MAX_ERROR_RATE" in p], summary["problems"]
    dropped = summary["dropped"]
    assert dropped.get("http_error") == 1  # 500
    assert dropped.get("fetch_error") == 2  # over DOWNLOAD_MAXSIZE, timeout
    assert dropped.get("bad_url") == 1
    assert "pipeline_error" not in dropped
    written = read_parts(output)
    # the binary page served as HTML is no text in any encoding; the truncated article still is one
    assert dropped.get("undecodable") == 1
    assert [record["url"] for record in written] == [f"{site.base_url}/trouble/malformed"]
    assert written[0]["language"] == "de" and written[0]["published_date"] == "2023-09-04"
    assert sum(dropped.values()) + len(written) == len(TROUBLE) + 1
    assert "Traceback" not in process.stderr
