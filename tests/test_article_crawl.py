"""End to end: `scrapy crawl article` over the demo site, served on loopback."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest

from pipelines.validate import load_validator
from tests.crawling import EXPECTED, RELATIVE_DATE_PAGES, Crawl, comparable, run_scrapy

EXPECTED_FILES = sorted(EXPECTED.glob("*.json"))


def test_every_expected_page_was_written(demo_crawl: Crawl) -> None:
    assert sorted(demo_crawl.by_slug()) == sorted(path.stem for path in EXPECTED_FILES)


@pytest.mark.parametrize("expected_file", EXPECTED_FILES, ids=lambda path: path.stem)
def test_record_matches_the_change_detection_golden_file(demo_crawl: Crawl, expected_file) -> None:
    """Change detection: tests/expected/ is what the code printed (tests/regen_expected.py); the
    truth, written by a person from the pages, is checked by tests/test_truth.py."""
    record = demo_crawl.by_slug()[expected_file.stem]
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    actual = comparable(record, demo_crawl.base_url)
    for field in sorted(expected):
        assert actual.get(field) == expected[field], f"{expected_file.stem}: field {field!r} differs"
    assert set(actual) == set(expected)


def test_every_record_validates_against_the_schema_file(demo_crawl: Crawl) -> None:
    validator = load_validator()
    for record in demo_crawl.records:
        # docs/reference/record.md: `id` is the 128-bit BLAKE2b hash (hex) of `canonical_url`
        assert (
            record["id"]
            == hashlib.blake2b(record["canonical_url"].encode("utf-8"), digest_size=16).hexdigest()
        )
        errors = [error.message for error in validator.iter_errors(record)]
        assert not errors, (record["url"], errors)


def test_feed_export_gives_the_same_records(demo_crawl: Crawl) -> None:
    feed = [
        json.loads(line) for line in (demo_crawl.output.parent / "feed.jsonl").read_text("utf-8").splitlines()
    ]

    def key(record: dict) -> str:
        return record["url"]

    assert sorted(feed, key=key) == sorted(demo_crawl.records, key=key)


def test_drops_are_counted_with_their_reasons(demo_crawl: Crawl) -> None:
    summary = demo_crawl.summary
    # home, /world/ section, empty page, one-sentence stub
    assert summary["dropped"]["not_article"] == 4
    # PDF and PNG
    assert summary["dropped"]["not_html"] == 2
    assert summary["dropped"]["http_error"] == 1
    assert summary["stats"]["news/http_status/404"] == 1
    # the redirect loop
    assert summary["dropped"]["fetch_error"] == 1
    assert summary["records_written"] == len(EXPECTED_FILES)
    assert summary["stats"]["news/written"] == len(EXPECTED_FILES)
    log = demo_crawl.process.stderr
    for path, reason in (
        ("/", "not_article"),
        ("/world/", "not_article"),
        ("/broken/empty.html", "not_article"),
        ("/broken/stub.html", "not_article"),
        ("/files/annual-report.pdf", "not_html"),
        ("/images/press-photo.png", "not_html"),
        ("/missing-page.html", "http_error"),
        ("/loop/a", "fetch_error"),
    ):
        assert f"Dropped {demo_crawl.base_url}{path}: {reason}" in log, path


# demo/site/2023/09/04/harbour-bridge-reopens/index.html, div.entry-content
HARBOUR_BRIDGE_BLOCKS = [
    "The Saltings Bridge reopened to traffic at first light this morning, ending a two-year refit that "
    "forced thousands of commuters onto ferries and a lengthy detour around the inner harbour.",
    "The first vehicles to cross were a pair of council buses, followed by a long line of cyclists who had "
    "gathered at the eastern approach well before the barriers were lifted. Engineers from the main "
    "contractor, Marlow Civil, stayed on the deck throughout the morning to check the new expansion joints "
    "and the lighting system that now runs the full length of the span.",
    "The refit replaced almost all of the steel deck plates, strengthened the two main piers and added a "
    "protected cycle lane on the seaward side. The original cast-iron railings, which were taken away for "
    "restoration at a foundry inland, have been returned to their places along both footways.",
    "What has changed for road users",
    "Council transport officers said the most noticeable changes for people crossing the bridge would be:",
    "The project ran roughly four months behind schedule after divers found far more corrosion on the "
    "northern pier than early surveys had suggested. The final cost is expected to be close to £38 million, "
    "around £6 million above the original estimate, with the overrun shared between the council and the "
    "regional transport fund.",
    "Councillor Ruth Anand, who chairs the transport committee, said the delays had been frustrating but "
    'unavoidable. "We could have patched the pier and reopened sooner, but we would have been back here '
    'within a decade," she said. "Residents told us they wanted the job done properly, and that is what we '
    'have delivered."',
    "Traders hope for a return of passing trade",
    "Businesses on the western quay, several of which reported a sharp fall in custom while the bridge was "
    "shut, welcomed the reopening. The quay traders' association said it would hold a street market on the "
    "bridge approach next weekend to mark the occasion, with stalls, live music and guided walks along the "
    "restored footways.",
    "The temporary shuttle ferry that has carried foot passengers across the harbour will run a reduced "
    "service for another month before being withdrawn. Harbour officials said they would look closely at "
    "passenger numbers before deciding whether to keep a smaller vessel in service at peak times, as some "
    "regular users have asked.",
]
HARBOUR_BRIDGE_ITEMS = [
    "a 20mph speed limit across the full span;",
    "a segregated two-way cycle lane on the seaward side;",
    "wider footways, with new benches at both ends of the bridge;",
    "a warning system for the lifting section, linked directly to the harbour master's office.",
]


def test_no_boilerplate_in_the_wordpress_article(demo_crawl: Crawl) -> None:
    text = demo_crawl.by_slug()["2023__09__04__harbour-bridge-reopens"]["text"]
    for boilerplate in (
        "Leave a Reply",
        "Your email address will not be published",
        "Related Articles",
        "Back to top",
        "Share on Facebook",
        "Photo: Harbour Herald",  # the image caption
        "Read also",
        "newsletter",
        "Harbour bridge reopens after two-year refit",  # the title line
    ):
        assert boilerplate.lower() not in text.lower(), boilerplate
    # the body's blocks, from the page: its <p> (not the "Read also" line), its two <h2>, and its
    # list's four items, in the page's order, one paragraph each
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == len(HARBOUR_BRIDGE_BLOCKS) + len(HARBOUR_BRIDGE_ITEMS) == 14
    assert [p for p in paragraphs if not p.startswith("- ")] == HARBOUR_BRIDGE_BLOCKS
    assert [p.removeprefix("- ") for p in paragraphs if p.startswith("- ")] == HARBOUR_BRIDGE_ITEMS
    assert paragraphs.index("- " + HARBOUR_BRIDGE_ITEMS[0]) == 5  # after "... would be:"


def test_relative_date_is_resolved_against_fetch_time(demo_crawl: Crawl) -> None:
    (name,) = RELATIVE_DATE_PAGES
    record = demo_crawl.by_slug()[name]
    fetched = datetime.fromisoformat(record["fetched_at"].replace("Z", "+00:00"))
    published = datetime.fromisoformat(record["published_at"].replace("Z", "+00:00"))
    assert fetched - published == timedelta(hours=3)
    assert record["published_date"] == published.date().isoformat()
    assert record["date_source"] == "text"


def test_single_url_crawl_with_output_folder(site, tmp_path) -> None:
    url = f"{site.base_url}/business/tokyo-chipmaker-expansion.html"
    output = tmp_path / "out"
    process = run_scrapy(
        "crawl", "article", "-a", f"url={url}", "-a", "source=tokyo", "-s", f"NEWS_OUTPUT={output}"
    )
    assert process.returncode == 0, process.stderr[-2000:]
    parts = [p for p in output.rglob("*.jsonl") if not p.name.startswith(".")]
    assert len(parts) == 1
    date = parts[0].parent.name
    assert parts[0].parent.parent.name == "source=tokyo" and date.startswith("date=")
    (record,) = [json.loads(line) for line in parts[0].read_text("utf-8").splitlines()]
    assert record["source"] == "tokyo"
    assert record["published_at"] == "2023-09-04T05:32:10Z"  # 14:32:10+09:00
    assert record["published_date"] == "2023-09-04"
    assert date == "date=" + record["fetched_at"][:10]


def test_missing_urls_is_a_clear_error(tmp_path) -> None:
    process = run_scrapy("crawl", "article", "-s", f"NEWS_OUTPUT={tmp_path}")
    assert process.returncode != 0
    assert "give article URLs" in process.stderr


def test_components_off_by_design_log_no_warning(demo_crawl: Crawl) -> None:
    # a one-off crawl has no state, no progress bar on a pipe, loopback allowed: all by design
    stderr = demo_crawl.process.stderr
    assert "Disabled " not in stderr, [line for line in stderr.splitlines() if "Disabled " in line]
