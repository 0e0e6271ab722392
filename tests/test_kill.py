"""A crawl killed with SIGKILL leaves only whole parts visible, and the next run recovers the rest."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from demo.server import running_site
from tests.crawling import crawl_env, kill_when, read_parts, run_scrapy, scrapy_command, visible_parts

PAGES = 120


def test_sigkill_mid_run_leaves_no_half_written_part(tmp_path: Path) -> None:
    output = tmp_path / "out"
    with running_site(delay=0.05) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{site.base_url}/generated/{n}.html\n" for n in range(PAGES)))
        settings = {
            "NEWS_OUTPUT": str(output),
            "NEWS_SINK_MAX_ITEMS": "4",
            "AUTOTHROTTLE_ENABLED": "false",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
        }
        flags = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
        command = scrapy_command("crawl", "article", "-a", f"urls={urls}", *flags)
        status = kill_when(command, crawl_env(), lambda: len(visible_parts(output)) >= 3)
        assert status == -signal.SIGKILL

        parts = visible_parts(output)
        assert len(parts) >= 3
        written_before = []
        for part in parts:
            for line in part.read_text("utf-8").splitlines():
                written_before.append(json.loads(line)["url"])  # every visible line parses
        assert len(written_before) == len(set(written_before))

        # The next run completes the killed run's open part from its whole lines.
        rerun = run_scrapy(
            "crawl",
            "article",
            "-a",
            f"url={site.base_url}/generated/{PAGES}.html",
            "-s",
            f"NEWS_OUTPUT={output}",
        )
        assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not list(output.rglob(".*.inprogress"))
    records = read_parts(output)
    urls_seen = [record["url"] for record in records]
    assert len(urls_seen) == len(set(urls_seen)), "a record was written twice"
    assert set(written_before) <= set(urls_seen)
    assert f"{site.base_url}/generated/{PAGES}.html" in urls_seen
