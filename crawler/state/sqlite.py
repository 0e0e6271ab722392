"""The embedded state store: one SQLite file in WAL mode, its schema migrated forward on open."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from crawler.state.store import (
    _COLUMNS,
    ALL_EARLIER_RUNS,
    HEALTH_RUNS_KEPT,
    ArticleState,
    StateSchemaError,
    StateUnavailableError,
    encode_notes,
    group_lock_key,
    note_claims,
    note_rows,
    now_utc,
)

logger = logging.getLogger(__name__)


# Each entry migrates the schema from its index to the next version.
_MIGRATIONS = [
    """
    CREATE TABLE articles (
        canonical_url TEXT PRIMARY KEY,
        article_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        version INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_fetched TEXT NOT NULL,
        published_at TEXT,
        published_date TEXT
    );
    CREATE INDEX articles_content_hash ON articles (content_hash);
    CREATE TABLE urls (
        url TEXT PRIMARY KEY,
        canonical_url TEXT NOT NULL REFERENCES articles (canonical_url)
    );
    """,
    # The runs whose records this state holds: parts of a run it does not know (the state was
    # deleted or replaced) are read back at start. A state from before this version knew every
    # run in its output: the marker row says so, once, to the first run that sees it.
    """
    CREATE TABLE runs (run_id TEXT PRIMARY KEY);
    INSERT INTO runs VALUES ('*every run in the output*');
    """,
    # What each source's template repeats in its bodies (crawler/state/template_lines.py), and each
    # source's figures per run (crawler/extensions/health.py).
    """
    CREATE TABLE template_sources (source TEXT PRIMARY KEY, articles INTEGER NOT NULL);
    CREATE TABLE template_lines (
        source TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        learned_at TEXT,
        sample TEXT,
        PRIMARY KEY (source, fingerprint)
    );
    CREATE TABLE template_articles (
        source TEXT NOT NULL,
        article_key TEXT NOT NULL,
        counted_at TEXT NOT NULL,
        PRIMARY KEY (source, article_key)
    );
    CREATE TABLE source_health (
        source TEXT NOT NULL,
        run_id TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        figures TEXT NOT NULL,
        PRIMARY KEY (source, run_id)
    );
    """,
    # Distributed runs: which article holds a body (claim_content), and parts registered before
    # their upload whose articles are recorded only once the part is in the bucket (commit_part).
    """
    CREATE TABLE content_claims (
        content_hash TEXT PRIMARY KEY,
        canonical_url TEXT NOT NULL,
        claimed_at TEXT NOT NULL
    );
    CREATE TABLE pending_parts (
        part_key TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        notes TEXT NOT NULL,
        registered_at TEXT NOT NULL
    );
    """,
    # The update time of the version last emitted: a changed text whose page still states it
    # gets the time the change was fetched as its modified_at.
    """
    ALTER TABLE articles ADD COLUMN modified_at TEXT;
    """,
    # Learning of template lines under stricter rules (exact text, written articles only): what
    # the earlier rules counted is forgotten. A source's generation counts its resets, so that a
    # crawl that loaded it before a reset does not write its counts back. The lines table is one
    # b-tree (its key is its primary key): a third smaller on disk.
    """
    DROP TABLE template_sources;
    CREATE TABLE template_sources (
        source TEXT PRIMARY KEY,
        articles INTEGER NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0
    );
    DELETE FROM template_articles;
    DROP TABLE template_lines;
    CREATE TABLE template_lines (
        source TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        learned_at TEXT,
        sample TEXT,
        PRIMARY KEY (source, fingerprint)
    ) WITHOUT ROWID;
    -- content_hash is now the body as extracted (what tells a changed article); the text as written,
    -- when learned lines came out of it, is kept too: a copy of the article equal to that text
    -- (a print page without the template line) is the same article
    ALTER TABLE articles ADD COLUMN cleaned_hash TEXT;
    CREATE INDEX articles_cleaned_hash ON articles (cleaned_hash) WHERE cleaned_hash IS NOT NULL;
    """,
    # Web archives read to their end (`news-ingest archive`): a rerun passes them over
    """
    CREATE TABLE archives (location TEXT PRIMARY KEY, responses INTEGER NOT NULL, done_at TEXT NOT NULL);
    """,
]


SCHEMA_VERSION = len(_MIGRATIONS)


# URLs per query of get_many_by_url (SQLite allows 999 parameters in older builds)
_CHUNK = 500


def _prefixed(prefix: str) -> str:
    return ", ".join(prefix + column for column in _COLUMNS.split(", "))


class SqliteStateStore:
    """The embedded store: one SQLite file, safe for one writer process at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._group_locks = GroupLocks(self.path.with_name(self.path.name + ".groups") / "locks")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The Twisted reactor and the sink's callbacks share this connection, one thread at a time.
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if self._migrate() == 0:  # a new state knows no run; the marker is for older states
                self._db.execute("DELETE FROM runs")
            # a write now, not at the first emitted article: a read-only file or folder shows here
            self._db.execute("CREATE TABLE IF NOT EXISTS opened (at TEXT)")
            self._db.execute("DELETE FROM opened")
            self._identity = _identity(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StateUnavailableError(f"NEWS_STATE {self.path}: {_cause(exc)}") from exc
        except StateSchemaError as exc:
            raise StateUnavailableError(f"NEWS_STATE {exc}") from exc

    def known_runs(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT run_id FROM runs")}

    def archives_done(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT location FROM archives")}

    def archive_done(self, location: str, responses: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO archives VALUES (?, ?, ?)", (location, responses, now_utc())
            )

    def add_runs(self, run_ids: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO runs VALUES (?)", [(run_id,) for run_id in run_ids])
            self._db.execute("DELETE FROM runs WHERE run_id = ?", (ALL_EARLIER_RUNS,))

    def check(self) -> str | None:
        """What happened to the state file since it was opened, if anything: the run's records
        went to a file that is gone, and the next run would fetch and emit them all again."""
        identity = _identity(self.path)
        if identity is None:
            return f"the state file {self.path} was deleted during the run"
        if identity != self._identity:
            return f"the state file {self.path} was replaced during the run"
        return None

    def _migrate(self) -> int:
        """Bring the schema up to date; returns the version the file had (0: a new state)."""
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            current = row[0] if row else 0
            if current > SCHEMA_VERSION:
                raise StateSchemaError(
                    f"{self.path} has schema version {current}; this version of the product knows {SCHEMA_VERSION}"
                )
            for version in range(current, SCHEMA_VERSION):
                # one transaction per step: the schema and its version number change together
                script = (
                    "BEGIN IMMEDIATE;" + _MIGRATIONS[version] + "DELETE FROM schema_version;"
                    f"INSERT INTO schema_version VALUES ({version + 1}); COMMIT;"
                )
                try:
                    self._db.executescript(script)
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            if current == 0:
                logger.info(
                    "State %(path)s created (schema version %(v)d)", {"path": self.path, "v": SCHEMA_VERSION}
                )
            elif current < SCHEMA_VERSION:
                logger.info(
                    "State %(path)s migrated from schema version %(old)d to %(v)d",
                    {"path": self.path, "old": current, "v": SCHEMA_VERSION},
                )
        return current

    def _one(self, sql: str, args: tuple[Any, ...]) -> ArticleState | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return ArticleState(*row) if row else None

    def get(self, canonical_url: str) -> ArticleState | None:
        return self._one(f"SELECT {_COLUMNS} FROM articles WHERE canonical_url = ?", (canonical_url,))

    def get_by_url(self, url: str) -> ArticleState | None:
        found = self.get(url)
        if found is not None:
            return found
        return self._one(
            f"SELECT {_COLUMNS} FROM articles WHERE canonical_url = (SELECT canonical_url FROM urls WHERE url = ?)",
            (url,),
        )

    def find_by_hash(self, content_hash: str) -> ArticleState | None:
        return self._one(
            f"SELECT {_COLUMNS} FROM articles WHERE content_hash = ? OR cleaned_hash = ? "
            "ORDER BY first_seen LIMIT 1",
            (content_hash, content_hash),
        )

    def get_many_by_url(self, urls: list[str]) -> dict[str, ArticleState]:
        wanted = list(dict.fromkeys(urls))
        found: dict[str, ArticleState] = {}
        with self._lock:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                by_url = self._db.execute(
                    f"SELECT u.url, {_prefixed('a.')} FROM urls u JOIN articles a "
                    f"ON a.canonical_url = u.canonical_url WHERE u.url IN ({marks})",
                    chunk,
                ).fetchall()
                found.update((url, ArticleState(*row)) for url, *row in by_url)
                # a canonical URL is itself first, as in get_by_url
                direct = self._db.execute(
                    f"SELECT {_COLUMNS} FROM articles WHERE canonical_url IN ({marks})", chunk
                )
                found.update((row[0], ArticleState(*row)) for row in direct)
        return found

    def record_emitted(self, records: Iterable[dict[str, Any]]) -> None:
        rows = note_rows(records)
        if not rows:
            return
        with self._lock, self._transaction():
            self._upsert(rows)

    def _transaction(self) -> _SqliteTransaction:
        return _SqliteTransaction(self._db)

    def _upsert(self, rows: list[tuple[Any, ...]]) -> None:
        """``record_emitted`` inside the caller's transaction."""
        self._db.executemany(
            """
            INSERT INTO articles (canonical_url, article_id, content_hash, version, first_seen, last_seen,
                                  last_fetched, published_at, published_date, modified_at, cleaned_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (canonical_url) DO UPDATE SET
                content_hash = CASE WHEN excluded.version >= articles.version
                                    THEN excluded.content_hash ELSE articles.content_hash END,
                cleaned_hash = CASE WHEN excluded.version >= articles.version
                                    THEN excluded.cleaned_hash ELSE articles.cleaned_hash END,
                version = MAX(articles.version, excluded.version),
                first_seen = MIN(articles.first_seen, excluded.first_seen),
                last_seen = MAX(articles.last_seen, excluded.last_seen),
                last_fetched = MAX(articles.last_fetched, excluded.last_fetched),
                published_at = COALESCE(articles.published_at, excluded.published_at),
                published_date = COALESCE(articles.published_date, excluded.published_date),
                modified_at = CASE WHEN excluded.version >= articles.version
                                   THEN COALESCE(excluded.modified_at, articles.modified_at)
                                   ELSE articles.modified_at END
            """,
            [row[:11] for row in rows],
        )
        self._db.executemany(
            "INSERT OR REPLACE INTO urls (url, canonical_url) VALUES (?, ?)",
            [(row[11], row[0]) for row in rows if row[11] != row[0]],
        )

    def touch(self, canonical_url: str, fetched_at: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE articles SET last_seen = MAX(last_seen, ?), last_fetched = MAX(last_fetched, ?) "
                "WHERE canonical_url = ?",
                (fetched_at, fetched_at, canonical_url),
            )

    def load_template(self, source: str) -> tuple[int, dict[str, tuple[Any, ...]], list[tuple[str, str]]]:
        articles, _, lines, recent = self.load_template_state(source)
        return articles, lines, recent

    def load_template_state(
        self, source: str
    ) -> tuple[int, int, dict[str, tuple[Any, ...]], list[tuple[str, str]]]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                row = self._db.execute(
                    "SELECT articles, generation FROM template_sources WHERE source = ?", (source,)
                ).fetchone()
                lines = {
                    fingerprint: tuple(rest)
                    for fingerprint, *rest in self._db.execute(
                        "SELECT fingerprint, kind, count, first_seen, last_seen, learned_at, sample "
                        "FROM template_lines WHERE source = ?",
                        (source,),
                    )
                }
                recent = self._db.execute(
                    "SELECT article_key, counted_at FROM template_articles WHERE source = ? "
                    "ORDER BY counted_at, rowid",
                    (source,),
                ).fetchall()
            finally:
                self._db.execute("COMMIT")
        articles, generation = row if row else (0, 0)
        return articles, generation, lines, [(key, at) for key, at in recent]

    def save_templates(self, batch: list[dict[str, Any]]) -> set[str]:
        discarded: set[str] = set()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for changes in batch:
                    source = changes["source"]
                    row = self._db.execute(
                        "SELECT generation FROM template_sources WHERE source = ?", (source,)
                    ).fetchone()
                    if changes.get("generation") not in (None, row[0] if row else 0):
                        discarded.add(source)  # reset since it was loaded: not written back
                        continue
                    self._db.execute(
                        "INSERT INTO template_sources (source, articles) VALUES (?, ?) "
                        "ON CONFLICT (source) DO UPDATE SET articles = excluded.articles",
                        (source, changes["articles"]),
                    )
                    self._db.executemany(
                        "INSERT OR REPLACE INTO template_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(source, fingerprint, *row) for fingerprint, row in changes["lines"].items()],
                    )
                    self._db.executemany(
                        "DELETE FROM template_lines WHERE source = ? AND fingerprint = ?",
                        [(source, fingerprint) for fingerprint in changes["deleted"]],
                    )
                    self._db.executemany(
                        "INSERT OR REPLACE INTO template_articles VALUES (?, ?, ?)",
                        [(source, key, at) for key, at in changes["recent_added"].items()],
                    )
                    self._db.executemany(
                        "DELETE FROM template_articles WHERE source = ? AND article_key = ?",
                        [(source, key) for key in changes["recent_removed"]],
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return discarded

    def template_sources(self) -> dict[str, int]:
        with self._lock:
            return dict(
                self._db.execute(
                    "SELECT source, articles FROM template_sources WHERE articles > 0 ORDER BY source"
                )
            )

    def forget_template(self, source: str) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO template_sources (source, articles, generation) VALUES (?, 0, 1) "
                "ON CONFLICT (source) DO UPDATE SET articles = 0, generation = generation + 1",
                (source,),
            )
            for table in ("template_lines", "template_articles"):
                self._db.execute(f"DELETE FROM {table} WHERE source = ?", (source,))

    def health_sources(self) -> list[str]:
        with self._lock:
            return [
                row[0]
                for row in self._db.execute("SELECT DISTINCT source FROM source_health ORDER BY source")
            ]

    def add_source_health(self, source: str, run_id: str, finished_at: str, figures: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO source_health VALUES (?, ?, ?, ?)",
                (source, run_id, finished_at, json.dumps(figures, sort_keys=True)),
            )
            self._db.execute(
                "DELETE FROM source_health WHERE source = ? AND run_id NOT IN "
                "(SELECT run_id FROM source_health WHERE source = ? ORDER BY finished_at DESC LIMIT ?)",
                (source, source, HEALTH_RUNS_KEPT),
            )

    def source_health(self, source: str, runs: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, finished_at, figures FROM source_health WHERE source = ? "
                "ORDER BY finished_at DESC LIMIT ?",
                (source, runs),
            ).fetchall()
        return [{"run_id": run_id, "finished_at": at, **json.loads(figures)} for run_id, at, figures in rows]

    def try_lock_group(self, group: str) -> bool:
        # workers on one machine with a run lock each (NEWS_LOCK_FILE) share the file: the run lock
        # does not keep them apart, the group lock file does
        try:
            return self._group_locks.try_lock(group)
        except OSError as exc:
            raise StateUnavailableError(
                f"NEWS_STATE {self.path}: cannot take the lock of site group {group!r} in "
                f"{self._group_locks.path} ({_cause(exc)})"
            ) from exc

    def unlock_groups(self) -> None:
        self._group_locks.release_all()

    def lost_groups(self) -> frozenset[str]:
        # a lock lasts as long as the process; only a lock file removed by hand can lose one
        return frozenset(self._group_locks.lost)

    def claim_content(self, content_hash: str, canonical_url: str, also: Iterable[str] = ()) -> str | None:
        hashes = list(dict.fromkeys((content_hash, *also)))
        marks = ", ".join("?" * len(hashes))
        # one write transaction (other processes on the file wait for it): all claimed, or none
        with self._lock, self._transaction():
            held = dict(
                self._db.execute(
                    f"SELECT content_hash, canonical_url FROM content_claims WHERE content_hash IN ({marks})",
                    hashes,
                ).fetchall()
            )
            holder = next((held[h] for h in hashes if held.get(h, canonical_url) != canonical_url), None)
            if holder is None:
                self._db.executemany(
                    "INSERT OR IGNORE INTO content_claims (content_hash, canonical_url, claimed_at) "
                    "VALUES (?, ?, ?)",
                    [(h, canonical_url, now_utc()) for h in hashes],
                )
        return holder

    def register_pending_part(self, key: str, run_id: str, notes: list[dict[str, Any]]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending_parts (part_key, run_id, notes, registered_at) VALUES (?, ?, ?, ?)",
                (key, run_id, encode_notes(notes), now_utc()),
            )

    def commit_part(self, key: str) -> None:
        with self._lock, self._transaction():
            row = self._db.execute("SELECT notes FROM pending_parts WHERE part_key = ?", (key,)).fetchone()
            if row is None:
                return
            rows = note_rows(json.loads(row[0]))
            if rows:
                self._upsert(rows)
            self._db.execute("DELETE FROM pending_parts WHERE part_key = ?", (key,))

    def pending_parts(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT part_key, run_id FROM pending_parts ORDER BY part_key").fetchall()
        return [(key, run_id) for key, run_id in rows]

    def forget_part(self, key: str) -> None:
        with self._lock, self._transaction():
            row = self._db.execute("SELECT notes FROM pending_parts WHERE part_key = ?", (key,)).fetchone()
            if row is None:
                return
            self._db.execute("DELETE FROM pending_parts WHERE part_key = ?", (key,))
            # its articles will be fetched again: their texts' claims go too
            claims = note_claims(json.loads(row[0]))
            self._db.executemany(
                "DELETE FROM content_claims WHERE content_hash = ? AND canonical_url = ?", claims
            )

    def close(self) -> None:
        self._group_locks.release_all()
        with self._lock:
            self._db.close()


class GroupLocks:
    """Site group locks beside a SQLite state: a POSIX record lock (``fcntl``) on one byte per
    group of one file, ``<state>.groups/locks``, held until released or the process ends (the OS
    releases it when the process dies, even killed). Workers on one machine only: locks on a
    network file system are not to be trusted, and SQLite is not used over one either.

    One file for every group, so that a shard of thousands of groups holds one descriptor, not one
    a group (the open-files limit is often 1024). A group's byte sits at an offset taken from a
    62-bit hash of its name, the same on every worker whatever its sources file; two groups on one
    byte (about one chance in 10^12 among 3,000 groups) would only make one look held elsewhere.

    POSIX locks, not ``flock`` or open file description locks: the extraction pool's processes,
    forked from the crawl, do not inherit them (a forked child outliving a killed crawl would hold
    its groups). Closing any descriptor of the file drops every POSIX lock the process holds on it,
    so a process opens it once (``_files``) and keeps it open while a store of the process holds a
    group in it; two stores of one process exclude each other there (``owners``).

    Byte 0 keeps the file's name true: a worker holding groups holds byte 0 shared, and the last one
    to let go removes the file only when it gets byte 0 exclusively, so that nobody takes a group in
    a file that has lost its name. One that opened the file just before finds, once it has byte 0,
    that the name is not its file any more, and opens it again."""

    _files: ClassVar[dict[Path, _LockFile]] = {}
    _registry = threading.Lock()

    def __init__(self, path: Path):
        self.path = path.absolute()
        self.lost: set[str] = set()

    def try_lock(self, group: str) -> bool:
        """True when this holds the group's lock (taken now or held already), False when another holds it."""
        with self._registry:
            file = self._files.get(self.path)
            if file is not None and not _is_file_of(self.path, file.fd):
                file = self._reopen(file)  # removed by hand meanwhile: its locks keep nobody out
            if file is not None and group in file.owners:
                return file.owners[group] is self
            if file is None:
                file = self._files[self.path] = _LockFile.open(self.path)
            try:
                fcntl.lockf(file.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _byte_of(group))
            except OSError as exc:
                if not file.owners:
                    self._close(file)
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return False
                raise
            file.owners[group] = self
            self.lost.discard(group)
            return True

    def release_all(self) -> None:
        with self._registry:
            file = self._files.get(self.path)
            if file is None:
                return
            for group in [group for group, owner in file.owners.items() if owner is self]:
                del file.owners[group]
                with suppress(OSError):
                    fcntl.lockf(file.fd, fcntl.LOCK_UN, 1, _byte_of(group))
            if not file.owners:
                self._close(file)

    def _reopen(self, stale: _LockFile) -> _LockFile | None:
        """The file named now, with every group held in ``stale`` taken again in it; a group another
        worker took meanwhile is lost to its holder here."""
        del self._files[self.path]
        try:
            fresh = _LockFile.open(self.path)
        except OSError:
            for group, owner in stale.owners.items():
                owner.lost.add(group)
            return None
        finally:
            os.close(stale.fd)
        for group, owner in stale.owners.items():
            try:
                fcntl.lockf(fresh.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _byte_of(group))
                fresh.owners[group] = owner
            except OSError:
                owner.lost.add(group)
        self._files[self.path] = fresh
        return fresh

    def _close(self, file: _LockFile) -> None:
        """Let go of the file: removed when no other worker holds a group in it."""
        if self._files.get(self.path) is file:
            del self._files[self.path]
        try:
            fcntl.lockf(file.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
            if _is_file_of(self.path, file.fd):
                self.path.unlink()
        except OSError:
            pass  # another worker holds byte 0: it holds groups here, and the file stays
        finally:
            os.close(file.fd)


@dataclass
class _LockFile:
    """The group lock file as a process holds it open: its descriptor, and which store holds each group."""

    fd: int
    owners: dict[str, GroupLocks] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> _LockFile:
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                # waits only while the last worker to let go removes the file (a moment)
                fcntl.lockf(fd, fcntl.LOCK_SH, 1, 0)
                if _is_file_of(path, fd):
                    return cls(fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # removed meanwhile: the name is a new file now


def _byte_of(group: str) -> int:
    """The byte of the group lock file that stands for ``group`` (1 to 2^62: byte 0 is the file's own)."""
    return 1 + (group_lock_key(group) & ((1 << 62) - 1))


def _is_file_of(path: Path, fd: int) -> bool:
    """``path`` names the open file ``fd``."""
    try:
        named = os.stat(path)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


class _SqliteTransaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self._db.execute("COMMIT")
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _cause(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return "not a state database (damaged, or another kind of file); move it away to start afresh"
    if isinstance(exc, IsADirectoryError) or (
        isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc)
    ):
        return f"cannot open it ({exc}); is it a folder, or in a folder this user cannot write?"
    if isinstance(exc, sqlite3.OperationalError) and "readonly" in str(exc):
        return f"cannot write it ({exc}); the file or its folder is read-only"
    return f"{type(exc).__name__}: {exc}"
