"""Sink step: records as JSONL parts in the partitioned output layout.

``<output>/source=<source>/date=<fetch date, UTC>/<run_id>-<part:05d>.jsonl[.gz]``
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scrapy.exceptions import NotConfigured

from crawler.runid import run_id_for
from pipelines.parts import PartWriter, recover_parts

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class UnsupportedOutputError(ValueError):
    """NEWS_OUTPUT names a storage this version cannot write to."""


def partition_for(record: dict[str, Any]) -> str:
    """Hive-style partition folder of a record; values escaped so they stay one path segment."""
    source = quote(str(record["source"]), safe="-_.~@+")
    return f"source={source}/date={record['fetched_at'][:10]}"


def encode_record(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def local_root(output: str) -> Path:
    if "://" in output:
        scheme = output.split("://", 1)[0]
        if scheme != "file":
            raise UnsupportedOutputError(f"NEWS_OUTPUT={output!r}: only local folders are supported so far")
        output = output.split("://", 1)[1]
    return Path(output).expanduser()


class JsonlSinkPipeline:
    def __init__(self, writer: PartWriter, stats: StatsCollector):
        self.writer = writer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonlSinkPipeline:
        settings = crawler.settings
        if not settings.getbool("NEWS_SINK_ENABLED"):
            raise NotConfigured("NEWS_SINK_ENABLED is off")
        root = local_root(settings.get("NEWS_OUTPUT"))
        writer = PartWriter(
            root=root,
            run_id=run_id_for(settings),
            max_items=settings.getint("NEWS_SINK_MAX_ITEMS"),
            max_bytes=settings.getint("NEWS_SINK_MAX_BYTES"),
            compress=settings.get("NEWS_SINK_COMPRESS") or "",
        )
        pipeline = cls(writer, crawler.stats)
        writer.on_complete = pipeline._part_completed
        return pipeline

    def open_spider(self) -> None:
        recovered = recover_parts(self.writer.root)
        if recovered:
            self.stats.inc_value("news/sink/parts_recovered", len(recovered))
        self.stats.set_value("news/output", str(self.writer.root.resolve()))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.writer.write(partition_for(item), encode_record(item))
        self.stats.inc_value("news/written")
        return item

    def close_spider(self) -> None:
        self.writer.close()

    def _part_completed(self, path: Path) -> None:
        self.stats.inc_value("news/sink/parts_completed")
