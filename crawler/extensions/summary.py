"""A short run summary in the log and in ``<output>/_runs/<run_id>.json``."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.drops import STAT_PREFIX
from crawler.runid import run_id_for

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def build_summary(stats: dict[str, Any], run_id: str, spider: str, reason: str) -> dict[str, Any]:
    drops = {
        key[len(STAT_PREFIX) :]: value for key, value in sorted(stats.items()) if key.startswith(STAT_PREFIX)
    }
    start, finish = stats.get("start_time"), stats.get("finish_time") or datetime.now(timezone.utc)
    return {
        "run_id": run_id,
        "spider": spider,
        "finish_reason": reason,
        "started_at": _jsonable(start),
        "finished_at": _jsonable(finish),
        "duration_seconds": round((finish - start).total_seconds(), 3) if start else None,
        # responses that reached a callback or errback: no redirects, no robots.txt
        "pages_fetched": stats.get("response_received_count", 0) - stats.get("robotstxt/response_count", 0),
        "records_extracted": stats.get("news/extracted", 0),
        "records_written": stats.get("news/written", 0),
        "dropped": drops,
        "errors": stats.get("log_count/ERROR", 0),
        "output": stats.get("news/output"),
        "stats": {key: _jsonable(value) for key, value in sorted(stats.items())},
    }


class RunSummary:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        if not crawler.settings.getbool("NEWS_SUMMARY_ENABLED"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        summary = build_summary(stats, run_id_for(self.crawler.settings), spider.name, reason)
        drops = ", ".join(f"{name}={count}" for name, count in summary["dropped"].items()) or "none"
        logger.info(
            "Run %(run_id)s finished (%(reason)s): %(pages)d pages fetched, %(written)d records written, "
            "dropped: %(drops)s; output: %(output)s",
            {
                "run_id": summary["run_id"],
                "reason": reason,
                "pages": summary["pages_fetched"],
                "written": summary["records_written"],
                "drops": drops,
                "output": summary["output"] or "(sink off)",
            },
        )
        output = summary["output"]
        if output:
            runs = Path(output) / "_runs"
            runs.mkdir(parents=True, exist_ok=True)
            target = runs / f"{summary['run_id']}.json"
            temp = runs / f".{summary['run_id']}.json.tmp"
            temp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(temp, target)
