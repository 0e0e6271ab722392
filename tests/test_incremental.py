"""Cron runs with `scrapy crawlall`: only what is new or changed, nothing lost when killed, no overlap."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from demo.server import SITE, running_site
from tests.crawling import (
    REPO,
    crawl_env,
    kill_when,
    read_parts,
    run_in,
    run_scrapy,
    run_summary,
    scrapy_command,
    sources_file,
    visible_parts,
)

DAILY_FRESH = 8  # the Daily Lantern's fresh articles (see test_news_spider.FRESH)
DEMO_ARTICLES = 12  # articles linked from the demo home page
EXIT_LOCKED = 75


def summaries(output: Path) -> list[dict]:
    runs = sorted((output / "_runs").glob("*.json"), key=lambda path: path.stat().st_mtime_ns)
    return [json.loads(path.read_text("utf-8")) for path in runs]


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """The demo site copied, so that a test can edit an article on disk."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    return root


def test_runs_emit_only_new_or_changed_articles(site_copy: Path, tmp_path: Path) -> None:
    output, state = tmp_path / "out", tmp_path / "state" / "news.sqlite"
    with running_site(site_copy) as site:
        env = {
            "NEWS_SOURCES": str(sources_file(site.base_url, tmp_path / "sources.toml")),
            "NEWS_OUTPUT": str(output),
            "NEWS_STATE": str(state),
        }
        first = run_scrapy("crawlall", **env)
        assert first.returncode == 0, first.stderr[-3000:]
        run1 = read_parts(output)
        urls = [record["url"] for record in run1]
        assert len(urls) == len(set(urls)) == DAILY_FRESH + DEMO_ARTICLES
        assert not any("1008-ferry" in url for url in urls), "the syndicated copy was emitted"
        assert summaries(output)[-1]["dropped"]["duplicate_content"] == 1

        second = run_scrapy("crawlall", **env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert len(read_parts(output)) == len(run1), "run 2 emitted something"
        summary = summaries(output)[-1]
        assert summary["records_written"] == 0
        # every article of run 1, once (the syndicated copy was never emitted: it is fetched again)
        assert summary["skipped"]["seen"] == DAILY_FRESH + DEMO_ARTICLES
        assert summary["sources"]["daily"]["skipped"]["seen"] == DAILY_FRESH

        article = site_copy / "daily" / "news" / "1001-harbour-ferry.html"
        html = article.read_text("utf-8")
        marker = "shortly after seven."
        assert marker in html
        article.write_text(
            html.replace(marker, marker + " Update: the evening crossing now runs until midnight."), "utf-8"
        )
        # fresh stories are looked at again once the refresh interval has passed (here: at once)
        third = run_scrapy("crawlall", NEWS_REFRESH_INTERVAL="0", **env)
        assert third.returncode == 0, third.stderr[-3000:]
    new = [record for record in read_parts(output) if record not in run1]
    assert [record["url"] for record in new] == [f"{site.base_url}/daily/news/1001-harbour-ferry.html"]
    (changed,) = new
    assert changed["version"] == 2
    # the page states no update time of its own: the time the change was fetched
    assert changed["modified_at"] == changed["fetched_at"]
    assert "runs until midnight" in changed["text"]
    (original,) = [record for record in run1 if record["url"] == changed["url"]]
    assert changed["id"] == original["id"] and changed["content_hash"] != original["content_hash"]
    summary = summaries(output)[-1]
    # fresh (published within NEWS_REFRESH_WINDOW, 24 h): daily 1001 (2 h), 1002 (5 h), 1005 (RSS, 4 h),
    # 1006 (news sitemap, 6 h), 1007 (8 h), 1101 (7 h) and the demo's council story ("Posted 3 hours
    # ago"); 1003 (26 h), 1004 (3 d) and the demo's 2023 stories are not. All 7 refetched, 6 unchanged
    assert summary["dropped"]["unchanged"] == 6
    assert summary["stats"]["news/refetched/fresh"] == 7


def test_sigkill_mid_run_then_rerun_gives_every_article_exactly_once(tmp_path: Path) -> None:
    count = 60
    output, state = tmp_path / "out", tmp_path / "state" / "news.sqlite"
    sources_text = f"""
[sources.bulk]
start_urls = ["{{base}}/generated/?count={count}"]
max_depth = 1
"""
    with running_site(delay=0.05) as site:
        env = crawl_env(
            NEWS_SOURCES=str(sources_file(site.base_url, tmp_path / "sources.toml", sources_text)),
            NEWS_OUTPUT=str(output),
            NEWS_STATE=str(state),
            NEWS_SINK_MAX_ITEMS="3",
        )
        kill_when(
            scrapy_command("crawlall", "-s", "AUTOTHROTTLE_ENABLED=false"),
            env,
            lambda: len([p for p in visible_parts(output) if p.name.endswith(".jsonl")]) >= 3,
        )
        killed_with = len(read_parts(output))
        site.delay = 0
        rerun = run_in(env, "crawlall")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    records = read_parts(output)
    urls = [record["url"] for record in records]
    assert 0 < killed_with < count, "the kill did not land in the middle of the run"
    assert len(urls) == len(set(urls)) == count
    assert not list(output.rglob(".*.inprogress"))


def test_a_second_run_while_the_first_is_going_exits_at_once(tmp_path: Path) -> None:
    output, state = tmp_path / "out", tmp_path / "state" / "news.sqlite"
    sources_text = '[sources.bulk]\nstart_urls = ["{base}/generated/?count=30"]\nmax_depth = 1\n'
    # 30 pages answering in 0.4 s each, on one site under AutoThrottle: many seconds, far longer
    # than a second process takes to start and find the lock (about 2 s)
    with running_site(delay=0.4) as site:
        env = crawl_env(
            NEWS_SOURCES=str(sources_file(site.base_url, tmp_path / "sources.toml", sources_text)),
            NEWS_OUTPUT=str(output),
            NEWS_STATE=str(state),
        )
        first = subprocess.Popen(
            scrapy_command("crawlall"), cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            lock = Path(str(state) + ".lock")
            deadline = time.monotonic() + 60
            while not (lock.exists() and lock.read_text().startswith("pid")):
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.05)
            started = time.monotonic()
            second = run_in(env, "crawlall", timeout=60)
            waited = time.monotonic() - started
            assert first.poll() is None, "the first run ended before the second started"
            _, first_err = first.communicate(timeout=300)
        finally:
            if first.poll() is None:
                first.kill()
    assert second.returncode == EXIT_LOCKED, second.stderr[-2000:]
    assert "Another run holds" in second.stderr
    assert waited < 20
    assert first.returncode == 0, first_err[-3000:]
    assert len(read_parts(output)) == 30


def test_exit_codes_for_a_bad_sources_file_and_a_failed_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sources.x]\nstart_urls = ["http://127.0.0.1:1/"]\nmystery = 1\n')
    usage = run_scrapy("crawlall", NEWS_SOURCES=str(bad), NEWS_OUTPUT=str(tmp_path / "o1"))
    assert usage.returncode == 2
    assert "[sources.x] key 'mystery'" in usage.stderr

    dead = tmp_path / "dead.toml"
    dead.write_text('[sources.gone]\nstart_urls = ["http://127.0.0.1:1/"]\n')
    failed = run_scrapy(
        "crawlall", "-s", "RETRY_TIMES=0", NEWS_SOURCES=str(dead), NEWS_OUTPUT=str(tmp_path / "o2")
    )
    assert failed.returncode == 1, failed.stderr[-2000:]
    summary = run_summary(tmp_path / "o2")
    assert summary["status"] == "failed"
    assert "source 'gone' fetched nothing" in summary["problems"]
