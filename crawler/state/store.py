"""What makes cron runs incremental: per article, what was emitted and when. The definitions every store shares.

One small interface, ``StateStore``; the embedded default is SQLite in WAL mode
(``NEWS_STATE`` a path, ``crawler/state/sqlite.py``), with a versioned schema that migrates
forward on open. N workers on different machines share one PostgreSQL database instead
(``NEWS_STATE=postgresql://...``, ``crawler/state/postgres.py``), with the same methods and
the same semantics. Writes of emitted articles are idempotent upserts, so replaying
a part after a crash never counts an article twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from crawler.discovery.urls import normalize_url
from crawler.state import dsn

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
    modified_at: str | None = None  # the update time of the version last emitted
    # content_hash is the body as extracted; this, the text as written when learned template lines
    # came out of it (the record's content_hash), else None
    cleaned_hash: str | None = None


class StateStore(Protocol):
    def get(self, canonical_url: str) -> ArticleState | None: ...

    def get_by_url(self, url: str) -> ArticleState | None:
        """The article last fetched from ``url`` (a fetched or a canonical URL)."""
        ...

    def get_many_by_url(self, urls: list[str]) -> dict[str, ArticleState]:
        """``get_by_url`` for a batch of URLs in one call: the URLs the store knows, each with its article."""
        ...

    def find_by_hash(self, content_hash: str) -> ArticleState | None:
        """The first article seen whose body as extracted, or whose text as written, has this hash."""
        ...

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
        """A source's learned lines (``crawler/state/template_lines.py``): its article count, its lines by
        fingerprint, and the articles counted recently (key, when) in the order they were counted."""
        ...

    def load_template_state(
        self, source: str
    ) -> tuple[int, int, dict[str, tuple[Any, ...]], list[tuple[str, str]]]:
        """``load_template`` with the source's generation (how often it was reset) second, read at once."""
        ...

    def save_templates(self, batch: list[dict[str, Any]]) -> set[str]:
        """What changed in sources' learned lines, in one write: per source its ``articles``, its
        changed ``lines`` by fingerprint, the ``deleted`` fingerprints, and the articles counted
        (``recent_added``, key to when) or forgotten (``recent_removed``). A source whose
        ``generation`` is given and is no longer the store's (reset since it was loaded) is not
        written: the sources left out are returned."""
        ...

    def template_sources(self) -> dict[str, int]:
        """Every source with counted articles, and its article count."""
        ...

    def forget_template(self, source: str) -> None:
        """Forget what was learned of a source and start its next generation: a crawl that loaded
        the source before cannot write its counts back."""
        ...

    def health_sources(self) -> list[str]:
        """Every source with health figures."""
        ...

    def add_source_health(
        self, source: str, run_id: str, finished_at: str, figures: dict[str, Any]
    ) -> None: ...

    def source_health(self, source: str, runs: int) -> list[dict[str, Any]]:
        """The figures of the source's last ``runs`` runs, newest first."""
        ...

    def try_lock_group(self, group: str) -> bool:
        """Take the lock of a site group for this store's session (True: taken now or held already;
        False: another worker holds it). Held until ``unlock_groups``, ``close`` or the worker's death."""
        ...

    def unlock_groups(self) -> None:
        """Release every site group lock this store holds."""
        ...

    def lost_groups(self) -> frozenset[str]:
        """Site groups whose lock this store held and lost to another worker (a connection to the
        state's server lost meanwhile): their sources must not be crawled on. Cheap: no I/O."""
        ...

    def claim_content(self, content_hash: str, canonical_url: str, also: Iterable[str] = ()) -> str | None:
        """Claim a body for an article, across workers: None when ``canonical_url`` holds the claim
        (new or already its own), else the canonical URL that holds it. ``also``: more hashes of the
        same article (its body as extracted and its text as written), claimed with it, all or none."""
        ...

    def register_pending_part(self, key: str, run_id: str, notes: list[dict[str, Any]]) -> None:
        """A part about to be uploaded as ``key``, with the state notes of its records (the dicts
        ``record_emitted`` takes): pending until ``commit_part`` or ``forget_part``."""
        ...

    def commit_part(self, key: str) -> None:
        """The part is in the bucket: record its notes as emitted and drop it from the pending parts,
        in one transaction. An unknown or already committed key is a no-op."""
        ...

    def pending_parts(self) -> list[tuple[str, str]]:
        """``(key, run_id)`` of every pending part, by key."""
        ...

    def forget_part(self, key: str) -> None:
        """Drop a pending part without recording its articles, and the content claims its articles
        made (they will be fetched again)."""
        ...

    def archives_done(self) -> set[str]:
        """The archive files (locations as given) read to their end by earlier runs."""
        ...

    def archive_done(self, location: str, responses: int) -> None:
        """``location`` was read to its end and every page of it is written or dropped."""
        ...

    def close(self) -> None: ...


# Runs of a source whose health figures are kept
HEALTH_RUNS_KEPT = 50


ALL_EARLIER_RUNS = "*every run in the output*"


_COLUMNS = (
    "canonical_url, article_id, content_hash, version, first_seen, last_seen, last_fetched, published_at, "
    "published_date, modified_at, cleaned_hash"
)


class StateSchemaError(RuntimeError):
    """The state file was written by a newer version of the product."""


class StateUnavailableError(ValueError):
    """``NEWS_STATE`` cannot be opened or written (not a database, a folder, no permission)."""


def note_rows(records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What ``record_emitted`` stores of each record: the article's row, then the normalised fetched URL.

    A note's ``content_hash`` is the body as extracted, its ``cleaned_hash`` (optional) the text as
    written (``crawler/output/tree.py``, ``note_of``); the second is kept only when it differs."""
    return [
        (
            r["canonical_url"], r["id"], r["content_hash"], int(r["version"]), r["fetched_at"], r["fetched_at"],
            r["fetched_at"], r.get("published_at"), r.get("published_date"), r.get("modified_at"),
            _cleaned(r), normalize_url(r["url"]),
        )
        for r in records
    ]  # fmt: skip


def _cleaned(note: dict[str, Any]) -> str | None:
    cleaned = note.get("cleaned_hash")
    return cleaned if cleaned and cleaned != note["content_hash"] else None


def note_claims(notes: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """The content claims the articles of ``notes`` made: each hash of each, with its canonical URL."""
    return sorted(
        {(h, n["canonical_url"]) for n in notes for h in (n["content_hash"], n.get("cleaned_hash")) if h}
    )


def encode_notes(notes: list[dict[str, Any]]) -> str:
    """A pending part's state notes as stored: JSON, checked now (a bad note fails the register, not the commit)."""
    note_rows(notes)
    return json.dumps(notes, ensure_ascii=False, separators=(",", ":"))


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def group_lock_key(group: str) -> int:
    """The advisory lock key of a site group: a signed 64-bit integer, the same on every worker."""
    digest = hashlib.blake2b(f"news-ingest:group:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_database_url(location: str) -> bool:
    """A state store on a database server (``postgresql://...``), not a file on this machine."""
    return "://" in (location or "") and not location.startswith("sqlite://")


def state_path(location: str) -> Path:
    """The SQLite file ``NEWS_STATE`` names, absolute (the lock and the spool are placed beside it).

    A server store (``postgresql://``) has no file: ask ``local_state_dir`` or ``is_database_url`` first."""
    if is_database_url(location):
        raise StateUnavailableError(
            f"NEWS_STATE {display_location(location)} is a database server, not a file: "
            "there is no local state file (nor a folder beside it)"
        )
    return Path(location.removeprefix("sqlite://")).expanduser().resolve()


def local_state_dir(location: str) -> Path | None:
    """The folder of the SQLite file ``NEWS_STATE`` names (absolute), or None for a server store,
    which has no local folder: the run lock and the S3 spool then need a place of their own."""
    if is_database_url(location):
        return None
    return state_path(location).parent


def display_location(location: str) -> str:
    """``NEWS_STATE`` as it may be shown in logs and messages: a URL or a libpq ``keyword=value``
    string without its password and other secrets (``crawler/state/dsn.py``); a path as given."""
    return dsn.display(location)


def mask_secrets(text: str, location: str) -> str:
    """``text`` (an error message) without the secrets of ``location``, as given or decoded."""
    return dsn.scrub(text, location)
