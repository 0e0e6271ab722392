"""What makes cron runs incremental: per article, what was emitted and when.

One small interface, ``StateStore``; the embedded default is SQLite in WAL mode
(``NEWS_STATE``), with a versioned schema that migrates forward on open. A
Redis implementation for distributed crawls only has to provide the same
methods. Writes of emitted articles are idempotent upserts, so replaying a part
after a crash never counts an article twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from crawler.urls import normalize_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleState:
    canonical_url: str
    article_id: str
    content_hash: str
    version: int
    first_seen: str
    last_seen: str
    last_fetched: str
    published_at: str | None
    published_date: str | None


class StateStore(Protocol):
    def get(self, canonical_url: str) -> ArticleState | None: ...

    def get_by_url(self, url: str) -> ArticleState | None:
        """The article last fetched from ``url`` (a fetched or a canonical URL)."""
        ...

    def find_by_hash(self, content_hash: str) -> ArticleState | None: ...

    def record_emitted(self, records: Iterable[dict[str, Any]]) -> None:
        """Upsert durable records; replaying the same records changes nothing."""
        ...

    def touch(self, canonical_url: str, fetched_at: str) -> None:
        """An unchanged article was fetched again."""
        ...

    def known_runs(self) -> set[str]:
        """The runs whose records the store holds (``ALL_EARLIER_RUNS``: every run before it tracked them)."""
        ...

    def add_runs(self, run_ids: Iterable[str]) -> None: ...

    def check(self) -> str | None:
        """A problem with the store that the run must report (its file deleted or replaced), or None."""
        ...

    def load_template(self, source: str) -> tuple[int, dict[str, tuple[Any, ...]], list[tuple[str, str]]]:
        """A source's learned lines (``crawler/boilerplate.py``): its article count, its lines by
        fingerprint, and the articles counted recently (key, when) in the order they were counted."""
        ...

    def save_templates(self, batch: list[dict[str, Any]]) -> None:
        """What changed in sources' learned lines, in one write: per source its ``articles``, its
        changed ``lines`` by fingerprint, the ``deleted`` fingerprints, and the articles counted
        (``recent_added``, key to when) or forgotten (``recent_removed``)."""
        ...

    def template_sources(self) -> dict[str, int]:
        """Every source with learned lines, and its article count."""
        ...

    def forget_template(self, source: str) -> None: ...

    def health_sources(self) -> list[str]:
        """Every source with health figures."""
        ...

    def add_source_health(
        self, source: str, run_id: str, finished_at: str, figures: dict[str, Any]
    ) -> None: ...

    def source_health(self, source: str, runs: int) -> list[dict[str, Any]]:
        """The figures of the source's last ``runs`` runs, newest first."""
        ...

    def close(self) -> None: ...


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
    # What each source's template repeats in its bodies (crawler/boilerplate.py), and each
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
]
# Runs of a source whose health figures are kept
HEALTH_RUNS_KEPT = 50
ALL_EARLIER_RUNS = "*every run in the output*"
SCHEMA_VERSION = len(_MIGRATIONS)
_COLUMNS = "canonical_url, article_id, content_hash, version, first_seen, last_seen, last_fetched, published_at, published_date"


class StateSchemaError(RuntimeError):
    """The state file was written by a newer version of the product."""


class StateUnavailableError(ValueError):
    """``NEWS_STATE`` cannot be opened or written (not a database, a folder, no permission)."""


class SqliteStateStore:
    """The embedded store: one SQLite file, safe for one writer process at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
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
            f"SELECT {_COLUMNS} FROM articles WHERE content_hash = ? ORDER BY first_seen LIMIT 1",
            (content_hash,),
        )

    def record_emitted(self, records: Iterable[dict[str, Any]]) -> None:
        rows = [
            (
                r["canonical_url"], r["id"], r["content_hash"], int(r["version"]), r["fetched_at"], r["fetched_at"],
                r["fetched_at"], r.get("published_at"), r.get("published_date"), normalize_url(r["url"]),
            )
            for r in records
        ]  # fmt: skip
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    """
                    INSERT INTO articles (canonical_url, article_id, content_hash, version, first_seen, last_seen,
                                          last_fetched, published_at, published_date)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (canonical_url) DO UPDATE SET
                        content_hash = CASE WHEN excluded.version >= articles.version
                                            THEN excluded.content_hash ELSE articles.content_hash END,
                        version = MAX(articles.version, excluded.version),
                        first_seen = MIN(articles.first_seen, excluded.first_seen),
                        last_seen = MAX(articles.last_seen, excluded.last_seen),
                        last_fetched = MAX(articles.last_fetched, excluded.last_fetched),
                        published_at = COALESCE(articles.published_at, excluded.published_at),
                        published_date = COALESCE(articles.published_date, excluded.published_date)
                    """,
                    [row[:9] for row in rows],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO urls (url, canonical_url) VALUES (?, ?)",
                    [(row[9], row[0]) for row in rows if row[9] != row[0]],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def touch(self, canonical_url: str, fetched_at: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE articles SET last_seen = MAX(last_seen, ?), last_fetched = MAX(last_fetched, ?) "
                "WHERE canonical_url = ?",
                (fetched_at, fetched_at, canonical_url),
            )

    def load_template(self, source: str) -> tuple[int, dict[str, tuple[Any, ...]], list[tuple[str, str]]]:
        with self._lock:
            row = self._db.execute(
                "SELECT articles FROM template_sources WHERE source = ?", (source,)
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
                "SELECT article_key, counted_at FROM template_articles WHERE source = ? ORDER BY counted_at, rowid",
                (source,),
            ).fetchall()
        return (row[0] if row else 0), lines, [(key, at) for key, at in recent]

    def save_templates(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for changes in batch:
                    source = changes["source"]
                    self._db.execute(
                        "INSERT OR REPLACE INTO template_sources (source, articles) VALUES (?, ?)",
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

    def template_sources(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT source, articles FROM template_sources ORDER BY source"))

    def forget_template(self, source: str) -> None:
        with self._lock:
            for table in ("template_sources", "template_lines", "template_articles"):
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

    def close(self) -> None:
        with self._lock:
            self._db.close()


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


def state_path(location: str) -> Path:
    """The SQLite file ``NEWS_STATE`` names, absolute (the lock and the spool are placed beside it)."""
    return Path(location.removeprefix("sqlite://")).expanduser().resolve()


def open_store(location: str) -> StateStore:
    """The store named by ``NEWS_STATE``: a SQLite path (``redis://`` arrives with distributed crawls)."""
    if location.startswith(("redis://", "rediss://")):
        raise ValueError(f"NEWS_STATE={location!r}: the Redis state store is not available in this version")
    return SqliteStateStore(state_path(location))


def store_for(crawler: Any) -> StateStore:
    """One store per crawl, shared by the middleware, the dedupe step and the sink."""
    store = getattr(crawler, "_news_state", None)
    if store is None:
        store = open_store(crawler.settings.get("NEWS_STATE"))
        crawler._news_state = store
    return store
