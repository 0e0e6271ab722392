"""The commands as a new user runs them: `news-ingest` from any folder, a one-off crawl that
could fetch nothing, and a repeated `make demo`. Real commands in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo.server import SiteServer
from tests.crawling import REPO, crawl_env, run_scrapy

NEWS_INGEST = Path(sys.executable).parent / "news-ingest"
ARTICLE = "business/tokyo-chipmaker-expansion.html"


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " ERROR: " in line]


@pytest.mark.parametrize(
    ("urls", "reason"),
    [
        # the address guard refuses loopback unless NEWS_ALLOW_PRIVATE_NETWORKS is on (port 9: never served)
        (["http://127.0.0.1:9/news/a.html"], "blocked_address=1) (private and loopback addresses need"),
        # a template whose {base} placeholders were never filled in
        (["{base}/news/a.html", "{base}/news/b.html"], "bad_url=2)"),
    ],
    ids=["refused-address", "template-placeholders"],
)
def test_a_one_off_crawl_that_could_fetch_nothing_fails_with_one_reason(
    tmp_path: Path, urls: list[str], reason: str
) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    process = run_scrapy(
        "crawl", "article", "-a", f"urls={url_file}", "-s", f"NEWS_OUTPUT={tmp_path}/out",
        NEWS_ALLOW_PRIVATE_NETWORKS="false",
    )  # fmt: skip
    assert process.returncode == 1, process.stderr[-3000:]
    errors = errors_of(process.stderr)
    assert len(errors) == 1, process.stderr[-3000:]
    assert "nothing was fetched: every URL was refused or invalid (" + reason in errors[0]
    summary = json.loads(next((tmp_path / "out" / "_runs").glob("*.json")).read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1


def test_news_ingest_runs_from_any_folder_with_paths_relative_to_it(site: SiteServer, tmp_path: Path) -> None:
    assert NEWS_INGEST.exists(), "make install puts news-ingest into the venv"
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    env = crawl_env()
    del env["NEWS_STATE"]  # the default, ./state/news.sqlite: relative to the working folder
    process = subprocess.run(
        [str(NEWS_INGEST), "crawl", "article", "-a", f"url={site.base_url}/{ARTICLE}", "-s", "NEWS_OUTPUT=out"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    parts = list((elsewhere / "out").glob("source=*/date=*/*.jsonl"))
    assert len(parts) == 1
    record = json.loads(parts[0].read_text().splitlines()[0])
    assert record["title"] == "Chipmaker unveils ¥200bn expansion"  # the page's h1
    assert not (REPO / "out").exists()
    # the commands of the project, not Scrapy's bare set: crawlall is there outside the project folder
    listing = subprocess.run(
        [str(NEWS_INGEST), "-h"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert "crawlall" in listing.stdout and "flush" in listing.stdout, listing.stdout


def test_a_second_make_demo_prints_records_again(tmp_path: Path) -> None:
    outputs = []
    for _ in range(2):
        process = subprocess.run(
            ["make", "--no-print-directory", "demo", f"DEMO_OUTPUT={tmp_path}"],
            cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert process.returncode == 0, process.stderr[-3000:]
        # the demo site has 20 articles that are new to a fresh state (12 demo, 8 daily)
        assert "Records written: 20;" in process.stdout, process.stdout[-3000:]
        record = process.stdout.split("One record (text shortened here, not in the file):\n", 1)[1]
        assert json.loads(record)["title"]
        outputs.append(next(line for line in process.stdout.splitlines() if "crawling it into" in line))
    assert outputs[0] != outputs[1], "each demo has a folder of its own"
    assert len(list(tmp_path.glob("demo-*"))) == 2
