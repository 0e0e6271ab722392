"""Prometheus text-format metrics at the end of each run, for node_exporter's textfile collector.

Written atomically (a temporary file renamed over ``NEWS_METRICS_FILE``), with the
figures of the last run per source, and the time of the last successful run,
which is carried over from the previous file when this run failed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile
from prometheus_client.parser import text_string_to_metric_families
from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

LAST_SUCCESS = "news_last_success_timestamp_seconds"


def previous_success(path: Path) -> float | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == LAST_SUCCESS:
                return float(sample.value)
    return None


def build_registry(summary: dict[str, Any], previous: float | None, now: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    labels = ["source"]
    pages = Gauge("news_last_run_pages_fetched", "Pages fetched in the last run", labels, registry=registry)
    written = Gauge(
        "news_last_run_records_written", "Records written in the last run", labels, registry=registry
    )
    errors = Gauge("news_last_run_errors", "Failed fetches in the last run", labels, registry=registry)
    dropped = Gauge(
        "news_last_run_dropped",
        "Pages and records dropped in the last run",
        ["source", "reason"],
        registry=registry,
    )
    skipped = Gauge(
        "news_last_run_skipped", "URLs not requested in the last run", ["source", "reason"], registry=registry
    )
    for source, tally in summary["sources"].items():
        pages.labels(source).set(tally["pages_fetched"])
        written.labels(source).set(tally["records_written"])
        errors.labels(source).set(tally["errors"])
        for reason, value in tally["dropped"].items():
            dropped.labels(source, reason).set(value)
        for reason, value in tally["skipped"].items():
            skipped.labels(source, reason).set(value)
    healthy = Gauge(
        "news_source_healthy",
        "1 when the source's last run looked like its recent runs, 0 when a figure fell sharply",
        labels,
        registry=registry,
    )
    for source, entry in (summary.get("health") or {}).items():
        if "healthy" in entry:  # judged: the source has enough earlier runs
            healthy.labels(source).set(1 if entry["healthy"] else 0)
    Gauge("news_last_run_duration_seconds", "Duration of the last run", registry=registry).set(
        summary.get("duration_seconds") or 0
    )
    Gauge("news_last_run_success", "1 when the last run succeeded", registry=registry).set(
        1 if summary["status"] == "ok" else 0
    )
    Gauge(
        "news_last_run_uploads_pending", "Files left in the S3 spool by the last run", registry=registry
    ).set(summary.get("uploads_pending", 0))
    Gauge("news_last_run_timestamp_seconds", "When the last run ended", registry=registry).set(now)
    worker_mb = summary.get("stats", {}).get("news/extract/worker_max_rss_mb")
    if worker_mb is not None:  # only with a pool of extraction workers (NEWS_EXTRACT_WORKERS)
        Gauge(
            "news_last_run_worker_max_rss_bytes",
            "The largest resident memory any extraction worker reached in the last run",
            registry=registry,
        ).set(worker_mb * 1024 * 1024)
    success = now if summary["status"] == "ok" else previous
    if success is not None:
        Gauge(LAST_SUCCESS, "When the last successful run ended", registry=registry).set(success)
    return registry


def write_metrics(path: Path, summary: dict[str, Any]) -> None:
    registry = build_registry(summary, previous_success(path), time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)  # writes a temporary file and renames it


class RunMetrics:
    def __init__(self, crawler: Crawler, path: Path):
        self.crawler = crawler
        self.path = path
        self.written = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunMetrics:
        path = crawler.settings.get("NEWS_METRICS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(crawler, Path(path))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        # with -o/-O the summary is made once the feeds are stored (crawler/extensions/summary.py)
        crawler.signals.connect(extension.spider_closed, signal=signals.feed_exporter_closed)
        return extension

    def spider_closed(self, *args: Any, **kwargs: Any) -> None:
        summary = getattr(self.crawler, "news_summary", None)
        if summary is None or self.written:
            return
        self.written = True
        write_metrics(self.path, summary)
        logger.info("Metrics written to %(path)s", {"path": self.path})
