"""Running real crawls in a subprocess, as a user would, and reading what they wrote."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
URL_LIST = REPO / "demo" / "urls.txt"
EXPECTED = Path(__file__).resolve().parent / "expected"
# Fields that change from run to run; expected files leave them out.
# (the id hashes the canonical URL, which holds the server's port: checked on its own)
VOLATILE = {"fetched_at", "id"}
# Pages dated relative to the fetch ("Posted 3 hours ago"): their dates are checked against fetched_at.
RELATIVE_DATE_PAGES = {"news__city-council-budget-vote-3891"}
RELATIVE = "<relative to fetched_at>"


def scrapy_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", *args]


def crawl_env(**extra: str) -> dict[str, str]:
    """The environment of a test crawl: no NEWS_* from outside; loopback allowed (the test sites)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env["NEWS_ALLOW_PRIVATE_NETWORKS"] = "true"
    # one-off crawls write into the NEWS_OUTPUT a test gives them (their default folder of their
    # own, NEWS_ONEOFF_FOLDER, is tested in tests/test_operator.py)
    env["NEWS_ONEOFF_FOLDER"] = ""
    # a state store of its own unless the test shares one between runs on purpose
    env["NEWS_STATE"] = str(Path(tempfile.mkdtemp(prefix="news-state-")) / "news.sqlite")
    env.update(extra)
    return env


def run_scrapy(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return run_in(crawl_env(**env), *args, timeout=timeout)


def article_crawl(urls: Path, output: Path, *more: str) -> tuple[str, ...]:
    """The arguments of a crawl of the URLs listed in ``urls`` into ``output``."""
    return ("crawl", "article", "-a", f"urls={urls}", "-s", f"NEWS_OUTPUT={output}", *more)


def run_in(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A scrapy command in an environment made by ``crawl_env``, shared with an earlier run."""
    return subprocess.run(
        scrapy_command(*args), cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


SOURCES_TEMPLATE = REPO / "demo" / "sources.toml"


def sources_file(base_url: str, target: Path, text: str | None = None) -> Path:
    """A sources file with the server's address filled in (the demo's, or ``text``)."""
    template = SOURCES_TEMPLATE.read_text(encoding="utf-8") if text is None else text
    target.write_text(template.replace("{base}", base_url), encoding="utf-8")
    return target


def kill_when(
    command: list[str], env: dict[str, str], ready: Callable[[], bool], timeout: float = 120
) -> int:
    """Start ``command``, SIGKILL it as soon as ``ready()`` holds (mid-run), and return its exit status."""
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never reached the point to kill it at"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def visible_parts(output: Path) -> list[Path]:
    """Completed parts: what a reader of the output folder sees."""
    return sorted(p for p in output.rglob("*.jsonl*") if not p.name.startswith("."))


def url_file(base_url: str, target: Path, lines: list[str] | None = None) -> Path:
    """The demo URL list with the server's address filled in."""
    text = URL_LIST.read_text(encoding="utf-8") if lines is None else "\n".join(lines) + "\n"
    target.write_text(text.replace("{base}", base_url), encoding="utf-8")
    return target


def read_parts(output: Path) -> list[dict[str, Any]]:
    """Every record of every visible part under ``output``."""
    records: list[dict[str, Any]] = []
    for part in sorted(output.rglob("*.jsonl*")):
        if part.name.startswith("."):
            continue
        opener = gzip.open if part.name.endswith(".gz") else open
        with opener(part, "rt", encoding="utf-8") as handle:
            records += [json.loads(line) for line in handle]
    return records


def run_summary(output: Path) -> dict[str, Any]:
    runs = sorted((output / "_runs").glob("*.json"))
    assert runs, f"no run summary under {output}"
    return json.loads(runs[-1].read_text(encoding="utf-8"))


def slug(url: str, base_url: str) -> str:
    path = url[len(base_url) :].strip("/")
    return path.replace("/", "__").removesuffix(".html") or "home"


def comparable(record: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A record as stored in an expected file: server address abstracted, volatile fields out."""
    kept = {k: v for k, v in record.items() if k not in VOLATILE}
    if slug(record["url"], base_url) in RELATIVE_DATE_PAGES:
        kept.update(published_at=RELATIVE, published_date=RELATIVE)
    return json.loads(json.dumps(kept, ensure_ascii=False).replace(base_url, "{base}"))


@dataclass
class Crawl:
    base_url: str
    output: Path
    process: subprocess.CompletedProcess[str]

    @property
    def records(self) -> list[dict[str, Any]]:
        return read_parts(self.output)

    def by_slug(self) -> dict[str, dict[str, Any]]:
        return {slug(record["url"], self.base_url): record for record in self.records}

    @property
    def summary(self) -> dict[str, Any]:
        return run_summary(self.output)
