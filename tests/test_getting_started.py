"""The getting-started page's commands, copied as written, on a fresh clone of the repository.

``make test``, the page's second command, is this suite itself: CI runs it on every change.
Every other block of the page runs here as it is written: ``make demo`` (which creates the
clone's own .venv from the lock files), the first crawl of the bundled demo site, and the
cron line's command (with the clone's folder in place of ``/srv/news-ingest``, as the page
says to do).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from pathlib import Path

from demo.server import running_site
from tests.crawling import REPO

MARK = re.compile(
    r"<!-- tested: tests/test_getting_started\.py \(([a-z-]+)\) -->\n```(\w+)\n(.*?)\n```", re.DOTALL
)
DEMO_PORT = 8642  # the port the page's first crawl serves the demo site on


def blocks(page: str) -> dict[str, str]:
    return {name: code for name, _, code in MARK.findall(page)}


def run_block(code: str, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``code`` in bash, stopping at the first failing command; whatever it left running is stopped."""
    process = subprocess.Popen(
        ["bash", "-e", "-c", code],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def summaries(output: Path) -> list[dict]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted((output / "_runs").glob("*.json"))
    ]


def test_the_getting_started_page_works_as_written_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "news-ingest"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=120)
    found = blocks((clone / "docs" / "getting-started.md").read_text(encoding="utf-8"))
    assert set(found) == {"two-commands", "first-crawl", "cron-line"}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEWS_", "VIRTUAL_ENV", "PYTHONPATH", "SCRAPY_"))
    }

    demo = run_block(found["two-commands"], clone, env, timeout=1200)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert (clone / ".venv" / "bin" / "news-ingest").is_file()
    demo_outputs = list((clone / "output").glob("demo-*"))
    assert len(demo_outputs) == 1 and list(demo_outputs[0].glob("source=*/date=*/*.jsonl*"))

    first = run_block(found["first-crawl"], clone, env, timeout=600)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    output = clone / "output" / "news"
    parts = list(output.glob("source=daily/date=*/*.jsonl"))
    records = [json.loads(line) for part in parts for line in part.read_text(encoding="utf-8").splitlines()]
    # the demo site's daily source, as demo/sources.toml has it: 8 articles (tests/test_operations.py)
    assert len(records) == 8 and all(record["source"] == "daily" and record["title"] for record in records)
    assert '"title"' in first.stdout  # the `head` of a part
    runs = summaries(output)
    assert [run["records_written"] for run in runs] == [8, 0]  # the second run: nothing new
    assert all(run["status"] == "ok" for run in runs)

    line = found["cron-line"]
    schedule, command = line.split(None, 5)[:5], line.split(None, 5)[5]
    assert schedule == ["*/15", "*", "*", "*", "*"]
    with running_site(port=DEMO_PORT):
        # the demo site is on loopback, which the page's first crawl allows on its own lines
        cron = run_block(
            command.replace("/srv/news-ingest", str(clone)),
            tmp_path,
            {**env, "NEWS_ALLOW_PRIVATE_NETWORKS": "true"},
            timeout=600,
        )
    assert cron.returncode == 0, cron.stderr[-3000:]
    log = (clone / "crawl.log").read_text(encoding="utf-8")
    assert "crawlall" in log
    runs = summaries(output)
    assert len(runs) == 3 and runs[-1]["status"] == "ok" and runs[-1]["records_written"] == 0
