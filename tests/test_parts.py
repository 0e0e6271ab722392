"""Part files: rotation, compression, and recovery of parts left by a dead process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from crawler.output.parts import PartWriter, recover_parts


def lines(n: int, start: int = 0) -> list[bytes]:
    return [(json.dumps({"n": i, "text": "x" * 50}) + "\n").encode() for i in range(start, start + n)]


def visible(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl*") if not p.name.startswith("."))


def test_rotation_by_items_and_visibility_only_when_complete(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path, "run1", max_items=3)
    for line in lines(4):
        writer.write("source=a/date=2023-09-04", line)
    # three records completed one part; the fourth sits in a hidden part
    assert [p.name for p in visible(tmp_path)] == ["run1-00000.jsonl"]
    assert len(list(tmp_path.rglob(".*.inprogress"))) == 1
    writer.close()
    assert [p.name for p in visible(tmp_path)] == ["run1-00000.jsonl", "run1-00001.jsonl"]
    assert not list(tmp_path.rglob(".*.inprogress"))


def test_rotation_by_bytes(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path, "run1", max_bytes=150)
    for line in lines(5):
        writer.write("p", line)
    writer.close()
    sizes = [len(p.read_bytes().splitlines()) for p in visible(tmp_path)]
    assert sum(sizes) == 5 and max(sizes) <= 2


def test_gzip_parts(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path, "run1", compress="gzip")
    for line in lines(3):
        writer.write("p", line)
    writer.close()
    (part,) = visible(tmp_path)
    assert part.name.endswith(".jsonl.gz")
    assert gzip.decompress(part.read_bytes()).count(b"\n") == 3


def test_bad_compression_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gzip"):
        PartWriter(tmp_path, "run1", compress="zip")


@pytest.mark.parametrize("compress", ["", "gzip"])
def test_recovery_keeps_whole_lines_of_a_killed_writer(tmp_path: Path, compress: str) -> None:
    # A real process writes and dies without closing: the OS drops its lock.
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from crawler.output.parts import PartWriter
        writer = PartWriter(Path({str(tmp_path)!r}), "dead", compress={compress!r})
        for i in range(5):
            writer.write("p", b'{{"n": %d}}\\n' % i)
        part = writer._open["p"]
        part.stream.write(b'{{"n": 99, "trunc')  # a half-written record
        part.stream.flush()
        os._exit(9)
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent, check=False)
    assert visible(tmp_path) == []
    recovered = recover_parts(tmp_path)
    assert len(recovered) == 1
    data = recovered[0].read_bytes()
    if compress:
        data = gzip.decompress(data)
    assert [json.loads(line)["n"] for line in data.splitlines()] == [0, 1, 2, 3, 4]
    assert not list(tmp_path.rglob(".*.inprogress"))


def test_recovery_leaves_parts_of_live_writers_alone(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path, "live")
    writer.write("p", lines(1)[0])
    assert recover_parts(tmp_path) == []
    writer.close()
    assert len(visible(tmp_path)) == 1


def test_a_new_run_never_overwrites_an_existing_part(tmp_path: Path) -> None:
    for _ in range(2):
        writer = PartWriter(tmp_path, "same-run-id")
        writer.write("p", lines(1)[0])
        writer.close()
    assert [p.name for p in visible(tmp_path)] == ["same-run-id-00000.jsonl", "same-run-id-00001.jsonl"]


def test_damaged_gzip_tail_keeps_what_came_before(tmp_path: Path) -> None:
    body = b"".join(lines(5))
    temp = tmp_path / "p" / ".run-00000.jsonl.gz.inprogress"
    temp.parent.mkdir()
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    temp.write_bytes(compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH) + b"\x00" * 4096)
    (part,) = recover_parts(tmp_path)
    assert gzip.decompress(part.read_bytes()) == body


def test_unreadable_part_is_kept_aside_never_deleted(tmp_path: Path) -> None:
    temp = tmp_path / ".run-00000.jsonl.gz.inprogress"
    temp.write_bytes(b"\x00\x01not gzip at all" * 10)
    assert recover_parts(tmp_path) == []
    assert (tmp_path / ".run-00000.jsonl.gz.inprogress.unreadable").exists()


def test_recovery_records_before_the_part_becomes_visible(tmp_path: Path) -> None:
    temp = tmp_path / ".run-00000.jsonl.inprogress"
    temp.write_bytes(b"".join(lines(2)))

    def crash(final: Path, content: bytes) -> None:
        assert not final.exists(), "visible before its records were remembered"
        raise KeyboardInterrupt  # the process dies here

    with pytest.raises(KeyboardInterrupt):
        recover_parts(tmp_path, crash)
    assert temp.exists() and visible(tmp_path) == []  # the next start recovers it again
    seen: list[bytes] = []
    (part,) = recover_parts(tmp_path, lambda final, content: seen.append(content))
    assert seen == [part.read_bytes()]
