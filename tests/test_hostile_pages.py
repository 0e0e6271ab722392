"""Hostile pages under the size limits (issue 19): what one page may cost a worker, and what
flattening, the parse window and charset sniffing must keep of the article around it.

Real crawls (``scrapy crawl article``) of a hostile server on 127.0.0.1 (tests/hostile.py).
Every page holds the same article (tests/hostile_pages.py: a headline, a byline dated
27 November 2026 and four paragraphs), so what a reader of each page sees is known: that
headline, and the four paragraphs, apart and whole.

Memory is measured, not timed: the peak resident size of the crawl's processes (the
kernel's count, ``wait4``) and of one worker reading one page (``VmHWM``). Both are read so that
the test process's own size does not count: Linux carries a process's peak across ``exec`` into
the program it starts (``fork`` or ``vfork``, then ``exec``), so a crawl started straight from a
test process that had grown to 590 MB would report 590 MB whatever it used. The bound
asserted is the documented one, 400 MB a worker; a warm worker starts at about 190 MB, and each
page here took a worker of the code before these bounds to 400-800 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.pages.page import Page, decode_body
from tests import hostile_pages as pages
from tests.crawling import REPO, article_crawl, crawl_env, read_parts, run_summary, scrapy_command
from tests.hostile import HostileServer, Reply, hostile_server

ARTICLE_TEXT = "\n\n".join(pages.PARAGRAPHS)  # the four paragraphs as a reader sees them
WORKER_MB = 400  # docs/concepts/bad-input.md: every worker under 400 MB
HTML_UTF8 = {"Content-Type": "text/html; charset=utf-8"}


# --- case 12: pages of repeats, each under DOWNLOAD_MAXSIZE (10 MiB) ----------------------------------


def tag_links(count: int = 118_000) -> str:
    """The article, then ``count`` tag links (2.8 MB of markup, under both size limits)."""
    return pages.article().replace(
        "</main>", "</main><aside>" + "<a rel=tag href=#>t</a>" * count + "</aside>"
    )


def plain_links(count: int = 160_000) -> str:
    return pages.article().replace("</main>", "</main><aside>" + "<a href=#>s</a>" * count + "</aside>")


def tag_metas(count: int = 200_000) -> str:
    """The article, then ``count`` ``article:tag`` metas (7.4 MB: the parse window takes 3 MB of it)."""
    return pages.article().replace("</footer>", "</footer>" + "<meta property=article:tag content=t>" * count)


REPEATS = {
    "/big/tag-links.html": tag_links,
    "/big/plain-links.html": plain_links,
    "/big/metas.html": tag_metas,
}


# --- case 13: flattening; risks: the parse window, UTF-16 without a byte order mark -----------------

NESTED_DIVS = (
    pages.article()
    .replace("<main>", "<main>" + "<div>" * 50_000)
    .replace("</main>", "</div>" * 50_000 + "</main>")
)
UNCLOSED_EM = pages.article().replace("<main>", "<em>decoy" + "<em>" * 100_000 + "<main>")
# under libxml2's own depth limit: only the parsed tree is flattened
NESTED_DIVS_1000 = (
    pages.article()
    .replace("<main>", "<main>" + "<div>" * 1000)
    .replace("</main>", "</div>" * 1000 + "</main>")
)
DATA_IMAGE = pages.article(before="<img alt='' src='data:image/png;base64," + "iVBORw0KGgo" * 320_000 + "'>")
NEAR_LIMIT_SCRIPTS = pages.article(
    head="".join(f"<script>var chunk{n} = '{'x' * 990_000}';</script>" for n in range(4))
)
ROUTES = {
    "/news/nested-divs.html": Reply(NESTED_DIVS.encode()),
    "/news/unclosed-em.html": Reply(UNCLOSED_EM.encode()),
    "/news/nested-divs-1000.html": Reply(NESTED_DIVS_1000.encode()),
    "/news/data-image.html": Reply(DATA_IMAGE.encode()),
    "/news/near-limit-scripts.html": Reply(NEAR_LIMIT_SCRIPTS.encode()),
    "/news/utf-16-le.html": Reply(pages.article().encode("utf-16-le"), headers=HTML_UTF8),
    "/news/utf-16-be.html": Reply(pages.article().encode("utf-16-be"), headers=HTML_UTF8),
}
ROUTES.update({path: Reply(build().encode()) for path, build in REPEATS.items()})


@dataclass
class Crawl:
    records: dict[str, dict[str, Any]]
    summary: dict[str, Any]
    max_rss_mb: int  # the largest resident size of any process of the crawl, the workers included


def crawl(server: HostileServer, tmp_path: Path, paths: list[str]) -> Crawl:
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(server.url(path) + "\n" for path in paths))
    output = tmp_path / "out"
    command = scrapy_command(*article_crawl(urls, output, "-s", "NEWS_EXTRACT_TIMEOUT=120"))
    log = tmp_path / "crawl.log"
    with log.open("w") as stderr:
        process = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *command],
            cwd=REPO,
            env=crawl_env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            check=False,
        )
    errors = log.read_text()
    assert process.returncode == 0, errors[-3000:]
    assert "Traceback" not in errors, errors[-3000:]
    records = {record["url"].removeprefix(server.base_url): record for record in read_parts(output)}
    return Crawl(records, run_summary(output), int(process.stdout) // 1024)


# Starts the crawl from a small process and prints the kernel's peak for it and every child it
# waited for (the extraction workers): started from the test process, the crawl would inherit
# the test process's peak (module docstring).
LAUNCHER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with hostile_server(ROUTES) as server:
        yield server


@pytest.fixture(scope="module")
def pages_crawl(hostile: HostileServer, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    return crawl(
        hostile, tmp_path_factory.mktemp("pages"), [path for path in ROUTES if path.startswith("/news/")]
    )


def assert_whole_article(record: dict[str, Any]) -> None:
    assert record["title"] == pages.TITLE
    assert record["text"] == ARTICLE_TEXT  # four paragraphs, none glued to another or to the headline
    assert record["published_date"] == "2026-11-27"


def test_pages_of_repeats_keep_every_process_of_the_crawl_under_400_mb(
    hostile: HostileServer, tmp_path: Path
) -> None:
    """Case 12: 118,000 tag links, 160,000 links, 200,000 article:tag metas."""
    result = crawl(hostile, tmp_path, list(REPEATS))
    stats = result.summary["stats"]
    assert stats["news/extract/worker_max_rss_mb"] < WORKER_MB
    assert result.max_rss_mb < WORKER_MB  # the crawl's own process too: it parses each page for its links
    assert set(result.records) == set(REPEATS), result.summary["dropped"]
    for record in result.records.values():
        assert_whole_article(record)
    assert result.records["/big/metas.html"]["tags"] == ["t"]
    assert stats["news/extract/nodes_capped"] == 3


# One worker, one page: the extraction entry point the pool runs (pipelines/work.py), in a process
# of its own, warmed up as the pool's workers are; its peak resident size before and after the page.
WORKER = """
import json, sys
from datetime import UTC, datetime
from scrapy.settings import Settings
from crawler.pages.page import Page
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker
from settings import base
settings = Settings()
settings.setmodule(base)
init_worker(WorkOptions.from_settings(settings))
def peak_mb():  # this program's own peak (VmHWM), not the one exec carried over from the test process
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024
warm = peak_mb()
page = Page(url="http://127.0.0.1/news/page.html", body=sys.stdin.buffer.read(), fetched_at=datetime.now(UTC), source="s")
record = analyse(PagePayload.of(page))
peak = peak_mb()
print(json.dumps({"warm": warm, "peak": peak, "notes": record.get("_notes"), **record}, default=str))
"""


def one_page_in_a_worker(html: str) -> dict[str, Any]:
    process = subprocess.run(
        [sys.executable, "-c", WORKER],
        input=html.encode(),
        cwd=REPO,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr.decode()[-3000:]
    return json.loads(process.stdout)


@pytest.mark.parametrize("path", list(REPEATS))
def test_a_page_of_repeats_costs_a_worker_little_memory(path: str) -> None:
    """Case 12, one page at a time: the page's own cost, above a warm worker's."""
    measured = one_page_in_a_worker(REPEATS[path]())
    assert measured["title"] == pages.TITLE and measured["text"] == ARTICLE_TEXT
    assert measured["peak"] < WORKER_MB
    # the code before the bound: 190 to 350 MB above a warm worker; nodes capped, a few MB
    assert measured["peak"] - measured["warm"] < 100, measured


# Pages just under the bound of 100,000 nodes (elements, attributes, text), read whole: the most
# a page can cost. Each shape in an <aside> after the article.
AT_THE_BOUND = {
    "links": "".join(f"<a rel=tag href=/t/{n}>t{n}</a>" for n in range(24_900)),  # 4 nodes each
    "attributes": "".join(
        f"<a href=/{n} class=c id=i{n} title=t rel=r data-a=1 data-b=2 x=y>s</a>" for n in range(9_800)
    ),
    "paragraphs": "".join(f"<p>Short line of filler text number {n} here.</p>" for n in range(49_000)),
}


@pytest.mark.parametrize("shape", list(AT_THE_BOUND))
def test_a_page_just_under_the_bound_keeps_a_worker_under_400_mb(shape: str) -> None:
    html = pages.article().replace("</main>", f"</main><aside>{AT_THE_BOUND[shape]}</aside>")
    measured = one_page_in_a_worker(html)
    assert measured["title"] == pages.TITLE and pages.LAST_SENTENCE in measured["text"]
    assert measured["notes"] is None  # read whole: nothing capped
    assert measured["peak"] < WORKER_MB, measured["peak"]


def test_an_article_inside_deep_nesting_keeps_its_headline_and_paragraphs_apart(pages_crawl: Crawl) -> None:
    """Case 13: inside 50,000 nested <div>s, after 100,000 unclosed <em>, inside 1,000 <div>s."""
    for path in ("/news/nested-divs.html", "/news/unclosed-em.html", "/news/nested-divs-1000.html"):
        assert_whole_article(pages_crawl.records[path])
    assert pages_crawl.summary["stats"]["news/extract/markup_flattened"] == 3


def test_an_article_behind_a_huge_image_or_near_limit_scripts_is_within_the_parse_window(
    pages_crawl: Crawl,
) -> None:
    """Risk: 3.5 MB of inline data: image, or four scripts just under the JSON-LD limit, before the
    article push it past the 3,000,000 characters parsed; what is never text goes first."""
    for path in ("/news/data-image.html", "/news/near-limit-scripts.html"):
        assert_whole_article(pages_crawl.records[path])
    assert "news/extract/html_truncated" not in pages_crawl.summary["stats"]


def test_utf16_without_a_byte_order_mark_is_read_whatever_the_header_says(pages_crawl: Crawl) -> None:
    """Risk: UTF-16 (little- and big-endian) without a BOM, declared UTF-8, was dropped as binary."""
    for path in ("/news/utf-16-le.html", "/news/utf-16-be.html"):
        record = pages_crawl.records[path]
        assert_whole_article(record)
        assert record["authors"] == ["Jane Doe"]
    assert pages_crawl.summary["dropped"] == {}
    # and pages that merely hold NUL bytes are not taken for UTF-16
    text = "Fähre, 東京 " * 50
    assert decode_body(text.encode("utf-16-le"), "utf-8") == (text, "utf_16_le")
    assert decode_body(text.encode("utf-16-be"), "utf-8") == (text, "utf_16_be")
    assert decode_body(b"<p>a\x00b</p>" * 100, "utf-8")[1] == "utf_8"


def test_a_tag_of_thousands_of_attributes_keeps_its_first_256() -> None:
    """libxml2 compares each attribute of a tag with all those before it: 40,000 attributes in one
    tag took 12 s of CPU to parse, 300,000 (2.9 MB) minutes, with the page's tree in memory."""
    attributes = " ".join(f"data-a{n}=1" for n in range(30_000))
    html = pages.article(before=f"<div {attributes}>a box</div>")
    page = Page("http://127.0.0.1/news/attributes.html", html.encode(), datetime.now(UTC), "s")
    box = page.tree.xpath("//div[text()='a box']")[0]
    assert len(box.attrib) == 256 and box.get("data-a0") == "1" and box.get("data-a255") == "1"
    assert page.notes == ["nodes_capped"]
    assert [h1.text for h1 in page.tree.iter("h1")] == [pages.TITLE]
