"""A throwaway PostgreSQL server for the tests: ``initdb`` into a temporary folder and
``pg_ctl start`` on 127.0.0.1, on a port the OS picked; stopped and removed at the end.

The server's binaries come from the machine (Debian: ``/usr/lib/postgresql/<v>/bin``;
``make test`` installs them as root). PostgreSQL refuses to run as root: as root the
data folder belongs to ``nobody`` (or a system user ``newstest``, created if need be)
and the server runs as that user. A role ``news`` with the password ``secret`` owns
every database made here, so the URLs are real: ``postgresql://news:secret@127.0.0.1:PORT/news``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

USER = "news"
PASSWORD = "secret"
SUPERUSER = "postgres"
PROGRAMS = ("initdb", "pg_ctl", "postgres")
_START_ATTEMPTS = 5


def find_bindir() -> Path | None:
    """The folder of the server's programs: ``NEWS_TEST_PG_BINDIR``, ``pg_config --bindir``, the newest
    ``/usr/lib/postgresql/*/bin``, or the PATH's ``initdb``."""
    candidates: list[Path] = []
    if os.environ.get("NEWS_TEST_PG_BINDIR"):
        candidates.append(Path(os.environ["NEWS_TEST_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if all(os.access(folder / program, os.X_OK) for program in PROGRAMS):
            return folder
    return None


def unavailable() -> str | None:
    """Why no test server can run here, or None."""
    if find_bindir() is None:
        return (
            "PostgreSQL server programs (initdb, pg_ctl, postgres) not found in pg_config --bindir, "
            "/usr/lib/postgresql/*/bin or PATH: the PostgreSQL state store tests need them "
            "(`make test` installs the Debian package postgresql when run as root)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None and shutil.which("setpriv") is None:
        return "running as root, and neither runuser nor setpriv is there to run PostgreSQL as another user"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str:
    """As root: the unprivileged user the server runs as (``nobody``, else ``newstest``, created)."""
    for name in ("nobody", "newstest"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "newstest"],
        check=True,
        capture_output=True,
    )
    return "newstest"


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int = 0
    run_as: str | None = None  # as root: the server's user
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    def url(self, dbname: str = "news", user: str = USER, password: str = PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        """A superuser connection through the server's socket (trusted), in autocommit mode."""
        return psycopg.connect(
            host=str(self.sockets), port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def new_database(self) -> str:
        """The URL of a new empty database owned by ``news``: tests do not see each other's state."""
        name = f"news_{next(self._numbers)}"
        with self.admin() as conn:
            # a file copy of the small template: faster than WAL-logging it (15 and later)
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f"CREATE DATABASE {name} OWNER {USER}{strategy}")
        return self.url(name)

    def command(self, program: str, *args: str) -> list[str]:
        line = [str(self.bindir / program), *args]
        if self.run_as is None:
            return line
        if shutil.which("runuser"):
            return ["runuser", "-u", self.run_as, "--", *line]
        return [
            "setpriv",
            f"--reuid={self.run_as}",
            f"--regid={pwd.getpwnam(self.run_as).pw_gid}",
            "--init-groups",
            *line,
        ]

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(program, *args),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def init(self) -> None:
        self.sockets.mkdir()
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        result = self.run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}): {result.stderr[-3000:]}")

    def start(self, port: int | None = None) -> None:
        """``pg_ctl start`` on a free port; another port if that one was taken meanwhile. With ``port``:
        on that port (a restart, where the clients know the address), and only there."""
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = port or free_port()
            log = self.root / f"server-{attempt}.log"
            options = (
                f"-p {self.port} -h 127.0.0.1 -k {self.sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = self.run(
                "pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"
            )
            if result.returncode == 0:
                return
            text = log.read_text(errors="replace") if log.exists() else ""
            if ("could not bind" in text or "already in use" in text) and port is None:
                continue  # the port was taken between the probe and the start
            raise RuntimeError(
                f"pg_ctl start failed ({result.returncode}): {result.stderr[-2000:]}\n{text[-3000:]}"
            )
        raise RuntimeError(f"pg_ctl start: no free port in {_START_ATTEMPTS} attempts")

    def stop(self) -> None:
        if self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop").returncode != 0:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The server stopped (its sessions ended, connections refused) for the block, then started
        again on the same port with the same data: a restart as a database's clients see it."""
        self.stop()
        try:
            yield
        finally:
            self.start(self.port)

    def make_role(self) -> None:
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f"CREATE DATABASE news OWNER {USER}")


@contextmanager
def running_postgres() -> Iterator[PgServer]:
    """A PostgreSQL server for the duration of the block; the folder is removed after."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(unavailable())
    as_root = os.geteuid() == 0
    # as root: a folder the server's user can reach (pytest's own temporary folders are private to root)
    root = Path(tempfile.mkdtemp(prefix="news-pg-", dir="/tmp" if as_root else None))
    server = PgServer(bindir, root, run_as=_server_user() if as_root else None)
    try:
        server.init()
        server.start()
        try:
            server.make_role()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def server_for_tests() -> Iterator[PgServer]:
    """:func:`running_postgres` for a fixture. Without the server programs the tests that need it
    fail (CI runs as root and `make test` installs them), or are skipped when not root, who could
    not have installed them."""
    problem = unavailable()
    if problem is not None:
        if os.geteuid() != 0:
            pytest.skip(problem)
        pytest.fail(problem)
    with running_postgres() as server:
        yield server
