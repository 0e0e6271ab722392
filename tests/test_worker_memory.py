"""A worker keeps nothing of the pages it has extracted: the lxml elements alive after 30 pages
are no more than after 6. Caches hold plain strings, never libxml2's strings, which keep their
element, and with it the whole page, alive."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from crawler.pages.page import Page
from pipelines.dates import DatesConfig
from pipelines.extraction.article import ExtractOptions
from pipelines.work import PagePayload, WorkOptions, analyse, init_worker

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted((REPO / "demo" / "site").rglob("*.html"))


def _elements_alive() -> int:
    gc.collect()
    return sum(isinstance(o, etree._Element) for o in gc.get_objects())


def _extract(files: list[Path]) -> None:
    for file in files:
        page = Page(
            url=f"http://demo.news.test/{file.relative_to(REPO / 'demo' / 'site')}",
            body=file.read_bytes(),
            fetched_at=datetime(2024, 5, 1, tzinfo=UTC),
            source="demo",
        )
        analyse(PagePayload.of(page))


def test_what_a_worker_keeps_does_not_grow_with_the_pages_it_extracts() -> None:
    assert len(PAGES) >= 30
    init_worker(WorkOptions(ExtractOptions(), DatesConfig()))
    _extract(PAGES[:6])
    after_a_few = _elements_alive()
    _extract(PAGES[6:30])
    assert _elements_alive() <= after_a_few
