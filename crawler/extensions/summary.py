"""The run summary: in the log, in ``<output>/_runs/<run_id>.json``, and as the exit code.

Per source: pages fetched, records written, drops and skips by reason, errors.
A run fails (exit code 1 from ``scrapy crawlall``) when a spider callback or a
pipeline raised, when a source fetched nothing, when the share of failed
fetches is above ``NEWS_MAX_ERROR_RATE``, or when the crawl did not finish.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.output.s3 import S3Uploader, describe
from crawler.run.runid import run_id_for
from crawler.run.stats import SOURCES_PREFIX, count
from crawler.state.dsn import scrub

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UPLOADS_PENDING = 3  # the crawl went well, but parts wait in the S3 spool: run `scrapy flush`
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


class DeferredRun(RuntimeError):
    """The run must not crawl now, and nothing is wrong with its configuration: S3 cannot be
    reached while the state is shared (an article would only count once its part is in the
    bucket, so a crawl now would fetch the same articles again next time). Exit code 3."""


_ERROR_REASONS = ("fetch_error", "http_error")
# URLs the run would not or could not request: when they are all it had, it fetched nothing
_REFUSED_DROPS = ("blocked_address", "bad_url", "robots_txt", "offsite")
_REFUSED_SKIPS = ("bad_url", "denied", "offsite")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _tally(stats: dict[str, Any]) -> dict[str, Any]:
    """The counts of one prefix's stats, keyed by their names below that prefix."""
    dropped = {key[8:]: value for key, value in stats.items() if key.startswith("dropped/")}
    skipped = {key[8:]: value for key, value in stats.items() if key.startswith("skipped/")}
    discovery_errors = {
        key[17:]: value for key, value in stats.items() if key.startswith("discovery/errors/")
    }
    errors = sum(dropped.get(reason, 0) for reason in _ERROR_REASONS) + sum(discovery_errors.values())
    return {
        "pages_fetched": stats.get("pages_fetched", 0),
        "records_extracted": stats.get("extracted", 0),
        "records_written": stats.get("written", 0),
        "dropped": dict(sorted(dropped.items())),
        "skipped": dict(sorted(skipped.items())),
        "discovery_errors": dict(sorted(discovery_errors.items())),
        "errors": errors,
    }


def _by_source(stats: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``news/<name>`` and ``news/sources/<source>/<name>`` stats, split in one pass over the stats:
    a run of 20,000 sources has a million keys, and a scan per source would be quadratic."""
    totals: dict[str, Any] = {}
    sources: dict[str, dict[str, Any]] = {}
    for key, value in stats.items():
        if key.startswith(SOURCES_PREFIX):
            source, _, name = key[len(SOURCES_PREFIX) :].partition("/")
            sources.setdefault(source, {})[name] = value
        elif key.startswith("news/"):
            totals[key[5:]] = value
    return totals, sources


def judge(summary: dict[str, Any], sources: list[str], max_error_rate: float) -> list[str]:
    """What made the run fail; empty when it did not."""
    problems: list[str] = []
    stats = summary["stats"]
    if summary["finish_reason"] != "finished":
        problems.append(f"the crawl did not finish ({summary['finish_reason']})")
    exceptions = sum(value for key, value in stats.items() if key.startswith("spider_exceptions/"))
    if exceptions:
        problems.append(f"{exceptions} spider error(s)")
    if stats.get("news/sink/close_failed"):
        problems.append("the sink could not complete its parts (the next run recovers them)")
    if stats.get("news/archive/files_failed"):
        problems.append(
            f"{stats['news/archive/files_failed']} web archive(s) could not be read (see the log)"
        )
    feeds_failed = sum(value for key, value in stats.items() if key.startswith("feedexport/failed_count/"))
    if feeds_failed:
        problems.append(f"{feeds_failed} feed export(s) (-o/-O, FEEDS) could not be stored")
    if summary["dropped"].get("pipeline_error"):
        problems.append(f"{summary['dropped']['pipeline_error']} pipeline error(s)")
    refused = {
        reason: summary["dropped"].get(reason, 0) * (reason in _REFUSED_DROPS)
        + summary["skipped"].get(reason, 0) * (reason in _REFUSED_SKIPS)
        for reason in {*_REFUSED_DROPS, *_REFUSED_SKIPS}
    }
    nothing_fetchable = summary["pages_fetched"] == 0 and sum(refused.values()) > 0
    if nothing_fetchable:
        reasons = ", ".join(f"{reason}={n}" for reason, n in sorted(refused.items()) if n)
        hint = (
            " (private and loopback addresses need NEWS_ALLOW_PRIVATE_NETWORKS=true)"
            if refused["blocked_address"]
            else ""
        )
        problems.append(f"nothing was fetched: every URL was refused or invalid ({reasons}){hint}")
    for name in [] if nothing_fetchable else sources:  # one reason is enough
        if summary["sources"].get(name, {}).get("pages_fetched", 0) == 0:
            problems.append(f"source {name!r} fetched nothing")
    attempts = summary["pages_fetched"] + summary["dropped"].get("fetch_error", 0)
    if attempts and summary["errors"] / attempts > max_error_rate:
        problems.append(
            f"error rate {summary['errors'] / attempts:.0%} is above NEWS_MAX_ERROR_RATE ({max_error_rate:.0%})"
        )
    return problems


def build_summary(stats: dict[str, Any], run_id: str, spider: str, reason: str) -> dict[str, Any]:
    start, finish = stats.get("start_time"), stats.get("finish_time") or datetime.now(timezone.utc)
    totals, sources = _by_source(stats)
    return {
        "run_id": run_id,
        "spider": spider,
        "finish_reason": reason,
        "started_at": _jsonable(start),
        "finished_at": _jsonable(finish),
        "duration_seconds": round((finish - start).total_seconds(), 3) if start else None,
        **_tally(totals),
        "sources": {name: _tally(sources[name]) for name in sorted(sources)},
        "output": stats.get("news/output"),
        "stats": {key: _jsonable(value) for key, value in sorted(stats.items())},
    }


def write_summary(summary: dict[str, Any], folder: Path) -> Path:
    """``<folder>/_runs/<run_id>.json``, replaced atomically."""
    runs = folder / "_runs"
    runs.mkdir(parents=True, exist_ok=True)
    target = runs / f"{summary['run_id']}.json"
    temp = runs / f".{summary['run_id']}.json.tmp"
    temp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temp, target)
    return target


def start_failure(
    settings: BaseSettings,
    problem: str,
    status: str = "not_started",
    exit_code: int = EXIT_USAGE,
    spider: str = "crawlall",
) -> dict[str, Any]:
    """The summary of a run that could not start, written where that is still possible: in a
    local output folder that exists (an S3 output gets it from the next run that can start) and the metrics file."""
    now = datetime.now(timezone.utc)
    summary = build_summary(
        {"start_time": now, "finish_time": now}, run_id_for(settings), spider, "not started"
    )
    summary.update(problems=[problem], uploads_pending=0, status=status, exit_code=exit_code)
    output = settings.get("NEWS_OUTPUT") or ""
    local = output and ("://" not in output or output.startswith("file://"))
    try:
        folder = Path(output.removeprefix("file://")).expanduser()
        # into an output that exists: a mistyped first command in an empty folder leaves nothing behind
        if (
            local
            and folder.is_dir()
            and settings.getbool("NEWS_SINK_ENABLED")
            and settings.getbool("NEWS_SUMMARY_ENABLED")
        ):
            write_summary(summary, folder)
    except (OSError, ValueError) as exc:  # the output, or one of these settings, may be what is wrong
        logger.debug("No run summary written: %s", exc)
    return summary


class RunSummary:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.report = True

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        # off, the run is still judged (its exit code needs it); nothing is logged or written
        extension = cls(crawler)
        extension.report = crawler.settings.getbool("NEWS_SUMMARY_ENABLED")
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        # Scrapy's feed export (-o/-O, FEEDS) stores its files after the spider closed: the run is
        # judged once it has said whether they were stored
        crawler.signals.connect(extension.feeds_closed, signal=signals.feed_exporter_closed)
        return extension

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        source = request.meta.get("news_source")
        if source and self.crawler.stats is not None:  # robots.txt requests carry no source
            count(self.crawler.stats, "pages_fetched", source)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._exporting_feeds():
            self._closed = (spider, reason)
            return
        self._close(spider, reason)

    def feeds_closed(self) -> None:
        closed = getattr(self, "_closed", None)
        if closed is not None:
            self._close(*closed)

    def _exporting_feeds(self) -> bool:
        from scrapy.extensions.feedexport import FeedExporter  # noqa: PLC0415 - only with feeds

        return bool(self.crawler.settings.getdict("FEEDS")) and any(
            isinstance(extension, FeedExporter)
            for extension in getattr(getattr(self.crawler, "extensions", None), "middlewares", ())
        )

    def _close(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        summary = build_summary(stats, run_id_for(self.crawler.settings), spider.name, reason)
        expected = list(getattr(spider, "sources", {}) or [])
        summary["problems"] = judge(summary, expected, self.crawler.settings.getfloat("NEWS_MAX_ERROR_RATE"))
        store = getattr(self.crawler, "_news_state", None)
        lost = store.check() if store is not None else None
        if lost:
            summary["problems"].append(lost + "; the next run rebuilds it from the output")
        state = str(self.crawler.settings.get("NEWS_STATE") or "")
        summary["problems"] = [scrub(problem, state) for problem in summary["problems"]]
        failing = list(summary["problems"])
        health = getattr(self.crawler, "news_health", None)
        if health is not None:  # crawler/extensions/health.py
            summary["health"] = health
            unhealthy = [
                f"source {source!r} looks broken: {problem}"
                for source, entry in health.items()
                for problem in entry.get("problems", ())
            ]
            summary["problems"] += unhealthy
            if self.crawler.settings.getbool("NEWS_HEALTH_FAIL_RUN"):
                failing += unhealthy
        learner = getattr(self.crawler, "_news_template_learner", None)
        if learner is not None:  # crawler/state/template_lines.py
            summary["template_lines_learned"] = learner.learned_this_run
        summary["uploads_pending"] = stats.get("news/sink/uploads_pending", 0)
        if failing:
            summary["status"], summary["exit_code"] = "failed", EXIT_FAILED
        elif summary["uploads_pending"]:
            summary["status"], summary["exit_code"] = "uploads_pending", EXIT_UPLOADS_PENDING
        else:
            summary["status"], summary["exit_code"] = "ok", EXIT_OK
        self.crawler.news_summary = summary  # read by `scrapy crawlall` for its exit code
        if not self.report:
            return
        self._log(summary, failing)
        folder = stats.get("news/output_local") or summary["output"]
        if folder:
            target = write_summary(summary, Path(folder))
            if stats.get("news/output_local"):
                self._upload(target, Path(folder))

    def _upload(self, path: Path, root: Path) -> None:
        """The summary goes where the parts went; if S3 is down it waits in the spool with them."""
        uploader = S3Uploader.from_settings(self.crawler.settings)
        try:
            uploader.upload(path, path.relative_to(root).as_posix())
        except Exception as exc:
            logger.warning(
                "Run summary kept in the spool: %(error)s", {"error": describe(exc, uploader.location)}
            )

    def _log(self, summary: dict[str, Any], failing: list[str]) -> None:
        def reasons(group: dict[str, int]) -> str:
            return ", ".join(f"{name}={value}" for name, value in group.items()) or "none"

        logger.info(
            "Run %(run_id)s %(status)s (%(reason)s): %(pages)d pages fetched, %(written)d records written, "
            "dropped: %(drops)s; skipped: %(skips)s; output: %(output)s",
            {
                "run_id": summary["run_id"],
                "status": summary["status"],
                "reason": summary["finish_reason"],
                "pages": summary["pages_fetched"],
                "written": summary["records_written"],
                "drops": reasons(summary["dropped"]),
                "skips": reasons(summary["skipped"]),
                "output": summary["output"] or "(sink off)",
            },
        )
        for name, tally in summary["sources"].items():
            logger.info(
                "  %(source)s: %(pages)d pages, %(written)d written, dropped: %(drops)s; skipped: %(skips)s",
                {
                    "source": name,
                    "pages": tally["pages_fetched"],
                    "written": tally["records_written"],
                    "drops": reasons(tally["dropped"]),
                    "skips": reasons(tally["skipped"]),
                },
                extra={"source": name},
            )
        if (self.crawler.settings.get("NEWS_LOG_FORMAT") or "text").lower() == "json":
            logger.info(
                "Stats of run %(run_id)s", {"run_id": summary["run_id"]}, extra={"stats": summary["stats"]}
            )
        else:  # the same figures are in the run summary file; a text log shows them when debugging
            logger.debug(
                "Stats of run %(run_id)s: %(stats)s",
                {"run_id": summary["run_id"], "stats": json.dumps(summary["stats"], ensure_ascii=False)},
            )
        for problem in failing:  # an unhealthy source that does not fail the run was a warning already
            logger.error(
                "Run %(run_id)s failed: %(problem)s", {"run_id": summary["run_id"], "problem": problem}
            )
