"""Sink step: records as JSONL parts in the partitioned output layout, on local disk or S3.

``<output>/source=<source>/date=<fetch date, UTC>/<run_id>-<part:05d>.jsonl[.gz]``

With ``NEWS_OUTPUT=s3://bucket/prefix`` the parts are written to a local spool
exactly as they are written locally (the same ``PartWriter``), and each completed
part is uploaded in a background thread and deleted from the spool only once the
object's size is confirmed. What could not be uploaded (S3 down, a killed run)
stays in the spool and goes up at the start of the next run or with
``scrapy flush``. Where parts go and how left-over parts are completed and uploaded
is shared with ``scrapy flush``: ``crawler/output/tree.py``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scrapy.exceptions import NotConfigured

from crawler.extensions.summary import DeferredRun
from crawler.output.parts import WARC_SUFFIX, PartWriter, recover_parts
from crawler.output.s3 import S3UnreachableError, S3Uploader, describe, pending_uploads
from crawler.output.tree import (
    is_s3,
    note_of,
    output_root,
    prune_empty_dirs,
    read_part,
    recover,
    register_salvaged,
    run_of,
    upload_confirmed,
    upload_order,
)
from crawler.run.runid import run_id_for
from crawler.run.stats import count
from crawler.state.access import store_for
from crawler.state.store import ALL_EARLIER_RUNS, StateStore, display_location, is_database_url
from pipelines.validate import WARC_PAYLOAD

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Set on an item once its record is written: an error in a later step (the template count) does
# not undo it (pipelines/dedupe.py)
WRITTEN = "_written"


class OutputNotWritableError(ValueError):
    """The folder parts are written to (the output, or the S3 spool) cannot be written."""


def check_writable(root: Path, setting: str) -> None:
    """Create ``root`` and a file in it, before any page is fetched: an output that is a file,
    a read-only folder or a full disk stops the run at start, not after the crawl."""
    probe = root / f".write-test-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"ok")
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as exc:
        reason = (
            "it is not a folder"
            if root.exists() and not root.is_dir()
            else exc.strerror or type(exc).__name__
        )
        raise OutputNotWritableError(f"{setting} {root}: cannot write there ({reason})") from exc


def partition_for(record: dict[str, Any]) -> str:
    """Hive-style partition folder of a record; values escaped so they stay one path segment."""
    source = quote(str(record["source"]), safe="-_.~@+")
    return f"source={source}/date={record['fetched_at'][:10]}"


def encode_record(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def completed_parts(root: Path) -> list[Path]:
    """The parts under ``root``, oldest name first (hidden files are parts in progress)."""
    return sorted(
        path
        for pattern in ("source=*/date=*/*.jsonl", "source=*/date=*/*.jsonl.gz")
        for path in root.glob(pattern)
        if not path.name.startswith(".")
    )


def _spider_of(root: Path, run_id: str) -> str | None:
    """The spider of a run, from its summary in ``<root>/_runs``, when it can be read."""
    try:
        return json.loads((root / "_runs" / f"{run_id}.json").read_text(encoding="utf-8")).get("spider")
    except (OSError, ValueError, AttributeError):
        return None


def rebuild_state(root: Path, store: StateStore, run_id: str) -> int:
    """Remember the articles of the parts under ``root`` whose runs the state does not know.

    The state was deleted, replaced (a restored backup, a copy from elsewhere) or moved
    away because it was damaged: without this the next run would emit all of those
    articles again. Returns the number of articles remembered.
    """
    known = store.known_runs()
    parts = completed_parts(root)
    if ALL_EARLIER_RUNS in known:  # a state from before runs were tracked: it knew them all
        store.add_runs({run_of(part) for part in parts} | {run_id})
        return 0
    unknown = [part for part in parts if run_of(part) not in known]
    total = 0
    oneoff = {run for run in {run_of(part) for part in unknown} if _spider_of(root, run) == "article"}
    if oneoff:
        logger.warning(
            "%(runs)d one-off run(s) (crawl article, which uses no state) wrote %(parts)d part(s) into "
            "%(output)s, the output of this stream (NEWS_ONEOFF_FOLDER was empty): remembering their "
            "articles as emitted",
            {
                "runs": len(oneoff),
                "parts": sum(run_of(part) in oneoff for part in unknown),
                "output": root,
            },
        )
    others = [part for part in unknown if run_of(part) not in oneoff]
    if others:
        logger.warning(
            "The state does not know %(runs)d run(s) whose %(parts)d part(s) are in %(output)s (it was "
            "deleted or replaced): remembering their articles",
            {"runs": len({run_of(part) for part in others}), "parts": len(others), "output": root},
        )
    for path in unknown:
        try:
            records = read_part(path)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            logger.warning(
                "Could not read %(part)s to rebuild the state: %(error)s", {"part": path, "error": exc}
            )
            continue
        notes = [note_of(r) for r in records]
        notes = [
            note for note in notes if note["canonical_url"] and note["content_hash"] and note["fetched_at"]
        ]
        store.record_emitted(notes)
        total += len(notes)
    store.add_runs({run_of(part) for part in unknown} | {run_id})
    return total


def _taken_in_bucket(uploader: S3Uploader, relative: str) -> bool:
    """A part name already used in the bucket; when S3 cannot be asked, the spool's word goes.

    (Default run ids are unique, so this matters only for a reused NEWS_RUN_ID; an outage
    must never stop records from being written to the spool.)
    """
    try:
        return uploader.exists(relative)
    except Exception as exc:
        logger.debug("Could not check %(key)s in the bucket: %(error)s", {"key": relative, "error": exc})
        return False


class JsonlSinkPipeline:
    def __init__(
        self,
        writer: PartWriter,
        stats: StatsCollector,
        store: StateStore | None = None,
        uploader: S3Uploader | None = None,
        confirmed: bool = False,
    ):
        self.writer = writer
        self.stats = stats
        self.store = store
        self.uploader = uploader
        # S3 output and a state shared by throwaway workers: an article counts as emitted only
        # once the part holding it is confirmed in the bucket (a worker's disk may vanish)
        self.confirmed = confirmed and store is not None and uploader is not None
        self.state_location = ""
        self._executor = (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="s3-upload") if uploader else None
        )
        self._uploads: list[Future[None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonlSinkPipeline:
        settings = crawler.settings
        if not settings.getbool("NEWS_SINK_ENABLED"):
            raise NotConfigured  # NEWS_SINK_ENABLED is off (by choice: no warning)
        writer = PartWriter(
            root=output_root(settings),
            run_id=run_id_for(settings),
            max_items=settings.getint("NEWS_SINK_MAX_ITEMS"),
            max_bytes=settings.getint("NEWS_SINK_MAX_BYTES"),
            compress=settings.get("NEWS_SINK_COMPRESS") or "",
        )
        store = store_for(crawler) if settings.getbool("NEWS_STATE_ENABLED") else None
        uploader = S3Uploader.from_settings(settings) if is_s3(settings.get("NEWS_OUTPUT")) else None
        confirmed = is_database_url(settings.get("NEWS_STATE"))
        pipeline = cls(writer, crawler.stats, store, uploader, confirmed)
        pipeline.state_location = settings.get("NEWS_STATE")
        if uploader is not None and settings.get("NEWS_RUN_ID"):
            # the spool forgets uploaded parts: a reused run id must not overwrite an object (a
            # request to S3 per new part, in the crawl's thread: only for a run id given by hand;
            # generated ones are unique)
            writer.taken = lambda final: _taken_in_bucket(uploader, final.relative_to(writer.root).as_posix())
        writer.on_complete = pipeline._part_completed
        writer.on_durable = pipeline._part_durable
        pipeline.check_output()
        return pipeline

    def check_output(self) -> None:
        """Before the crawl starts (so before any page is fetched): an output that cannot be
        written stops the run with the cause; S3 that cannot be reached only means that the
        parts wait in the spool (the run ends with exit code 3, `scrapy flush` sends them)."""
        check_writable(self.writer.root, "NEWS_SINK_SPOOL" if self.uploader is not None else "NEWS_OUTPUT")
        if self.uploader is None:
            return
        try:
            self.uploader.preflight(self.writer.run_id)
        except S3UnreachableError as exc:
            if self.confirmed:
                raise DeferredRun(
                    f"S3 is unreachable ({exc}); with a shared state ({display_location(self.state_location)}) "
                    "an article counts only once its part is in the bucket, so crawling now would fetch "
                    "the same articles again next time"
                ) from exc
            logger.warning(
                "S3 is unreachable at start (%(error)s); the crawl goes on and its parts wait in the spool %(spool)s",
                {"error": exc, "spool": self.writer.root},
            )
            self.stats.set_value("news/sink/s3_unreachable_at_start", 1)

    def open_spider(self) -> None:
        root = self.writer.root
        if self.store is not None and self.uploader is None:
            rebuilt = rebuild_state(root, self.store, self.writer.run_id)
            if rebuilt:
                self.stats.set_value("news/state/rebuilt_articles", rebuilt)
        if self.confirmed:
            self._settle_pending_parts()
            assert self.store is not None and self.uploader is not None
            recovered = recover_parts(root, register_salvaged(self.store, self.uploader, root))
        else:
            recovered = recover(root, self.store)
        if recovered:
            self.stats.inc_value("news/sink/parts_recovered", len(recovered))
        if self.uploader is not None:
            self.stats.set_value("news/output", str(self.uploader.location))
            self.stats.set_value("news/output_local", str(root.resolve()))
            for path in pending_uploads(root):
                self.stats.inc_value("news/sink/uploads_resumed")
                if self.confirmed:
                    # before the crawl starts: until its part is committed an article is not
                    # "seen", and would be fetched and written again by this very run
                    self._upload(path, resumed=True)
                else:
                    self._submit(path, resumed=True)
        else:
            self.stats.set_value("news/output", str(root.resolve()))

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        # remembered as the record would be read back from its part (the body as extracted first)
        note = note_of(item) if self.store is not None else None
        record = {key: value for key, value in item.items() if not key.startswith("_")}
        warc = item.pop(WARC_PAYLOAD, None)
        if warc is None:
            self.writer.write(partition_for(item), encode_record(record), note)
        else:  # the page's WARC records go beside the part, and the record says in which file

            def line(warc_file: str) -> bytes:
                record["warc_file"] = warc_file
                return encode_record(record)

            self.writer.write(partition_for(item), line, note, warc=warc)
        # on the dict the dedupe step holds; what goes on (to a feed export too) is the record,
        # with only the private fields a later step (the template count) takes off
        item[WRITTEN] = True
        count(self.stats, "written", item.get("source"))
        return {
            **record,
            **{key: value for key, value in item.items() if key.startswith("_") and key != WRITTEN},
        }

    async def close_spider(self) -> None:
        try:
            self.writer.close()
        except Exception:
            # the run must not report success with parts left unfinished (see the summary's judge)
            self.stats.set_value("news/sink/close_failed", 1)
            logger.exception("Could not complete the open parts; the next run recovers them")
        if self._executor is not None:
            # the uploads finish in their threads while the reactor keeps running
            self._pending(await asyncio.get_running_loop().run_in_executor(None, self._drain))

    def _part_completed(self, path: Path) -> None:
        if path.name.endswith(WARC_SUFFIX):  # uploaded with its part, just before it
            return
        self.stats.inc_value("news/sink/parts_completed")
        if self.uploader is not None:
            self._submit(path)

    def _part_durable(self, path: Path, notes: list[Any]) -> None:
        if self.store is None:
            return
        if self.confirmed:  # remembered as emitted once the bucket has it (see _upload)
            self.store.register_pending_part(self._key(path), self.writer.run_id, notes)
        else:
            self.store.record_emitted(notes)

    def _key(self, path: Path) -> str:
        assert self.uploader is not None
        return self.uploader.location.key(path.relative_to(self.writer.root).as_posix())

    def _settle_pending_parts(self) -> None:
        """Parts that dead workers registered and never confirmed: in the bucket, their articles
        are emitted; not there, they are forgotten, and fetched again by the shard that owns them.
        A part of a live run (its run lock held) or waiting in this spool is left alone."""
        assert self.store is not None and self.uploader is not None
        self.store.try_lock_group(f"run:{self.writer.run_id}")
        prefix = self.uploader.location.key("")
        for key, run_id in self.store.pending_parts():
            relative = key[len(prefix) :] if key.startswith(prefix) else key
            if (self.writer.root / relative).exists() or not self.store.try_lock_group(f"run:{run_id}"):
                continue
            try:
                present = self.uploader.exists(relative)
            except Exception as exc:  # left pending: the next start settles it
                logger.warning(
                    "Could not check %(key)s in the bucket: %(error)s",
                    {"key": key, "error": describe(exc, self.uploader.location)},
                )
                continue
            if present:
                self.store.commit_part(key)
                self.stats.inc_value("news/sink/pending_committed")
            else:
                self.store.forget_part(key)
                self.stats.inc_value("news/sink/pending_forgotten")

    def _submit(self, path: Path, resumed: bool = False) -> None:
        assert self._executor is not None
        self._uploads.append(self._executor.submit(self._upload, path, resumed))

    def _upload(self, path: Path, resumed: bool = False) -> None:
        """In an upload thread: a failure keeps the part in the spool for the next attempt."""
        # imported here: importing the reactor at module level would install the wrong one
        from twisted.internet import reactor  # noqa: PLC0415

        assert self.uploader is not None
        relative = path.relative_to(self.writer.root).as_posix()
        files = upload_order(path)
        if not files:  # a WARC file that goes with its part
            return
        try:
            for file in files:  # a part's pages first: a failure keeps the part back
                if self.confirmed and self.store is not None:
                    upload_confirmed(
                        self.store, self.uploader, self.writer.root, file, registered=not resumed
                    )
                else:
                    self.uploader.upload(file, file.relative_to(self.writer.root).as_posix())
        except Exception as exc:
            logger.warning(
                "Upload of %(part)s failed, kept in the spool for the next run or `scrapy flush`: %(error)s",
                {"part": relative, "error": describe(exc, self.uploader.location)},
            )
            reactor.callFromThread(self.stats.inc_value, "news/sink/upload_failed")
            return
        reactor.callFromThread(self.stats.inc_value, "news/sink/uploaded")

    def _drain(self) -> int:
        wait(self._uploads)
        assert self._executor is not None
        self._executor.shutdown(wait=True)
        # only now, with the writer closed: a folder emptied mid-run may be about to get a new part
        for folder in sorted(
            (p for p in self.writer.root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
        ):
            prune_empty_dirs(folder, self.writer.root)
        return len(pending_uploads(self.writer.root))

    def _pending(self, pending: int) -> None:
        self.stats.set_value("news/sink/uploads_pending", pending)
        if pending:
            logger.warning(
                "%(n)d file(s) wait in the spool %(spool)s for upload to %(target)s; run `scrapy flush`",
                {
                    "n": pending,
                    "spool": self.writer.root,
                    "target": self.uploader.location if self.uploader else "",
                },
            )
