"""The output tree: where parts are written, and what is done with the parts found there.

Parts go to the output folder, or with ``NEWS_OUTPUT=s3://bucket/prefix`` to a local
spool that mirrors the bucket. Both the sink pipeline (``pipelines/sink.py``) and
``scrapy flush`` (``crawler/commands/flush.py``) use these: completing the parts dead
runs left (remembering their articles in the state store), reading completed parts,
and, with a state shared by throwaway workers, uploading a part so that its articles
count as emitted only once the bucket has it.
"""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.output.parts import WARC_SUFFIX, recover_parts, warc_path_for
from crawler.output.s3 import S3Location, S3Uploader
from crawler.state.dsn import display
from crawler.state.store import StateStore, is_database_url, state_path

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


class UnsupportedOutputError(ValueError):
    """NEWS_OUTPUT names a storage this version cannot write to."""


def is_s3(output: str) -> bool:
    return output.startswith("s3://")


def local_root(output: str) -> Path:
    if "://" in output:
        scheme = output.split("://", 1)[0]
        if scheme != "file":
            raise UnsupportedOutputError(
                f"NEWS_OUTPUT={display(output)!r}: expected a folder, file://... or s3://..."
            )
        output = output.split("://", 1)[1]
    return Path(output).expanduser()


def spool_root(settings: Any) -> Path:
    """Where S3 parts wait for their upload: NEWS_SINK_SPOOL, or a folder beside the state file
    (``./spool`` when the state is on a database server)."""
    location = S3Location.parse(settings.get("NEWS_OUTPUT"))
    state = settings.get("NEWS_STATE")
    beside = "spool" if is_database_url(state) else str(state_path(state).parent / "spool")
    base = settings.get("NEWS_SINK_SPOOL") or beside
    return Path(base).expanduser() / location.bucket / location.prefix


def output_root(settings: Any) -> Path:
    """The folder parts are written to: the output itself, or the S3 spool."""
    output = settings.get("NEWS_OUTPUT")
    return spool_root(settings) if is_s3(output) else local_root(output)


# What the state store needs of a record to remember it as emitted.
STATE_FIELDS = (
    "canonical_url",
    "id",
    "content_hash",
    "version",
    "fetched_at",
    "published_at",
    "published_date",
    "modified_at",
    "url",
)
# The record's hash of its body as extracted, on a record whose learned template lines were left out
# (``pipelines/boilerplate.py``); its content_hash is then the hash of the text as written.
BODY_HASH = "body_hash"


def parse_lines(data: bytes) -> list[dict[str, Any]]:
    """Records from JSONL bytes; a line that is not a JSON object is skipped and logged."""
    records = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            logger.error("Skipped a damaged line in a recovered part: %(line)r", {"line": line[:200]})
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def read_part(path: Path) -> list[dict[str, Any]]:
    """The records of a completed part."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return parse_lines(data)


def recover(root: Path, store: StateStore | None) -> list[Path]:
    """Complete the parts dead runs left under ``root``, remembering their articles before they show."""

    def remember(final: Path, content: bytes) -> None:
        if store is not None:
            # a dead run's salvaged records are emitted now: remember them, or they come again
            store.record_emitted(notes_of(parse_lines(content)))

    return recover_parts(root, remember)


def note_of(record: dict[str, Any]) -> dict[str, Any]:
    """What the state store remembers of a record (``StateStore.record_emitted``): its hash is the
    body as extracted, which tells a later fetch of the article whether it changed whatever was
    learned meanwhile; the text as written goes beside it, to find copies equal to that text."""
    note = {name: record.get(name) for name in STATE_FIELDS}
    if record.get(BODY_HASH):
        note["content_hash"], note["cleaned_hash"] = record[BODY_HASH], record.get("content_hash")
    return note


def notes_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [note_of(r) for r in records]


def register_salvaged(store: StateStore, uploader: S3Uploader, root: Path) -> Callable[[Path, bytes], None]:
    """For ``recover_parts`` with a shared state: a part salvaged from a dead run on this disk is
    pending until the bucket confirms it."""

    def register(final: Path, content: bytes) -> None:
        key = uploader.location.key(final.relative_to(root).as_posix())
        # the dead run's lock, so that no other worker settles (forgets) the part meanwhile
        store.try_lock_group(f"run:{run_of(final)}")
        store.register_pending_part(key, run_of(final), notes_of(parse_lines(content)))

    return register


def upload_order(path: Path) -> list[Path]:
    """What uploading ``path`` from the spool means: a part goes after the WARC file of its pages
    (NEWS_WARC_OUTPUT), in the same task, so that no part is in the bucket without its pages; a
    WARC file whose part still waits goes with that part (nothing now)."""
    if path.name.endswith(WARC_SUFFIX):
        stem = path.name.removesuffix(WARC_SUFFIX)
        waiting = [path.with_name(stem + suffix) for suffix in (".jsonl", ".jsonl.gz")]
        return [] if any(part.exists() for part in waiting) else [path]
    warc = warc_path_for(path)
    return [warc, path] if path.name.endswith((".jsonl", ".jsonl.gz")) and warc.exists() else [path]


def upload_confirmed(
    store: StateStore, uploader: S3Uploader, root: Path, path: Path, registered: bool
) -> str:
    """Upload a part with a shared state: its articles count as emitted once the bucket has it.
    A part found in the spool (``registered`` False) is registered first if its run did not."""
    relative = path.relative_to(root).as_posix()
    key = uploader.location.key(relative)
    part = path.name.endswith((".jsonl", ".jsonl.gz"))  # a run summary or a WARC file carries no articles
    if part and not registered:
        store.try_lock_group(f"run:{run_of(path)}")  # no other worker settles it while it uploads
        if all(pending != key for pending, _ in store.pending_parts()):
            store.register_pending_part(key, run_of(path), notes_of(read_part(path)))
    uploader.upload(path, relative)  # checked with a HEAD before it returns
    store.commit_part(key)
    return key


def run_of(part: Path) -> str:
    """The run id in a part's name: ``<run_id>-<part:05d>.jsonl[.gz]``."""
    return part.name.removesuffix(".gz").removesuffix(".jsonl").rsplit("-", 1)[0]


def prune_empty_dirs(folder: Path, root: Path) -> None:
    """Remove the partition folders an upload emptied, up to (not including) ``root``."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
