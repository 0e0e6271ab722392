"""What operators see: JSON logs, Prometheus metrics, live progress only at a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from demo.server import SiteServer
from tests.crawling import REPO, crawl_env, run_scrapy, scrapy_command, sources_file


def test_json_logs_every_line_parses(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    process = run_scrapy(
        "crawl", "news", "-a", "source=daily", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o",
        NEWS_LOG_FORMAT="json",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    lines = process.stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert {"time", "level", "logger", "message", "run_id", "spider", "source"} <= set(entries[0])
    summary = json.loads(next((tmp_path / "o" / "_runs").glob("*.json")).read_text())
    # every line names the run, the first one included (logged before the crawler existed)
    assert {entry["run_id"] for entry in entries} == {summary["run_id"]}
    assert (
        entries[0]["logger"] == "crawler.extensions.banner"
        and "run " + summary["run_id"] in entries[0]["message"]
    )
    # Scrapy's start-up dumps are DEBUG: no component lists, versions or overridden settings at INFO
    assert not [
        entry for entry in entries if entry["message"].startswith(("Enabled ", "Versions", "Overridden"))
    ]
    assert any(entry["spider"] == "news" for entry in entries)
    assert all(entry["time"].endswith("Z") for entry in entries)
    # the per-source summary line carries its source; the stats are an object, not a repr string
    per_source = [entry for entry in entries if entry["message"].startswith("  daily: ")]
    assert len(per_source) == 1 and per_source[0]["source"] == "daily"
    stats = [entry["stats"] for entry in entries if "stats" in entry]
    assert len(stats) == 1 and stats[0]["news/written"] == summary["records_written"] > 0
    assert len(lines) < 60, "a short log: banner, progress, drops, summary"


def metrics(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_file_holds_the_run_figures(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    prom = tmp_path / "textfile" / "news.prom"
    env = {"NEWS_SOURCES": str(sources), "NEWS_OUTPUT": str(tmp_path / "o"), "NEWS_METRICS_FILE": str(prom)}
    env["NEWS_STATE"] = str(tmp_path / "state.sqlite")
    started = time.time()
    ok = run_scrapy("crawlall", **env)
    ended = time.time()
    assert ok.returncode == 0, ok.stderr[-2000:]
    first = metrics(prom)
    summary = json.loads(sorted((tmp_path / "o" / "_runs").glob("*.json"))[-1].read_text())
    assert (
        first[("news_last_run_records_written", (("source", "daily"),))]
        == summary["sources"]["daily"]["records_written"]
        == 8
    )
    assert first[("news_last_run_records_written", (("source", "demo"),))] == 12
    assert first[("news_last_run_dropped", (("reason", "robots_txt"), ("source", "daily")))] == 1
    assert first[("news_last_run_success", ())] == 1
    success_time = first[("news_last_success_timestamp_seconds", ())]
    # the end of this very run: its own time, written while it ran
    assert success_time == first[("news_last_run_timestamp_seconds", ())]
    assert started <= success_time <= ended

    # A failed run keeps the time of the last success.
    env["NEWS_SOURCES"] = str(tmp_path / "dead.toml")
    Path(env["NEWS_SOURCES"]).write_text('[sources.gone]\nstart_urls = ["http://127.0.0.1:1/"]\n')
    failed = run_scrapy("crawlall", "-s", "RETRY_TIMES=0", **env)
    assert failed.returncode == 1
    second = metrics(prom)
    assert second[("news_last_run_success", ())] == 0
    assert second[("news_last_success_timestamp_seconds", ())] == success_time
    # its one start URL, refused (RETRY_TIMES=0: one attempt): news/discovery/errors/start
    assert second[("news_last_run_errors", (("source", "gone"),))] == 1


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run a command with a pseudo-terminal as stdout and stderr, as a person at a shell would."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, cwd=REPO, env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(controller)
    return output.decode("utf-8", "replace")


def test_progress_at_a_terminal_and_silence_otherwise(site: SiteServer, tmp_path: Path) -> None:
    text = '[sources.bulk]\nstart_urls = ["{base}/generated/?count=40"]\nmax_depth = 1\n'
    sources = sources_file(site.base_url, tmp_path / "sources.toml", text)
    common = [
        "crawl",
        "news",
        "-s",
        f"NEWS_SOURCES={sources}",
        "-s",
        "NEWS_PROGRESS_INTERVAL=0.2",
        "-s",
        "DOWNLOAD_DELAY=0.05",
    ]
    shown = run_in_terminal(
        scrapy_command(*common, "-s", f"NEWS_OUTPUT={tmp_path}/a", "-s", "AUTOTHROTTLE_ENABLED=false"),
        crawl_env(),
    )
    assert "records " in shown and "bulk " in shown and "/min" in shown
    quiet = run_scrapy(*common, "-s", f"NEWS_OUTPUT={tmp_path}/b")
    assert quiet.returncode == 0
    assert "/min |" not in quiet.stderr and "\x1b[2K" not in quiet.stderr
