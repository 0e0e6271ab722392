"""Each source learned: its template's lines out of later bodies, and a health check that
notices when it breaks. Real `crawlall` runs of a one-publisher site (tests/template_site.py)
whose true article texts are known by construction."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from crawler.state.sqlite import SqliteStateStore
from crawler.state.template_lines import LearningConfig, TemplateLearner, paragraph_fingerprint
from tests import template_site as site_pages
from tests.crawling import crawl_env, read_parts, run_in
from tests.hostile import HostileServer, hostile_server


def sources_for(site: HostileServer, path: Path, blocks: list[int]) -> Path:
    starts = ", ".join(f'"{site.url(f"/index-{block}.html")}"' for block in blocks)
    path.write_text(f"[sources.gazette]\nstart_urls = [{starts}]\nmax_depth = 1\nallow = ['/news/2026/']\n")
    return path


def crawl(site: HostileServer, tmp_path: Path, blocks: list[int], **env: str) -> dict:
    """One `crawlall` over the given index blocks; its summary, with its records under "records"."""
    output, state = tmp_path / "out", tmp_path / "state.sqlite"
    sources = sources_for(site, tmp_path / "sources.toml", blocks)
    process = run_in(
        crawl_env(NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output), NEWS_STATE=str(state), **env),
        "crawlall",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    summaries = sorted((output / "_runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    summary = json.loads(summaries[-1].read_text())
    summary["records"] = [r for r in read_parts(output) if r["fetched_at"] >= summary["started_at"][:19]]
    summary["log"] = process.stderr
    return summary


def number_of(record: dict) -> int:
    return int(re.search(r"story-(\d+)\.html", record["url"]).group(1))


def recall(true_text: str, got: str) -> float:
    """Share of the true text's words found in the record's body (as bags of words)."""
    truth, found = Counter(re.findall(r"\w+", true_text.lower())), Counter(re.findall(r"\w+", got.lower()))
    return sum(min(n, found[word]) for word, n in truth.items()) / sum(truth.values())


def test_template_lines_are_learned_and_left_out_of_later_bodies(tmp_path: Path) -> None:
    with hostile_server(site_pages.routes()) as site:
        first = crawl(site, tmp_path, [0, 1])  # articles 0-19
        second = crawl(site, tmp_path, [2, 3])  # articles 20-39

    assert len(first["records"]) == 20 and len(second["records"]) == 20
    # what the first run learned: the four template paragraphs and the "More from the Gazette:" lead-in
    # (a lead-in no generic rule knows), nothing else
    learned = first["template_lines_learned"]
    assert sorted(line["text"] for line in learned if line["kind"] == "paragraph") == sorted(
        block[:160]
        for block in site_pages.TEMPLATE_BLOCKS  # the summary shows their first 160 characters
    )
    assert [line["text"] for line in learned if line["kind"] == "lead-in"] == ["more from the gazette"]
    assert {line["source"] for line in learned} == {"gazette"}

    for record in second["records"]:
        number = number_of(record)
        for block in site_pages.TEMPLATE_BLOCKS:
            assert block not in record["text"], (number, block)
        assert "More from the Gazette:" not in record["text"], number
        if number in site_pages.QUOTED_BY:  # content two articles share stays in both
            assert site_pages.QUOTE in record["text"], number
    recalls = [
        recall("\n".join(site_pages.true_paragraphs(number_of(r))), r["text"]) for r in second["records"]
    ]
    assert sum(recalls) / len(recalls) >= 0.97 and min(recalls) >= 0.9, recalls
    stats = second["stats"]
    assert stats["news/sources/gazette/boilerplate/removed"] == 20 * 5  # 4 blocks + the lead-in line each
    assert "news/sources/gazette/boilerplate/learned" not in stats  # nothing new to learn in run 2

    # `sources` shows what was learned; --reset forgets it
    shown = sources_command(tmp_path, "--json")
    lines = shown["gazette"]["template_lines"]
    assert shown["gazette"]["articles_counted"] == 40
    assert len(lines) == 5 and all(line["articles"] == 40 and line["share"] == 1.0 for line in lines)
    assert "in 40 articles (100%)" in sources_command(tmp_path, "gazette", text=True)
    sources_command(tmp_path, "--reset", "gazette", text=True)
    assert sources_command(tmp_path, "--json")["gazette"]["template_lines"] == []


def sources_command(tmp_path: Path, *args: str, text: bool = False) -> Any:
    env = crawl_env(NEWS_STATE=str(tmp_path / "state.sqlite"), NEWS_SOURCES=str(tmp_path / "sources.toml"))
    process = run_in(env, "sources", *args)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout if text else json.loads(process.stdout)


def healthy_metric(path: Path) -> float | None:
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            if sample.name == "news_source_healthy" and sample.labels == {"source": "gazette"}:
                return sample.value
    return None


def test_a_source_whose_layout_breaks_is_flagged(tmp_path: Path) -> None:
    metrics = tmp_path / "news.prom"
    env = {"NEWS_METRICS_FILE": str(metrics), "NEWS_HEALTH_MIN_RUNS": "2"}
    with hostile_server(site_pages.routes()) as site:
        for block in range(3):  # three ordinary runs, ten new articles each
            summary = crawl(site, tmp_path, [block], **env)
            assert len(summary["records"]) == 10
        assert summary["health"]["gazette"]["healthy"] is True
        assert healthy_metric(metrics) == 1
        site.routes.update(site_pages.routes(layout="stub"))  # the redesign: teasers only
        broken = crawl(site, tmp_path, [3], **env)

    health = broken["health"]["gazette"]
    assert health["healthy"] is False
    assert health["problems"] == [
        "articles written fell to 0 (usual 10) while 10 new article URLs were requested and not written (usual 0)"
    ], health
    assert "source 'gazette' looks broken: articles written fell to 0" in broken["problems"][0]
    warnings = [
        line for line in broken["log"].splitlines() if " WARNING: Source gazette looks broken" in line
    ]
    assert len(warnings) == 1
    assert broken["status"] == "ok"  # a warning unless NEWS_HEALTH_FAIL_RUN is on
    assert healthy_metric(metrics) == 0
    shown = sources_command(tmp_path, text=True)
    assert "gazette: UNHEALTHY" in shown and "! articles written fell to 0" in shown, shown


def test_datelines_quotes_and_interviews_are_not_learned_as_template(tmp_path: Path) -> None:
    """What real news sites repeat at the start of paragraphs, written as a reader sees it: a
    dateline opens the body, quotes open with "He said:", interviews with "Q:". None of it is
    template; a short "Also on the Gazette: <headline>" insert is."""
    store = SqliteStateStore(tmp_path / "state.sqlite")
    learner = TemplateLearner(store, LearningConfig(min_pages=5, min_share=0.3, min_articles=10))
    places = ["New Delhi", "Karachi"]
    # every article about something else: its own words, not only its own numbers
    topics = ["bridge", "library", "harbour", "school", "tram", "market", "park", "hospital", "museum",
              "stadium", "airport", "canal", "bakery", "theatre", "zoo", "ferry", "tower", "garden",
              "station", "clinic"]  # fmt: skip
    kept_by_the_last: list[str] = []
    for n, topic in enumerate(topics):
        body = [
            f"{places[n % 2].upper()}: The city council met to discuss the {topic} and its budget.",
            f'He said: "We will decide on the {topic} next week, after the hearing."',
            f"Q: What does the {topic} change for residents?",
            f"A: The {topic} will open earlier and close later from May.",
            f"Q: And what does the {topic} cost?",
            f"A: The {topic} is paid from the transport fund over four years.",
            f"Q: When does work on the {topic} start?",
            f"Also on the Gazette: {topic.title()} festival draws record crowds",
            f"The rest of the {topic} article is its own reporting, sentence after sentence.",
        ]
        # the headline after "Also on the Gazette:" is a link to that story (as the extraction tells)
        links = frozenset({paragraph_fingerprint(body[7])})
        cleaned = learner.clean("gazette", f"article-{topic}", body, f"2026-12-03T10:{n:02d}:00Z", links)
        kept_by_the_last = cleaned.paragraphs
    learned = [(line["kind"], line["text"]) for line in learner.learned_this_run]
    assert learned == [("lead-in", "also on the gazette")]
    assert len(kept_by_the_last) == 8 and not any(
        p.startswith("Also on the Gazette") for p in kept_by_the_last
    )
    store.close()
