"""The SQLite state store on real files: runs it knows, and a state from the previous schema."""

from __future__ import annotations

import gzip
import sqlite3
from pathlib import Path

from crawler.state.sqlite import _MIGRATIONS, SCHEMA_VERSION, SqliteStateStore
from crawler.state.store import ALL_EARLIER_RUNS
from pipelines.sink import encode_record, rebuild_state

RECORD = {
    "canonical_url": "http://127.0.0.1/news/a.html",
    "url": "http://127.0.0.1/news/a.html",
    "id": "a1",
    "content_hash": "h1",
    "version": 1,
    "fetched_at": "2026-12-01T10:00:00Z",
    "published_at": None,
    "published_date": "2026-12-01",
    "source": "local",
}


def write_part(root: Path, run_id: str, records: list[dict], compress: bool = False) -> None:
    folder = root / "source=local" / "date=2026-12-01"
    folder.mkdir(parents=True, exist_ok=True)
    data = b"".join(encode_record(r) for r in records)
    if compress:
        (folder / f"{run_id}-00001.jsonl.gz").write_bytes(gzip.compress(data))
    else:
        (folder / f"{run_id}-00001.jsonl").write_bytes(data)


def test_a_new_state_reads_back_the_runs_it_does_not_know(tmp_path: Path) -> None:
    output = tmp_path / "out"
    write_part(output, "20261201T100000Z-aaaaaa", [RECORD])
    store = SqliteStateStore(tmp_path / "state.sqlite")
    assert store.known_runs() == set()
    assert rebuild_state(output, store, "20261203T000000Z-bbbbbb") == 1
    assert store.get(RECORD["canonical_url"]).content_hash == "h1"
    assert store.known_runs() == {"20261201T100000Z-aaaaaa", "20261203T000000Z-bbbbbb"}
    # a second start reads nothing again
    assert rebuild_state(output, store, "20261203T010000Z-cccccc") == 0


def test_a_state_of_the_previous_schema_knew_every_run_of_its_output(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    SqliteStateStore(path).close()
    with sqlite3.connect(path) as db:  # back to schema 1, as the previous version left it
        for table in (
            "runs", "template_sources", "template_lines", "template_articles", "source_health",
            "content_claims", "pending_parts", "archives",
        ):  # fmt: skip
            db.execute(f"DROP TABLE {table}")
        db.execute("DROP INDEX articles_cleaned_hash")
        db.execute("ALTER TABLE articles DROP COLUMN cleaned_hash")
        db.execute("ALTER TABLE articles DROP COLUMN modified_at")
        db.execute("UPDATE schema_version SET version = 1")
    output = tmp_path / "out"
    write_part(output, "20261201T100000Z-aaaaaa", [RECORD])
    store = SqliteStateStore(path)
    assert SCHEMA_VERSION == 7 and store.known_runs() == {ALL_EARLIER_RUNS}
    assert rebuild_state(output, store, "20261203T000000Z-bbbbbb") == 0  # nothing read back
    assert store.get(RECORD["canonical_url"]) is None
    assert store.known_runs() == {"20261201T100000Z-aaaaaa", "20261203T000000Z-bbbbbb"}


def test_run_ids_with_dots_and_dashes_and_gzip_parts(tmp_path: Path) -> None:
    output = tmp_path / "out"
    write_part(output, "release.v2-nightly", [RECORD], compress=True)
    store = SqliteStateStore(tmp_path / "state.sqlite")
    assert rebuild_state(output, store, "next.run") == 1
    assert store.known_runs() == {"release.v2-nightly", "next.run"}


def test_an_empty_state_file_is_a_new_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"")  # created by hand, or left by a crash before the first write
    output = tmp_path / "out"
    write_part(output, "20261201T100000Z-aaaaaa", [RECORD])
    store = SqliteStateStore(path)
    assert store.known_runs() == set()
    assert rebuild_state(output, store, "20261203T000000Z-bbbbbb") == 1


def test_a_state_of_schema_3_gains_the_tables_of_distributed_runs(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStateStore(path)
    store.record_emitted([RECORD])
    store.add_runs(["20261201T100000Z-aaaaaa"])
    store.close()
    with sqlite3.connect(path) as db:  # back to schema 3, as the previous version left it
        db.execute("DROP TABLE content_claims")
        db.execute("DROP TABLE pending_parts")
        db.execute("DROP TABLE archives")
        db.execute("DROP INDEX articles_cleaned_hash")
        db.execute("ALTER TABLE articles DROP COLUMN cleaned_hash")
        db.execute("ALTER TABLE articles DROP COLUMN modified_at")
        db.execute("UPDATE schema_version SET version = 3")
    store = SqliteStateStore(path)
    assert store.get(RECORD["canonical_url"]).content_hash == "h1"
    assert store.known_runs() == {"20261201T100000Z-aaaaaa"}  # no marker: it knew its runs already
    assert store.pending_parts() == []
    assert store.claim_content("h1", RECORD["canonical_url"]) is None
    assert store.archives_done() == set()
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(7,)]


def test_a_state_of_schema_5_keeps_its_articles_and_gains_the_hash_of_the_written_text(
    tmp_path: Path,
) -> None:
    """Schema 6 keeps, beside an article's body as extracted (``content_hash``), the hash of its
    text as written when learned template lines came out of it; the articles of a schema 5 state
    are kept and found by their one hash."""
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as db:  # the schema the previous version left
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for script in _MIGRATIONS[:5]:
            db.executescript(script)
        db.execute("INSERT INTO schema_version VALUES (5)")
        db.execute(
            "INSERT INTO articles VALUES (?, 'a1', 'h1', 1, ?, ?, ?, NULL, '2026-12-01', NULL)",
            (RECORD["canonical_url"], *[RECORD["fetched_at"]] * 3),
        )
    store = SqliteStateStore(path)
    old = store.get(RECORD["canonical_url"])
    assert (old.content_hash, old.cleaned_hash) == ("h1", None)
    assert store.find_by_hash("h1") == old
    other = {**RECORD, "canonical_url": "http://127.0.0.1/news/b.html", "url": "http://127.0.0.1/news/b.html"}
    store.record_emitted([{**other, "id": "b1", "content_hash": "body-b", "cleaned_hash": "text-b"}])
    assert store.find_by_hash("body-b") == store.find_by_hash("text-b") == store.get(other["canonical_url"])
    assert store.get(other["canonical_url"]).cleaned_hash == "text-b"
    store.close()
