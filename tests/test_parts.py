"""Part files: rotation, compression, and recovery of parts left by a dead process."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.parts import PartWriter, recover_parts


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
        from pipelines.parts import PartWriter
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
