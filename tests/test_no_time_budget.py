"""The same page gives the same record on an idle or a busy machine: no budget on the
extraction path is measured in time (issue 20).

The pages go through the extraction entry point the workers run (pipelines/work.py) twice,
each in a process of its own: once with the real clocks, once with clocks on which every
reading is a second after the one before, as a machine so busy that each step seems to take a
second. Any step that spent "time" would stop early in the second run and give another record.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.crawling import REPO

PAGES = Path(__file__).parent / "pages" / "patterns"

# a meta line of strings with digits that are no dates, which dateparser has to read before it
# gets to the page's own date (the seventh string read)
META = "".join(f"<span class='date'>Gate {n} opens at 9.{n}0am</span>" for n in range(1, 6))
ARCHIVE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pier to reopen</title></head>
<body><main><article><h1>Pier to reopen after storm repairs</h1>
<div class="meta">{META}</div><p class="date">Sunday, 14 April 2024 at 9:30 GMT</p>
<p>The pier will reopen to walkers on Saturday after six months of repairs to its deck and railings,
the harbour authority said, with the cafe at its end following a week later.</p>
<p>Engineers replaced forty timber planks and two steel supports damaged in the January storm,
and the lighting along the full length of the pier has been renewed.</p>
</article></main></body></html>"""

RUN = """
import itertools, json, sys, time
if sys.argv[1] == "busy":  # before anything imports a clock
    for name in ("thread_time", "process_time", "perf_counter", "monotonic"):
        ticks = itertools.count()
        setattr(time, name, lambda ticks=ticks: float(next(ticks)))
        setattr(time, name + "_ns", lambda ticks=ticks: next(ticks) * 1_000_000_000)
from datetime import UTC, datetime
from scrapy.settings import Settings
from crawler.pages.page import Page
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker
from settings import base
settings = Settings()
settings.setmodule(base)
init_worker(WorkOptions.from_settings(settings))
records = []
for path in sys.argv[2:]:
    page = Page(url="https://news.example/news/" + path.rsplit("/", 1)[1], body=open(path, "rb").read(),
                fetched_at=datetime(2024, 4, 20, tzinfo=UTC), source="news.example")
    records.append(analyse(PagePayload.of(page)))
print(json.dumps(records, default=str, sort_keys=True))
"""


def records(clock: str, paths: list[Path]) -> list[dict]:
    process = subprocess.run(
        [sys.executable, "-c", RUN, clock, *map(str, paths)],
        cwd=REPO, capture_output=True, timeout=600, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr.decode()[-3000:]
    return json.loads(process.stdout)


def test_a_busy_machine_gives_the_same_records(tmp_path: Path) -> None:
    archive = tmp_path / "archive.html"
    archive.write_text(ARCHIVE, "utf-8")
    paths = [archive, *sorted(PAGES.glob("*.html"))]
    idle, busy = records("idle", paths), records("busy", paths)
    # the page's own date and time, read off its date line ("Sunday, 14 April 2024 at 9:30 GMT")
    assert idle[0]["published_at"] == "2024-04-14T09:30:00Z", idle[0]
    for path, one, other in zip(paths, idle, busy, strict=True):
        assert one == other, path.name
