"""The same page gives the same record on an idle or a busy machine: no budget on the
extraction path is measured in time (issue 20).

The pages go through the extraction entry point the workers run (pipelines/_work.py) twice,
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

# an archive of dated teasers, then the article's own dateline: dozens of dates in text for
# dateparser, as on archive and live-blog pages
TEASERS = "".join(
    f"<li><a href='/news/{n}'>Council notice {n}</a> <span>{n % 28 + 1} March 2024, 10:{n % 60:02d}</span></li>"
    for n in range(60)
)
ARCHIVE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pier to reopen</title></head>
<body><aside><ul>{TEASERS}</ul></aside><main><article><h1>Pier to reopen after storm repairs</h1>
<p class="byline">By Ann Reyes, 14 April 2024, 09:30</p>
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
from crawler.page import Page
from pipelines._work import PagePayload, WorkOptions, analyse, init_worker
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
    # the archive page's own date, read off its byline
    assert idle[0]["published_date"] == "2024-04-14", idle[0]
    for path, one, other in zip(paths, idle, busy, strict=True):
        assert one == other, path.name
