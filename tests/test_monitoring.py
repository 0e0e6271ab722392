"""The operations kit in deploy/: Prometheus alert rules tested with Prometheus's own promtool, and a
Grafana dashboard whose every query names metrics a real run writes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from demo.server import SiteServer
from tests.crawling import REPO, run_scrapy, sources_file

RULES = REPO / "deploy" / "prometheus" / "news-ingest.rules.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "news-ingest.rules.test.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "news-ingest.json"
METRIC = re.compile(r"\bnews_[a-z0-9_]+\b")
# what the rules are for (issue: failed run, no success for N intervals, unhealthy source, spool, worker memory)
ALERTS = {
    "NewsIngestRunFailed",
    "NewsIngestNoSuccessfulRun",
    "NewsIngestSourceUnhealthy",
    "NewsIngestUploadsWaiting",
    "NewsIngestWorkerMemory",
}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make test-tools` installs Debian's prometheus package"
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    found += [
        variable["definition"] for variable in dashboard["templating"]["list"] if variable["type"] == "query"
    ]
    return found


def test_the_alert_rules_are_valid_and_pass_their_unit_tests() -> None:
    assert set(rule_expressions()) == ALERTS
    checked = promtool("check", "rules", RULES.name, cwd=RULES.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # every alert has a case where it fires and one where it does not
    cases = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    assert {check["alertname"] for check in checks if check["exp_alerts"]} == ALERTS
    assert {check["alertname"] for check in checks if not check["exp_alerts"]} == ALERTS


def test_promtool_fails_a_rule_test_that_expects_the_wrong_alert(tmp_path: Path) -> None:
    # the unit tests can fail: a worker at 300 MB is expected to alert here, and must not
    shutil.copy(RULES, tmp_path / RULES.name)
    wrong = RULE_TESTS.read_text(encoding="utf-8").replace(
        "      - eval_time: 1m\n        alertname: NewsIngestWorkerMemory\n        exp_alerts: []\n",
        "      - eval_time: 1m\n        alertname: NewsIngestWorkerMemory\n"
        "        exp_alerts:\n          - exp_labels: {severity: warning, instance: crawler-1, job: node}\n",
    )
    assert wrong != RULE_TESTS.read_text(encoding="utf-8")
    (tmp_path / RULE_TESTS.name).write_text(wrong, encoding="utf-8")
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert tested.returncode != 0
    assert "NewsIngestWorkerMemory" in tested.stdout + tested.stderr


def test_every_metric_the_rules_and_the_dashboard_name_is_written_by_a_real_run(
    site: SiteServer, tmp_path: Path
) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    prom = tmp_path / "textfile" / "news.prom"
    run = run_scrapy(
        "crawlall",
        NEWS_SOURCES=str(sources),
        NEWS_OUTPUT=str(tmp_path / "out"),
        NEWS_METRICS_FILE=str(prom),
        NEWS_EXTRACT_WORKERS="2",  # a pool of workers: their memory is a metric
    )
    assert run.returncode == 0, run.stderr[-2000:]
    text = prom.read_text(encoding="utf-8")
    declared = set(re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE))
    sampled = {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    assert "news_last_run_records_written" in sampled and "news_last_run_worker_max_rss_bytes" in sampled
    used = {
        name
        for expr in [*rule_expressions().values(), *dashboard_expressions()]
        for name in METRIC.findall(expr)
    }
    assert len(used) >= 10
    assert used - declared == set(), (
        f"named by the rules or the dashboard, not in a run's metrics file: {used - declared}"
    )
    # one source judged healthy or not needs earlier runs; every other metric has a value after one run
    assert used - sampled <= {"news_source_healthy"}
