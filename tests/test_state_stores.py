"""The state store's semantics, the same for the SQLite file and a shared PostgreSQL database
(a real server, tests/pgserver.py), and what only the shared store has: locks held by a
worker's session, a database unreachable at start or lost during a run."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from crawler.state.access import PrefetchedStates, open_store
from crawler.state.postgres import SCHEMA_VERSION as PG_SCHEMA_VERSION
from crawler.state.sqlite import SqliteStateStore
from crawler.state.store import (
    ALL_EARLIER_RUNS,
    HEALTH_RUNS_KEPT,
    StateStore,
    StateUnavailableError,
    display_location,
    local_state_dir,
)
from tests import pgserver
from tests.crawling import REPO, crawl_env, scrapy_command

T0 = "2026-12-01T10:00:00Z"
T1 = "2026-12-01T11:00:00Z"
T2 = "2026-12-01T12:00:00Z"
T3 = "2026-12-01T13:00:00Z"


def record(n: int | str, **changes: Any) -> dict[str, Any]:
    """A record as the sink hands it to the store (only the fields the store keeps, and one more)."""
    fields = {
        "canonical_url": f"https://news.example/story-{n}",
        "url": f"https://news.example/story-{n}?utm_source=feed",
        "id": f"id-{n}",
        "content_hash": f"hash-{n}",
        "version": 1,
        "fetched_at": T1,
        "published_at": None,
        "published_date": "2026-12-01",
        "source": "example",
    }
    fields.update(changes)
    return fields


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """``NEWS_STATE`` of a new, empty state of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "state" / "news.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(location: str) -> Iterator[StateStore]:
    opened = open_store(location)
    yield opened
    opened.close()


@pytest.fixture
def second(location: str) -> Iterator[StateStore]:
    """Another store on the same state: another worker (PostgreSQL) or another run (SQLite)."""
    opened = open_store(location)
    yield opened
    opened.close()


def is_pg(location: str) -> bool:
    return location.startswith("postgresql://")


def raw(location: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """SQL on the state behind the store's back; tables named without the PostgreSQL prefix."""
    if is_pg(location):
        with psycopg.connect(location, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("{t}", "news_").replace("?", "%s"), params or None)
            return cursor.fetchall() if cursor.description else []
    with sqlite3.connect(location) as db:
        return db.execute(sql.replace("{t}", ""), params).fetchall()


# --- articles ----------------------------------------------------------------------------


def test_emitted_articles_are_found_by_canonical_url_by_fetched_url_and_in_batches(store: StateStore) -> None:
    store.record_emitted([record(1), record(2, url="https://news.example/story-2")])
    one = store.get("https://news.example/story-1")
    assert one is not None
    assert (one.article_id, one.content_hash, one.version) == ("id-1", "hash-1", 1)
    assert (one.first_seen, one.last_seen, one.last_fetched) == (T1, T1, T1)
    assert (one.published_at, one.published_date) == (None, "2026-12-01")
    assert store.get("https://news.example/story-3") is None
    # the fetched URL is remembered normalised (no tracking parameters)
    assert store.get_by_url("https://news.example/story-1") == one
    assert store.get_by_url("https://news.example/story-1?utm_source=feed") is None
    assert store.get("https://news.example/story-1?utm_source=feed") is None
    # a page fetched under another URL than its canonical one
    store.record_emitted([record(5, url="https://m.news.example/5")])
    five = store.get_by_url("https://m.news.example/5")
    assert five is not None and five.canonical_url == "https://news.example/story-5"

    found = store.get_many_by_url(
        [
            "https://news.example/story-1",
            "https://m.news.example/5",
            "https://news.example/nothing",
            "https://m.news.example/5",
        ]
    )
    assert set(found) == {"https://news.example/story-1", "https://m.news.example/5"}
    assert found["https://m.news.example/5"] == five and found["https://news.example/story-1"] == one
    assert store.get_many_by_url([]) == {}


def test_a_canonical_url_wins_over_the_same_url_fetched_for_another_article(store: StateStore) -> None:
    # story-7 was once fetched at story-8's canonical URL (a redirect, since moved)
    store.record_emitted([record(7, url="https://news.example/story-8")])
    assert store.get_by_url("https://news.example/story-8").canonical_url == "https://news.example/story-7"
    store.record_emitted([record(8)])
    assert store.get_by_url("https://news.example/story-8").canonical_url == "https://news.example/story-8"
    found = store.get_many_by_url(["https://news.example/story-8"])
    assert found["https://news.example/story-8"].canonical_url == "https://news.example/story-8"
    # the URL last fetched for an article is the one that counts
    store.record_emitted(
        [record(9, url="https://m.news.example/x"), record(10, url="https://m.news.example/x")]
    )
    assert store.get_by_url("https://m.news.example/x").canonical_url == "https://news.example/story-10"


def test_many_urls_at_once_more_than_one_query_holds(store: StateStore) -> None:
    store.record_emitted([record(n, url=f"https://m.news.example/{n}") for n in range(1234)])
    asked = [f"https://m.news.example/{n}" for n in range(0, 1234, 2)]
    asked += [f"https://news.example/story-{n}" for n in range(1, 1234, 2)]
    asked += [f"https://news.example/unknown-{n}" for n in range(600)]
    random.Random(7).shuffle(asked)
    found = store.get_many_by_url(asked)
    assert len(found) == 1234
    assert found["https://m.news.example/1232"].article_id == "id-1232"
    assert found["https://news.example/story-1233"].article_id == "id-1233"


def test_replaying_records_changes_nothing_and_versions_only_go_up(store: StateStore) -> None:
    store.record_emitted([record(1, fetched_at=T1)])
    store.record_emitted(
        [record(1, fetched_at=T2, version=2, content_hash="hash-1b", published_at="2026-12-01T09:00:00Z")]
    )
    after = store.get("https://news.example/story-1")
    assert (after.version, after.content_hash) == (2, "hash-1b")
    assert (after.first_seen, after.last_seen, after.last_fetched) == (T1, T2, T2)
    assert after.published_at == "2026-12-01T09:00:00Z"

    # a crashed run's parts replayed: both records again, in any order, any number of times
    for _ in range(2):
        store.record_emitted(
            [record(1, fetched_at=T2, version=2, content_hash="hash-1b"), record(1, fetched_at=T1)]
        )
        assert store.get("https://news.example/story-1") == after
    # an older version is never written over a newer one; the earliest sight stays first_seen
    store.record_emitted([record(1, fetched_at=T0, content_hash="hash-1-early")])
    older = store.get("https://news.example/story-1")
    assert (older.version, older.content_hash) == (2, "hash-1b")
    assert (older.first_seen, older.last_seen) == (T0, T2)
    # a date once known stays (COALESCE keeps the first one)
    store.record_emitted(
        [
            record(
                1,
                fetched_at=T3,
                version=3,
                content_hash="hash-1c",
                published_at="2026-12-01T10:30:00Z",
                published_date="2026-12-02",
            )
        ]
    )
    newest = store.get("https://news.example/story-1")
    assert (newest.version, newest.content_hash, newest.last_seen) == (3, "hash-1c", T3)
    assert (newest.published_at, newest.published_date) == ("2026-12-01T09:00:00Z", "2026-12-01")
    assert newest.article_id == "id-1"


def test_the_same_version_fetched_again_takes_the_later_body(store: StateStore) -> None:
    store.record_emitted([record(1, version=2, content_hash="a")])
    store.record_emitted([record(1, version=2, content_hash="b", fetched_at=T2)])
    assert store.get("https://news.example/story-1").content_hash == "b"


def test_find_by_hash_gives_the_first_article_seen_with_that_body(store: StateStore) -> None:
    store.record_emitted([record("late", content_hash="same", fetched_at=T2)])
    store.record_emitted([record("early", content_hash="same", fetched_at=T0)])
    store.record_emitted([record("middle", content_hash="same", fetched_at=T1)])
    assert store.find_by_hash("same").canonical_url == "https://news.example/story-early"
    assert store.find_by_hash("other") is None


def test_touch_moves_last_seen_forward_only(store: StateStore) -> None:
    store.record_emitted([record(1, fetched_at=T1)])
    store.touch("https://news.example/story-1", T3)
    store.touch("https://news.example/story-1", T2)  # an older fetch reported late
    touched = store.get("https://news.example/story-1")
    assert (touched.first_seen, touched.last_seen, touched.last_fetched, touched.version) == (T1, T3, T3, 1)
    store.touch("https://news.example/unknown", T3)
    assert store.get("https://news.example/unknown") is None


# --- runs ----------------------------------------------------------------------------------


def test_a_new_state_knows_no_run_and_adding_runs_drops_the_marker(store: StateStore, location: str) -> None:
    assert store.known_runs() == set()
    store.add_runs(["20261201T100000Z-aaaaaa", "20261201T110000Z-bbbbbb"])
    store.add_runs(["20261201T100000Z-aaaaaa"])
    assert store.known_runs() == {"20261201T100000Z-aaaaaa", "20261201T110000Z-bbbbbb"}
    # a state from before runs were tracked holds the marker: every run of its output is known
    raw(location, "INSERT INTO {t}runs VALUES (?)", (ALL_EARLIER_RUNS,))
    assert store.known_runs() == {ALL_EARLIER_RUNS, "20261201T100000Z-aaaaaa", "20261201T110000Z-bbbbbb"}
    store.add_runs(["20261202T000000Z-cccccc"])
    assert store.known_runs() == {
        "20261201T100000Z-aaaaaa",
        "20261201T110000Z-bbbbbb",
        "20261202T000000Z-cccccc",
    }
    store.add_runs([])
    assert len(store.known_runs()) == 3


# --- learned template lines -----------------------------------------------------------------


def changes(source: str, articles: int, **parts: Any) -> dict[str, Any]:
    return {
        "source": source,
        "articles": articles,
        "lines": parts.get("lines", {}),
        "deleted": parts.get("deleted", set()),
        "recent_added": parts.get("recent_added", {}),
        "recent_removed": parts.get("recent_removed", set()),
    }


def test_template_lines_round_trip_with_deletes_and_recent_articles(
    store: StateStore, second: StateStore
) -> None:
    assert store.load_template("a") == (0, {}, [])
    line1 = ("paragraph", 6, T0, T1, T1, "Subscribe to our newsletter")
    line2 = ("lead", 2, T0, T0, None, None)
    store.save_templates(
        [
            changes("a", 10, lines={"f1": line1, "f2": line2}, recent_added={"k1": T1, "k2": T0, "k3": T1}),
            changes("b", 1, lines={"g": ("paragraph", 1, T2, T2, None, "x")}, recent_added={"m": T2}),
        ]
    )
    # counted in time order, and in the order they were counted at the same time
    assert store.load_template("a") == (10, {"f1": line1, "f2": line2}, [("k2", T0), ("k1", T1), ("k3", T1)])
    line1b = ("paragraph", 7, T0, T3, T1, "Subscribe to our newsletter")
    store.save_templates(
        [
            changes(
                "a",
                12,
                lines={"f1": line1b},
                deleted={"f2"},
                recent_added={"k4": T3, "k1": T1},
                recent_removed={"k2"},
            )
        ]
    )
    # k1 counted again: it counts as the latest of its time, as a replaced row does
    assert second.load_template("a") == (12, {"f1": line1b}, [("k3", T1), ("k1", T1), ("k4", T3)])
    assert second.template_sources() == {"a": 12, "b": 1}
    store.forget_template("a")
    assert second.load_template("a") == (0, {}, [])
    assert second.template_sources() == {"b": 1}
    assert second.load_template("b") == (1, {"g": ("paragraph", 1, T2, T2, None, "x")}, [("m", T2)])


# --- source health --------------------------------------------------------------------------


def test_health_keeps_the_last_runs_of_each_source_newest_first(store: StateStore) -> None:
    assert store.health_sources() == []
    count = HEALTH_RUNS_KEPT + 5
    order = list(range(1, count))
    random.Random(3).shuffle(order)
    for n in order:
        store.add_source_health(
            "s", f"run-{n:02d}", f"2026-12-01T10:{n:02d}:00Z", {"pages": n, "share": n / 100}
        )
    store.add_source_health("t", "run-01", T0, {"pages": 1})
    # the oldest run, added last, is the 55th: dropped at once
    store.add_source_health("s", "run-00", "2026-12-01T10:00:00Z", {"pages": 0})
    store.add_source_health("s", "run-54", "2026-12-01T10:54:00Z", {"pages": 540})  # the same run again
    assert HEALTH_RUNS_KEPT == 50
    kept = store.source_health("s", 100)
    assert [entry["run_id"] for entry in kept] == [f"run-{n:02d}" for n in range(54, 4, -1)]
    assert kept[0] == {"run_id": "run-54", "finished_at": "2026-12-01T10:54:00Z", "pages": 540}
    assert kept[1] == {"run_id": "run-53", "finished_at": "2026-12-01T10:53:00Z", "pages": 53, "share": 0.53}
    assert [entry["run_id"] for entry in store.source_health("s", 3)] == ["run-54", "run-53", "run-52"]
    assert store.source_health("t", 10) == [{"run_id": "run-01", "finished_at": T0, "pages": 1}]
    assert store.health_sources() == ["s", "t"]


# --- distributed runs -------------------------------------------------------------------------


def test_claims_of_a_body_across_workers(store: StateStore, second: StateStore) -> None:
    assert store.claim_content("body-1", "https://a.example/1") is None
    assert store.claim_content("body-1", "https://a.example/1") is None  # its own claim
    assert second.claim_content("body-1", "https://b.example/copy") == "https://a.example/1"
    assert second.claim_content("body-2", "https://b.example/copy") is None
    assert store.claim_content("body-2", "https://a.example/1") == "https://b.example/copy"
    assert second.claim_content("body-1", "https://a.example/1") is None


def test_pending_parts_are_recorded_once_committed(store: StateStore, second: StateStore) -> None:
    key1 = "prefix/source=example/date=2026-12-01/run-a-00001.jsonl"
    key2 = "prefix/source=example/date=2026-12-01/run-b-00001.jsonl.gz"
    assert store.pending_parts() == []
    store.register_pending_part(key2, "run-b", [record(3)])
    store.register_pending_part(key1, "run-a", [record(9)])
    store.register_pending_part(
        key1, "run-a", [record(1), record(2, version=2, url="https://m.news.example/2")]
    )
    assert second.pending_parts() == [(key1, "run-a"), (key2, "run-b")]
    assert store.get("https://news.example/story-1") is None  # not before the part is in the bucket

    second.commit_part(key1)
    assert store.pending_parts() == [(key2, "run-b")]
    one, two = store.get("https://news.example/story-1"), store.get_by_url("https://m.news.example/2")
    assert one is not None and (one.version, one.first_seen) == (1, T1)
    assert two is not None and (two.canonical_url, two.version) == ("https://news.example/story-2", 2)
    assert store.get("https://news.example/story-9") is None  # replaced by the second register

    store.touch("https://news.example/story-1", T3)
    store.commit_part(key1)  # committed already: nothing happens
    store.commit_part("prefix/never-registered.jsonl")
    assert store.get("https://news.example/story-1").last_seen == T3
    assert store.pending_parts() == [(key2, "run-b")]

    store.forget_part(key2)
    assert second.pending_parts() == []
    store.commit_part(key2)
    assert store.get("https://news.example/story-3") is None


def test_a_forgotten_part_gives_up_the_claims_of_its_texts(store: StateStore, second: StateStore) -> None:
    # story-3's text was claimed and its part never reached the bucket: when the part is
    # forgotten, a copy of the text on another site must not be dropped as its duplicate
    story = record(3)
    assert store.claim_content(story["content_hash"], story["canonical_url"]) is None
    store.register_pending_part("prefix/lost.jsonl", "run-dead", [story])
    assert second.claim_content(story["content_hash"], "https://copy.example/3") == story["canonical_url"]
    store.forget_part("prefix/lost.jsonl")
    assert second.claim_content(story["content_hash"], "https://copy.example/3") is None


def test_a_sqlite_group_lock_is_held_by_one_store_at_a_time(tmp_path: Path) -> None:
    # workers on one machine sharing the file (tests/test_hostile_state.py: across processes)
    store, other = SqliteStateStore(tmp_path / "s.sqlite"), SqliteStateStore(tmp_path / "s.sqlite")
    assert store.try_lock_group("bbc.co.uk") and store.try_lock_group("bbc.co.uk")
    assert other.try_lock_group("bbc.co.uk") is False
    store.unlock_groups()
    assert other.try_lock_group("bbc.co.uk") is True
    other.close()  # releases it
    assert store.try_lock_group("bbc.co.uk") is True
    store.close()
    assert list((tmp_path / "s.sqlite.groups").iterdir()) == []  # released locks leave no file


def advisory_keys(pg_url: str) -> set[int]:
    """The 64-bit advisory lock keys held on the server, as pg_locks shows them (high and low half)."""
    rows = raw(
        pg_url,
        "SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1",
    )
    return {int.from_bytes(((high << 32) | low).to_bytes(8, "big"), "big", signed=True) for high, low in rows}


def test_a_site_group_lock_is_held_by_one_worker_at_a_time(pg_url: str) -> None:
    first, second = open_store(pg_url), open_store(pg_url)
    try:
        assert first.try_lock_group("bbc.co.uk") is True
        assert first.try_lock_group("bbc.co.uk") is True  # held already
        assert second.try_lock_group("bbc.co.uk") is False
        assert second.try_lock_group("lemonde.fr") is True
        assert first.try_lock_group("lemonde.fr") is False
        # the key every worker computes from the group's name
        key = int.from_bytes(
            hashlib.blake2b(b"news-ingest:group:bbc.co.uk", digest_size=8).digest(), "big", signed=True
        )
        assert key in advisory_keys(pg_url)
        first.unlock_groups()
        assert key not in advisory_keys(pg_url)
        assert second.try_lock_group("bbc.co.uk") is True
        assert first.try_lock_group("bbc.co.uk") is False
        second.close()  # its session ends: its locks go with it
        assert first.try_lock_group("bbc.co.uk") is True
        assert first.try_lock_group("lemonde.fr") is True
    finally:
        first.close()
        second.close()


def test_a_dead_workers_locks_go_with_its_connection(pg_url: str) -> None:
    script = (
        "import sys, time\n"
        "from crawler.state.access import open_store\n"
        "store = open_store(sys.argv[1])\n"
        "assert store.try_lock_group('elpais.com')\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script, pg_url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = open_store(pg_url)
    try:
        assert worker.stdout.readline().strip() == "locked", worker.stderr.read()
        assert store.try_lock_group("elpais.com") is False
        worker.send_signal(signal.SIGKILL)  # no close, no unlock
        worker.wait(timeout=30)
        deadline = time.monotonic() + 20
        while not store.try_lock_group("elpais.com"):
            assert time.monotonic() < deadline, "the dead worker's lock was never released"
            time.sleep(0.1)
    finally:
        worker.kill()
        worker.wait()
        store.close()


def open_at_once(url: str, workers: int) -> tuple[list[StateStore], list[BaseException]]:
    """``workers`` threads opening a store on ``url`` at the same moment."""
    barrier = threading.Barrier(workers)
    stores: list[StateStore] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            stores.append(open_store(url))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return stores, failures


def test_workers_creating_the_schema_at_once_all_start(pg_server: pgserver.PgServer) -> None:
    for _ in range(3):
        url = pg_server.new_database()
        stores, failures = open_at_once(url, 4)
        try:
            assert failures == [] and len(stores) == 4
            assert raw(url, "SELECT version FROM news_schema_version") == [(PG_SCHEMA_VERSION,)]
            tables = raw(url, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'news\\_%' ORDER BY 1")
            assert [t for (t,) in tables] == sorted(
                ["news_schema_version", "news_articles", "news_urls", "news_runs", "news_template_sources",
                 "news_template_lines", "news_template_articles", "news_source_health", "news_content_claims",
                 "news_pending_parts", "news_archives"]
            )  # fmt: skip
            stores[0].record_emitted([record(1)])
            assert stores[3].get("https://news.example/story-1") is not None
        finally:
            for opened in stores:
                opened.close()


def test_a_database_of_a_newer_schema_is_not_opened(pg_url: str) -> None:
    open_store(pg_url).close()
    raw(pg_url, "UPDATE news_schema_version SET version = 99")
    with pytest.raises(StateUnavailableError, match="schema version 99"):
        open_store(pg_url)


def test_postgres_scheme_and_a_bare_url_with_the_pg_environment(
    pg_server: pgserver.PgServer, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(pg_url)
    store.record_emitted([record(1)])
    store.close()
    other = open_store(pg_url.replace("postgresql://", "postgres://", 1))
    assert other.get("https://news.example/story-1") is not None
    other.close()
    database = pg_url.rsplit("/", 1)[1]
    for name, value in {
        "PGHOST": "127.0.0.1", "PGPORT": str(pg_server.port), "PGUSER": pgserver.USER,
        "PGPASSWORD": pgserver.PASSWORD, "PGDATABASE": database,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    bare = open_store("postgresql://")
    assert bare.get("https://news.example/story-1") is not None
    bare.close()


def kill_lock_holders(pg_server: pgserver.PgServer, pg_url: str) -> int:
    """Cut the connections that hold advisory locks in the test's database (a network failure)."""
    holders = "FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = %s)"
    database = (pg_url.rsplit("/", 1)[1],)
    with pg_server.admin() as admin:
        killed = admin.execute(f"SELECT pg_terminate_backend(pid) {holders}", database).fetchall()
        deadline = time.monotonic() + 20
        while admin.execute(f"SELECT count(*) {holders}", database).fetchone()[0]:  # the backends end
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return len(killed)


def test_a_lost_connection_is_made_again_with_the_locks(pg_server: pgserver.PgServer, pg_url: str) -> None:
    store, rival = open_store(pg_url), open_store(pg_url)
    try:
        store.record_emitted([record(1)])
        assert store.try_lock_group("bbc.co.uk") and store.try_lock_group("lemonde.fr")
        assert kill_lock_holders(pg_server, pg_url) >= 1
        store.record_emitted([record(2)])  # a transaction on the lost connection: connected again
        assert rival.get("https://news.example/story-2") is not None
        assert rival.try_lock_group("bbc.co.uk") is False  # taken again with the new connection
        assert rival.try_lock_group("lemonde.fr") is False
        assert store.check() is None
        assert kill_lock_holders(pg_server, pg_url) >= 1
        assert store.get("https://news.example/story-1") is not None
        assert store.try_lock_group("bbc.co.uk") is True
        # lost once more, and meanwhile another worker takes one of its groups
        assert kill_lock_holders(pg_server, pg_url) >= 1
        assert rival.try_lock_group("lemonde.fr") is True
        problem = store.check()
        assert problem is not None and "'lemonde.fr'" in problem and "'bbc.co.uk'" not in problem
        assert rival.try_lock_group("bbc.co.uk") is False
        assert store.try_lock_group("lemonde.fr") is False
    finally:
        store.close()
        rival.close()


def test_a_database_lost_for_good_is_a_problem_of_the_run(pg_server: pgserver.PgServer, pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    with pg_server.admin() as admin:
        admin.execute("CREATE ROLE worker LOGIN PASSWORD 'hunter22'")
        admin.execute(f"GRANT ALL ON DATABASE {database} TO worker")
        admin.execute("GRANT pg_write_all_data, pg_read_all_data TO worker")
    try:
        open_store(pg_url).close()  # the schema, made by its owner
        url = pg_url.replace(f"{pgserver.USER}:{pgserver.PASSWORD}", "worker:hunter22")
        store = open_store(url, retry_seconds=2)  # waited for (NEWS_STATE_RETRY_SECONDS), then given up
        assert store.check() is None
        with pg_server.admin() as admin:
            admin.execute("ALTER ROLE worker NOLOGIN")
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'worker'")
        problem = store.check()
        assert problem is not None
        assert (
            f"the connection to the state database postgresql://worker@127.0.0.1:{pg_server.port}/{database}"
            in problem
        )
        assert "not permitted to log in" in problem and "hunter22" not in problem
        with pytest.raises(psycopg.OperationalError):
            store.get("https://news.example/story-1")
        store.close()
    finally:
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'worker'")
            admin.execute(f"REVOKE ALL ON DATABASE {database} FROM worker")
            admin.execute("REVOKE pg_write_all_data, pg_read_all_data FROM worker")
            admin.execute("DROP ROLE worker")


# --- a database that is not there ------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (the OS just gave it out and it was closed again)."""
    return pgserver.free_port()


def test_an_unreachable_database_names_where_without_the_password() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(StateUnavailableError) as caught:
        open_store(f"postgresql://news:secret@127.0.0.1:{port}/news")
    message = str(caught.value)
    assert message.startswith(f"NEWS_STATE postgresql://news@127.0.0.1:{port}/news: cannot connect: "), (
        message
    )
    assert f'"127.0.0.1", port {port}' in message and "refused" in message
    assert "secret" not in message and "\n" not in message
    assert time.monotonic() - started < 10
    assert local_state_dir(f"postgresql://news:secret@127.0.0.1:{port}/news") is None


@pytest.fixture(scope="module")
def unreachable_crawl(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[int, Path, subprocess.CompletedProcess[str]]:
    """One real `crawlall` whose NEWS_STATE is a PostgreSQL URL where no server listens."""
    port, work = closed_port(), tmp_path_factory.mktemp("unreachable")
    (work / "output").mkdir()  # an output of earlier runs: the start failure's summary goes there
    sources = work / "sources.toml"
    sources.write_text('[sources.local]\nstart_urls = ["http://127.0.0.1:9/news/"]\n', encoding="utf-8")
    env = crawl_env(
        NEWS_STATE=f"postgresql://news:secret@127.0.0.1:{port}/news",
        NEWS_SOURCES=str(sources),
        NEWS_OUTPUT=str(work / "output"),
    )
    process = subprocess.run(
        scrapy_command("crawlall"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return port, work, process


def test_crawlall_with_an_unreachable_database_cannot_start(unreachable_crawl: Any) -> None:
    port, work, process = unreachable_crawl
    assert process.returncode == 2, process.stderr[-3000:]
    assert "Traceback" not in process.stderr, process.stderr[-3000:]
    lines = [line for line in process.stderr.splitlines() if "crawlall: cannot start" in line]
    assert len(lines) == 1, process.stderr[-3000:]
    assert (
        f"crawlall: cannot start: NEWS_STATE postgresql://news@127.0.0.1:{port}/news: cannot connect: "
        in lines[0]
    )
    assert "secret" not in lines[0]
    summary = json.loads(next((work / "output" / "_runs").glob("*.json")).read_text(encoding="utf-8"))
    assert summary["exit_code"] == 2 and "secret" not in json.dumps(summary)
    assert sorted(os.listdir(work)) == ["output", "sources.toml"]
    assert not list(REPO.glob("postgresql:*")), "the URL was taken for a folder"


def test_the_database_password_is_never_logged(unreachable_crawl: Any) -> None:
    _, _, process = unreachable_crawl
    leaks = [line for line in process.stderr.splitlines() if "secret" in line]
    assert leaks == [], leaks


def test_a_url_is_shown_without_its_password() -> None:
    assert (
        display_location("postgresql://news:s3cr%40t@db.internal:5432/news?sslmode=require&password=other")
        == "postgresql://news@db.internal:5432/news?sslmode=require&password=***"
    )
    assert display_location("postgres://db.internal/news") == "postgres://db.internal/news"
    assert display_location("/var/lib/news/news.sqlite") == "/var/lib/news/news.sqlite"
    with pytest.raises(StateUnavailableError) as caught:  # libpq quotes the whole URL in this error
        open_store("postgresql://news:s3cr3t@[::1/news")
    assert "s3cr3t" not in str(caught.value) and "postgresql://news@[::1/news" in str(caught.value)
    with pytest.raises(StateUnavailableError, match="not a state store this version knows"):
        open_store("mysql://news:s3cr3t@db/news")


def test_a_user_that_may_only_read_cannot_start(pg_server: pgserver.PgServer, pg_url: str) -> None:
    open_store(pg_url).close()
    with pg_server.admin() as admin:
        admin.execute("CREATE ROLE reader LOGIN PASSWORD 'readonly1'")
        admin.execute("GRANT pg_read_all_data TO reader")
    try:
        url = pg_url.replace(f"{pgserver.USER}:{pgserver.PASSWORD}", "reader:readonly1")
        with pytest.raises(StateUnavailableError, match="user 'reader' cannot write the state tables"):
            open_store(url)
    finally:
        with pg_server.admin() as admin:
            admin.execute("REVOKE pg_read_all_data FROM reader")
            admin.execute("DROP ROLE reader")


def test_prefetched_states_answer_a_feed_in_one_query_and_each_once(store: StateStore) -> None:
    store.record_emitted([record(1), record(2, url="https://m.news.example/2")])
    prefetched = PrefetchedStates(store)
    # normalised URLs, as the spider hands them over
    urls = ["https://news.example/story-1", "https://m.news.example/2", "https://news.example/new"]
    prefetched.prefetch(urls)
    assert prefetched.get_by_url(urls[0]).article_id == "id-1"
    assert prefetched.get_by_url(urls[1]).article_id == "id-2"  # a fetched URL of story 2
    assert prefetched.get_by_url(urls[2]) is None
    # used once: a later check asks the store, which has learned of a new article meanwhile
    store.record_emitted(
        [record("new", canonical_url="https://news.example/new", url="https://news.example/new")]
    )
    assert prefetched.get_by_url(urls[2]).article_id == "id-new"


def test_the_update_time_of_the_last_emitted_version_is_kept(store: StateStore) -> None:
    store.record_emitted([record(1, modified_at="2026-12-01T12:00:00Z")])
    assert store.get("https://news.example/story-1").modified_at == "2026-12-01T12:00:00Z"
    store.record_emitted([record(1, version=2, content_hash="hash-1b", modified_at="2026-12-02T08:00:00Z")])
    # a replay of version 1 (a recovered part) does not take it back
    store.record_emitted([record(1, modified_at="2026-12-01T12:00:00Z")])
    state = store.get("https://news.example/story-1")
    assert (state.version, state.modified_at) == (2, "2026-12-02T08:00:00Z")
