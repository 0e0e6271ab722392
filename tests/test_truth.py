"""The demo crawl's records against tests/truth/demo_pages.toml: what a person reading each page says.

Unlike tests/expected/ (records printed by the code, for change detection), the truth was written from the
pages themselves, so a failure here may be a real extraction bug rather than a change. One test per page
and field group, so that a failure names both.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.crawling import URL_LIST, Crawl

TRUTH_FILE = Path(__file__).resolve().parent / "truth" / "demo_pages.toml"
TRUTH: dict[str, dict[str, Any]] = tomllib.loads(TRUTH_FILE.read_text(encoding="utf-8"))["pages"]
PAGES = sorted(TRUTH)
# TOML has no null: these strings stand for "the record's value is null" and "dated relative to the fetch".
NULL = "null"
RELATIVE = "relative"

by_page = pytest.mark.parametrize("page", PAGES)


def url_list_paths() -> list[str]:
    """The pages of demo/urls.txt, as paths without "{base}/"."""
    lines = URL_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip().removeprefix("{base}/") for line in lines if line.strip().startswith("{base}")]


def records_by_page(crawl: Crawl) -> dict[str, dict[str, Any]]:
    """The crawl's records keyed by their URL without the server's base URL and slash."""
    prefix = crawl.base_url + "/"
    return {record["url"].removeprefix(prefix): record for record in crawl.records}


@pytest.fixture(scope="module")
def records(demo_crawl: Crawl) -> dict[str, dict[str, Any]]:
    return records_by_page(demo_crawl)


def record_of(records: dict[str, dict[str, Any]], page: str) -> dict[str, Any]:
    assert page in records, f"{page}: no record (records for: {sorted(records)})"
    return records[page]


def expected_value(value: Any) -> Any:
    return None if value == NULL else value


def test_every_page_with_a_record_has_a_truth_entry_and_vice_versa(
    records: dict[str, dict[str, Any]],
) -> None:
    listed = url_list_paths()
    assert set(TRUTH) <= set(listed), (
        f"truth entries not in demo/urls.txt: {sorted(set(TRUTH) - set(listed))}"
    )
    produced = set(records)
    assert produced <= set(listed), (
        f"records for pages not in demo/urls.txt: {sorted(produced - set(listed))}"
    )
    assert sorted(produced) == sorted(TRUTH), (
        f"records without truth: {sorted(produced - set(TRUTH))}; "
        f"truth without record: {sorted(set(TRUTH) - produced)}"
    )


@by_page
def test_title(records: dict[str, dict[str, Any]], page: str) -> None:
    assert record_of(records, page)["title"] == TRUTH[page]["title"]


@by_page
def test_authors(records: dict[str, dict[str, Any]], page: str) -> None:
    assert record_of(records, page)["authors"] == TRUTH[page]["authors"]


@by_page
def test_language(records: dict[str, dict[str, Any]], page: str) -> None:
    assert record_of(records, page)["language"] == TRUTH[page]["language"]


@by_page
@pytest.mark.parametrize("field", ["published_date", "published_at"])
def test_dates(records: dict[str, dict[str, Any]], page: str, field: str) -> None:
    got = record_of(records, page)[field]
    expected = TRUTH[page][field]
    if expected == RELATIVE:
        assert got is not None, f"{field}: the page dates itself relative to the fetch, but got null"
    else:
        assert got == expected_value(expected)


@by_page
def test_text_starts_with_first_sentence(records: dict[str, dict[str, Any]], page: str) -> None:
    text = record_of(records, page)["text"]
    first = TRUTH[page]["first_sentence"]
    assert text.startswith(first), f"expected the text to start with {first!r}, got {text[:300]!r}"


@by_page
def test_text_ends_with_last_sentence(records: dict[str, dict[str, Any]], page: str) -> None:
    text = record_of(records, page)["text"]
    last = TRUTH[page]["last_sentence"]
    assert text.endswith(last), f"expected the text to end with {last!r}, got {text[-300:]!r}"


@by_page
def test_text_contains(records: dict[str, dict[str, Any]], page: str) -> None:
    text = record_of(records, page)["text"]
    missing = [snippet for snippet in TRUTH[page]["must_contain"] if snippet not in text]
    assert not missing, f"missing from the text: {missing}"


@by_page
def test_text_leaves_out_boilerplate(records: dict[str, dict[str, Any]], page: str) -> None:
    text = record_of(records, page)["text"]
    present = [snippet for snippet in TRUTH[page]["must_not_contain"] if snippet in text]
    assert not present, f"boilerplate in the text: {present}"
