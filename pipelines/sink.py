"""Sink step: records as JSONL parts in the partitioned output layout.

``<output>/source=<source>/date=<fetch date, UTC>/<run_id>-<part:05d>.jsonl[.gz]``
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scrapy.exceptions import NotConfigured

from crawler.runid import run_id_for
from crawler.state import StateStore, store_for
from crawler.stats import count
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


# What the state store needs of a record to remember it as emitted.
STATE_FIELDS = (
    "canonical_url",
    "id",
    "content_hash",
    "version",
    "fetched_at",
    "published_at",
    "published_date",
    "url",
)


class JsonlSinkPipeline:
    def __init__(self, writer: PartWriter, stats: StatsCollector, store: StateStore | None = None):
        self.writer = writer
        self.stats = stats
        self.store = store

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
        store = store_for(crawler) if settings.getbool("NEWS_STATE_ENABLED") else None
        pipeline = cls(writer, crawler.stats, store)
        writer.on_complete = pipeline._part_completed
        writer.on_durable = pipeline._part_durable
        return pipeline

    def open_spider(self) -> None:
        recovered = recover_parts(self.writer.root)
        if recovered:
            self.stats.inc_value("news/sink/parts_recovered", len(recovered))
            if self.store is not None:
                # a dead run's salvaged records are emitted now: remember them, or they come again
                for part in recovered:
                    self.store.record_emitted(_state_notes(read_part(part)))
        self.stats.set_value("news/output", str(self.writer.root.resolve()))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        note = {name: item.get(name) for name in STATE_FIELDS} if self.store is not None else None
        self.writer.write(partition_for(item), encode_record(item), note)
        count(self.stats, "written", item.get("source"))
        return item

    def close_spider(self) -> None:
        self.writer.close()

    def _part_completed(self, path: Path) -> None:
        self.stats.inc_value("news/sink/parts_completed")

    def _part_durable(self, path: Path, notes: list[Any]) -> None:
        if self.store is not None:
            self.store.record_emitted(notes)


def _state_notes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: record.get(name) for name in STATE_FIELDS} for record in records]


def read_part(path: Path) -> list[dict[str, Any]]:
    """The records of a completed part."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.splitlines() if line.strip()]
