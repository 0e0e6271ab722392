"""JSONL part files that become visible only when complete.

A part is written under a hidden temporary name (``.<name>.inprogress``) in its
final folder, flushed after every record, and on completion fsynced and renamed
to its final name, so a reader never sees half a file. Between the fsync and the
rename, ``on_durable`` receives what each record asked to be remembered (the
sink records the articles as emitted there), so a crash either leaves a part to
recover or a part whose articles are already recorded. The writer holds an
exclusive ``flock`` on each open part: a part whose lock can be taken belongs
to a dead process, and :func:`recover_parts` completes it from its whole lines.
The S3 sink spools parts through the same code.
"""

from __future__ import annotations

import fcntl
import gzip
import logging
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

TMP_SUFFIX = ".inprogress"
COMPRESSIONS = {"": ".jsonl", "gzip": ".jsonl.gz"}


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path_for(final: Path) -> Path:
    return final.with_name("." + final.name + TMP_SUFFIX)


def final_path_for(temp: Path) -> Path:
    return temp.with_name(temp.name[1 : -len(TMP_SUFFIX)])


WARC_SUFFIX = ".warc.gz"
WARC_TMP_SUFFIX = ".open"  # not TMP_SUFFIX: a WARC file in progress is no part to salvage by lines


def warc_path_for(final: Path) -> Path:
    """The WARC file beside a part (NEWS_WARC_OUTPUT): the part's name, ``.warc.gz`` for ``.jsonl``."""
    stem = final.name.removesuffix(".gz").removesuffix(".jsonl")
    return final.with_name(stem + WARC_SUFFIX)


def warc_temp_for(final_warc: Path) -> Path:
    return final_warc.with_name("." + final_warc.name + WARC_TMP_SUFFIX)


@dataclass
class OpenPart:
    final: Path
    raw: BinaryIO
    stream: BinaryIO
    items: int = 0
    size: int = 0
    notes: list[Any] = field(default_factory=list)
    warc: BinaryIO | None = None  # the pages of its records, as WARC records (NEWS_WARC_OUTPUT)

    @property
    def temp(self) -> Path:
        return temp_path_for(self.final)


@dataclass
class PartWriter:
    """Writes lines into rotating parts, one open part per partition folder."""

    root: Path
    run_id: str
    max_items: int = 10_000
    max_bytes: int = 128 * 1024 * 1024
    compress: str = ""
    on_complete: Callable[[Path], None] | None = None
    on_durable: Callable[[Path, list[Any]], None] | None = None
    # Whether a part name is taken elsewhere too (the S3 sink asks the bucket: the spool forgets).
    taken: Callable[[Path], bool] | None = None
    _open: dict[str, OpenPart] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.compress not in COMPRESSIONS:
            raise ValueError(f"compression {self.compress!r}: expected one of {sorted(COMPRESSIONS)}")
        if self.max_items < 1 or self.max_bytes < 1:
            raise ValueError("part limits must be positive")

    def write(
        self,
        partition: str,
        line: bytes | Callable[[str], bytes],
        note: Any = None,
        warc: bytes | None = None,
    ) -> None:
        """One record's line into the partition's open part. With ``warc`` (the page's WARC
        records), those go first into the WARC file beside the part, and ``line`` is a function of
        that file's name (relative to the root): a record in a part always has its page there."""
        part = self._open.get(partition)
        encoded = self._line(line, part)
        if part is not None and part.items and part.size + len(encoded) > self.max_bytes:
            # a part stays within max_bytes unless one record alone is larger
            self._complete(partition)
            part = None
        if part is None:
            part = self._start(partition)
            encoded = self._line(line, part)
        if warc is not None:
            if part.warc is None:
                part.warc = open(warc_temp_for(warc_path_for(part.final)), "xb")  # noqa: SIM115 - closed in _complete
                fcntl.flock(
                    part.warc.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB
                )  # a live writer's: not recovered
            part.warc.write(warc)
            part.warc.flush()  # before the line: a killed process leaves no line without its page
        part.stream.write(encoded)
        # Hand every record to the OS at once: a killed process then loses nothing.
        part.stream.flush()
        part.items += 1
        part.size += len(encoded)
        if note is not None:
            part.notes.append(note)
        if part.items >= self.max_items:
            self._complete(partition)

    def close(self) -> None:
        for partition in list(self._open):
            self._complete(partition)

    @property
    def open_parts(self) -> int:
        return len(self._open)

    def _line(self, line: bytes | Callable[[str], bytes], part: OpenPart | None) -> bytes:
        if not callable(line):
            return line
        name = warc_path_for(part.final).relative_to(self.root).as_posix() if part is not None else ""
        return line(name)

    def _start(self, partition: str) -> OpenPart:
        folder = self.root / partition
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            number = self._counters.get(partition, 0)
            self._counters[partition] = number + 1
            final = folder / f"{self.run_id}-{number:05d}{COMPRESSIONS[self.compress]}"
            free = not final.exists() and not temp_path_for(final).exists()
            if free and (self.taken is None or not self.taken(final)):
                break
        raw = open(temp_path_for(final), "xb")  # noqa: SIM115 - closed in _complete
        fcntl.flock(raw.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        stream: BinaryIO = raw
        if self.compress == "gzip":
            stream = gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0)  # type: ignore[assignment]
        part = OpenPart(final=final, raw=raw, stream=stream)
        self._open[partition] = part
        return part

    def _complete(self, partition: str) -> None:
        part = self._open.pop(partition)
        if part.stream is not part.raw:
            part.stream.close()
        part.raw.flush()
        os.fsync(part.raw.fileno())
        if part.warc is not None:  # in place before its part: a visible record's page is there
            os.fsync(part.warc.fileno())
            part.warc.close()
            warc = warc_path_for(part.final)
            os.rename(warc_temp_for(warc), warc)
            if self.on_complete is not None:
                self.on_complete(warc)
        if self.on_durable is not None and part.notes:
            self.on_durable(part.final, part.notes)
        os.rename(part.temp, part.final)
        fsync_dir(part.final.parent)
        part.raw.close()  # releases the lock only once the part is in place
        logger.info("Completed part %(path)s (%(items)d records)", {"path": part.final, "items": part.items})
        if self.on_complete is not None:
            self.on_complete(part.final)


def _whole_lines(data: bytes) -> bytes:
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


def _salvage(temp: Path) -> bytes:
    """The complete lines of an abandoned part, decompressing as far as the data allows."""
    data = temp.read_bytes()
    if temp.name.endswith(".gz" + TMP_SUFFIX):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        output = bytearray()
        # chunk by chunk, and byte by byte in the chunk that fails: a damaged tail
        # keeps everything that decompressed before it
        for start in range(0, len(data), 16384):
            chunk = data[start : start + 16384]
            saved = decompressor.copy()
            try:
                output += decompressor.decompress(chunk)
            except zlib.error:
                decompressor = saved
                for index in range(len(chunk)):
                    try:
                        output += decompressor.decompress(chunk[index : index + 1])
                    except zlib.error:
                        break
                break
        data = bytes(output)
    return _whole_lines(data)


def in_nested_output(relative: Path) -> bool:
    """Whether a file below an output's root belongs to another output nested in it (one-off
    crawls' ``oneoff/``): its ``source=…`` or ``_runs`` folder is deeper than the root's own."""
    return any(part.startswith("source=") or part == "_runs" for part in relative.parts[1:-1])


def recover_parts(root: Path, on_durable: Callable[[Path, bytes], None] | None = None) -> list[Path]:
    """Complete the parts that dead processes left under ``root``; returns their final paths.

    The same order as a live writer: the salvaged part is fsynced, then ``on_durable``
    receives its lines (the sink records the articles), then it is renamed into place,
    then the temporary file goes. A kill at any point leaves either the temporary file
    (recovered again next time) or a recorded, visible part.
    """
    recovered: list[Path] = []
    if not root.exists():
        return recovered
    for temp in sorted(root.rglob("." + "*" + WARC_SUFFIX + WARC_TMP_SUFFIX)):
        if not in_nested_output(temp.relative_to(root)):
            _recover_warc(temp)  # the pages first: a part made visible below has its pages in place
    for temp in sorted(root.rglob("." + "*" + TMP_SUFFIX)):
        if in_nested_output(temp.relative_to(root)):
            continue
        try:
            handle = open(temp, "rb+")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            continue
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer owns it
            content = _salvage(temp)
            final = final_path_for(temp)
            if not content and temp.stat().st_size > 0:
                # nothing readable: keep the bytes aside for a person, never delete them
                aside = temp.with_name(temp.name + ".unreadable")
                os.rename(temp, aside)
                logger.error("Could not salvage %(path)s; kept as %(aside)s", {"path": temp, "aside": aside})
                continue
            if content:
                rewrite = final.with_name("." + final.name + ".recover")
                with open(rewrite, "wb") as out:
                    if final.name.endswith(".gz"):
                        with gzip.GzipFile(fileobj=out, mode="wb", filename="", mtime=0) as zipped:
                            zipped.write(content)
                    else:
                        out.write(content)
                    out.flush()
                    os.fsync(out.fileno())
                if on_durable is not None:
                    on_durable(final, content)
                os.rename(rewrite, final)
                recovered.append(final)
                logger.warning(
                    "Recovered %(lines)d records of an interrupted run into %(path)s",
                    {"lines": content.count(b"\n"), "path": final},
                )
            temp.unlink()
            fsync_dir(final.parent)
    return recovered


def _recover_warc(temp: Path) -> Path | None:
    """A WARC file a dead process left: cut after its last whole record (each record is one gzip
    member), fsynced and put in place. Its records without a line in the part are pages whose
    record was never written: kept, harmless."""
    with open(temp, "rb") as probe:
        try:
            fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live writer owns it
    data = temp.read_bytes()
    view = memoryview(data)
    end = 0
    while end < len(data):
        # one member, fed a chunk at a time: its end is found without copying the rest of the file
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        position = end
        try:
            while not decompressor.eof and position < len(data):
                chunk = view[position : position + 65536]
                decompressor.decompress(chunk)
                position += len(chunk) - len(decompressor.unused_data)
        except zlib.error:
            break
        if not decompressor.eof:  # a member cut short: the record it held is dropped
            break
        end = position
    final = temp.with_name(temp.name[1 : -len(WARC_TMP_SUFFIX)])
    with open(temp, "rb+") as handle:
        handle.truncate(end)
        handle.flush()
        os.fsync(handle.fileno())
    if end == 0:
        temp.unlink()
        return None
    os.rename(temp, final)
    fsync_dir(final.parent)
    logger.warning("Recovered the WARC records of an interrupted run into %(path)s", {"path": final})
    return final
