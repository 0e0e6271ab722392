"""The quality harness, bench/quality.py: its metrics on hand-computed cases, and a run
of ``main`` over a tiny corpus of pages written for the tests (tests/pages/patterns/)."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bench import quality
from bench.quality import (
    Prediction,
    Truth,
    accepted_days,
    authors_match,
    body_precision_recall,
    fold,
    main,
    score,
    title_match,
)
from bench.titles import clear_error, fair_fold, fair_match, headline_forms

PAGES = Path(__file__).parent / "pages" / "patterns"

# --- body: word 4-gram shingles --------------------------------------------------------

TEN = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"


def test_identical_bodies_score_one_and_disjoint_ones_zero() -> None:
    assert body_precision_recall(TEN, TEN) == (1.0, 1.0)
    # case and punctuation are not words
    assert body_precision_recall(
        TEN, "Alpha, bravo; CHARLIE delta. Echo foxtrot golf hotel india juliet!"
    ) == (
        1.0,
        1.0,
    )
    assert body_precision_recall(TEN, "kilo lima mike november oscar papa") == (0.0, 0.0)
    assert body_precision_recall(TEN, "") == (0.0, 0.0)
    assert body_precision_recall("", "") == (1.0, 1.0)


def test_half_the_words_in_common() -> None:
    # ten words each, the last five of the truth first in the prediction: 7 shingles each,
    # 2 in common ("foxtrot golf hotel india", "golf hotel india juliet")
    predicted = "foxtrot golf hotel india juliet kilo lima mike november oscar"
    assert body_precision_recall(TEN, predicted) == pytest.approx((2 / 7, 2 / 7))


def test_a_cut_body_loses_recall_only() -> None:
    # the first five words: 2 shingles, both true; 5 of the truth's 7 missed
    assert body_precision_recall(TEN, "alpha bravo charlie delta echo") == pytest.approx((1.0, 2 / 7))


def test_a_repeated_body_is_counted_with_its_repeats() -> None:
    # the truth (2 shingles) twice over: 7 shingles, of which "alpha bravo charlie delta" and
    # "bravo charlie delta echo" once each are true; the repeats and 3 seam shingles are not
    truth = "alpha bravo charlie delta echo"
    assert body_precision_recall(truth, f"{truth} {truth}") == pytest.approx((2 / 7, 1.0))


# --- authors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    [
        (["Maria Keller"], ["Maria Keller"], True),
        (["Maria Keller"], ["MARIA  keller"], True),
        # half the true words: recall 0.5
        (["Maria Keller", "Tom Roe"], ["Maria Keller"], False),
        # 5 of 6 true words, none extra: recall 0.833
        (["Jean Paul Sartre", "Simone de Beauvoir"], ["Jean Paul Sartre", "Simone Beauvoir"], True),
        # one extra word in three: precision 0.667
        (["Maria Keller"], ["Maria Keller", "Staff"], False),
        # one extra word in five: precision 0.8, on the threshold
        (["Ana Lopez", "Tom Roe"], ["Ana Lopez", "Tom Roe", "AP"], True),
        # one raw author string (postlight) against the names split: recall 4/5, on the threshold
        (["Ana Lopez and Tom Roe"], ["Ana Lopez", "Tom Roe"], True),
        ([], [], True),
        ([], ["Maria Keller"], False),
        (["Maria Keller"], [], False),
    ],
)
def test_authors_match_on_word_precision_and_recall(
    truth: list[str], predicted: list[str], expected: bool
) -> None:
    assert authors_match(truth, predicted) is expected


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "kind", "days"),
    [
        ("2023-09-04", "date", {"2023-09-04"}),
        ("2023-09-04", None, {"2023-09-04"}),
        # a day-only truth: the time of day is not looked at
        ("2023-09-04T23:30:00-04:00", "date", {"2023-09-04"}),
        # local day and UTC day
        ("2023-09-04T23:30:00-04:00", "datetime_offset", {"2023-09-04", "2023-09-05"}),
        ("2023-09-04T10:00:00+02:00", "datetime_offset", {"2023-09-04"}),
        ("2023-09-04T23:30:00", "datetime_naive", {"2023-09-04"}),
        # UTC day 10th; 4 and 8 hours earlier the 9th; 03:40 is midnight nowhere (not a quarter hour)
        ("2021-03-10T03:40:00Z", "utc_instant", {"2021-03-10", "2021-03-09"}),
        # 15:00 UTC is midnight at UTC+9 (the 4th); at UTC-15 too, but that is no zone
        ("2019-04-03T15:00:00Z", "utc_instant", {"2019-04-03", "2019-04-04"}),
        # noon UTC: midnight at UTC+12 (the 11th) and at UTC-12 (the 10th itself)
        ("2021-03-10T12:00:00+00:00", "utc_instant", {"2021-03-10", "2021-03-11"}),
        # 02:00 UTC: the 9th in US time; midnight at UTC-2 is the 10th itself
        ("2021-03-10T02:00:00Z", "utc_instant", {"2021-03-10", "2021-03-09"}),
        ("2015-11", "date", set()),
    ],
)
def test_accepted_days(published: str, kind: str | None, days: set[str]) -> None:
    assert accepted_days(published, kind) == {date.fromisoformat(day) for day in days}


# --- titles ----------------------------------------------------------------------------------


def test_title_fold() -> None:
    assert fold("Council\u2019s \u201cnew\u201d budget") == 'council\'s "new" budget'
    assert fold("\u201eNeue\u201c Radwege") == '"neue" radwege'
    assert fold("Bud\u00adget vote\u200b today") == "budget vote today"
    assert fold("  The   BUDGET\n vote ") == "the budget vote"
    assert fold("\ufb01nal \uff21") == "final a"  # compatibility forms: a ligature, a full-width letter
    assert fold(None) == ""


def test_title_match() -> None:
    assert title_match("Council\u2019s budget", "Council's Budget")
    assert title_match("Budget", "Bud\u00adget")
    assert not title_match("Council budget", "Council budget vote")
    assert not title_match("Council budget", None)
    assert not title_match("", "")


# --- fair titles: the page's own headline forms (bench/titles.py) --------------------------------

HERALD = """<!doctype html><html><head>
<title>Harbour bridge reopens after refit | The Harbour Herald</title>
<meta property="og:site_name" content="The Harbour Herald">
<meta property="og:title" content="Harbour bridge reopens after two-year refit">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbour bridge reopens",
 "publisher": {"@type": "Organization", "name": "The Harbour Herald"}}</script>
</head><body>
<header><h1 class="logo">The Harbour Herald</h1><nav><h1>Menu</h1></nav></header>
<main><article><header><h1>Harbour bridge reopens after refit</h1></header>
<p>The Saltings Bridge reopened this morning.</p></article></main>
<aside><h1>Most read this week</h1></aside>
</body></html>"""

SECTION = """<html><head><title>Council approves a new budget for the harbour</title>
<meta property="og:title" content="Council approves a new budget for the harbour"></head>
<body><main><h1>Pulse</h1><p>The council approved the budget.</p></main></body></html>"""

BRAND_FIRST = """<html><head><title>Riverton Ledger – Council votes to close the library</title></head>
<body><p>The library closes in May.</p></body></html>"""


def test_headline_forms_are_the_pages_headlines_without_the_site_name() -> None:
    # read off the page: the article's h1, og:title, the JSON-LD headline, and <title> less its
    # "| The Harbour Herald"; not the logo, menu or sidebar h1s, nor the site name alone
    assert headline_forms(HERALD, "https://harbourherald.example/2023/09/04/bridge") == {
        "harbour bridge reopens after refit",
        "harbour bridge reopens after two year refit",
        "harbour bridge reopens",
    }


def test_a_section_label_is_no_headline_form() -> None:
    assert headline_forms(SECTION, "https://news.example/pulse/budget") == {
        "council approves a new budget for the harbour"
    }


def test_a_leading_site_name_named_by_the_host_is_taken_off() -> None:
    assert headline_forms(BRAND_FIRST, "https://www.rivertonledger.example/library") == {
        "council votes to close the library"
    }


def test_fair_title_match_and_clear_errors() -> None:
    forms = headline_forms(HERALD, "https://harbourherald.example/2023/09/04/bridge")
    truth = "Harbour bridge reopens after refit"  # the corpus took the h1
    # the page's og:title is as fair a title as its h1
    assert fair_match(truth, "Harbour bridge reopens after two-year refit", forms)
    assert not clear_error(truth, "Harbour bridge reopens after two-year refit", forms)
    # punctuation and quotes folded
    assert fair_fold("Bridge “reopens” – at last!") == "bridge reopens at last"
    assert fair_match("Council budget: what changes", "Council budget — what changes?", set())
    # the site name left in, the site name alone, a menu heading, no title: clear errors
    for wrong in (
        "Harbour bridge reopens after refit | The Harbour Herald",
        "The Harbour Herald",
        "Menu",
        None,
    ):
        assert not fair_match(truth, wrong, forms)
        assert clear_error(truth, wrong, forms)
    # a truth that is none of the page's forms is matched only by itself
    assert not fair_match("Bridge opens", "Harbour bridge reopens", forms)
    assert fair_match("Bridge opens", "bridge opens", forms)


# --- scoring ------------------------------------------------------------------------------------


def _truth(id_: str, **fields: Any) -> Truth:
    values: dict[str, Any] = {
        "corpus": "c",
        "id": id_,
        "url": f"https://news.example/{id_}",
        "path": Path("unused"),
        "sha": "",
        "title": None,
        "authors": [],
        "published": None,
        "published_kind": None,
        "body": None,
        "fetched_at": datetime(2023, 9, 5, tzinfo=UTC),
    }
    values.update(fields)
    return Truth(**values)


def test_score_counts_dates_over_the_pages_with_a_true_day_and_precision_over_the_dated() -> None:
    pages = [
        _truth("a", published="2023-09-04", published_kind="date", title="A"),
        _truth("b", published="2023-09-04", published_kind="date", title="B"),
        _truth("c", published="2023-09-04", published_kind="date"),
        _truth("d"),
    ]
    predictions: list[Prediction | None] = [
        Prediction(title="A", date="2023-09-04"),
        Prediction(title="x", date="2023-09-03"),
        Prediction(dropped="not_article: listing page"),
        None,
    ]
    result = score(pages, predictions)
    assert result.date == pytest.approx(1 / 3)
    assert result.date_precision == pytest.approx(1 / 2)
    assert result.title == pytest.approx(1 / 2)
    assert result.authors is None
    assert result.dropped == 2
    assert result.body_f1 is None


# --- a run over a tiny corpus ------------------------------------------------------------------

FERRY_BODY = "\n\n".join(
    [
        "The harbour ferry between Northfield and the island of Carrow will run every twenty minutes "
        "at peak times from next month, the transport authority said on Monday, after a summer of "
        "long queues at the pier.",
        "The new timetable adds four sailings in the morning and three in the evening.",
    ]
)


def _corpus(folder: Path) -> Path:
    """Four pages: an article with a (partial) true body, one with a true day and author, one
    whose true date is flagged as suspect, and a section page that the crawl drops."""
    (folder / "pages").mkdir(parents=True)
    rows = [
        {
            "id": "ferry",
            "url": "https://harbourgazette.example/local/ferry-timetable",
            "file": "ferry-timetable.html",
            "title": "Carrow ferry to sail every twenty minutes at peak times",
            "body": FERRY_BODY,
            "body_kind": "full",
        },
        {
            "id": "vote",
            "url": "https://rivertonledger.example/2021/03/09/council-votes-to-close-elm-street-library",
            "file": "library-branch-vote.html",
            "title": "Council votes to close the Elm Street library branch",
            "authors": ["Carla Jimenez"],
            "published": "2021-03-10T03:40:00Z",
            "published_kind": "utc_instant",
        },
        {
            "id": "gallery",
            "url": "https://eastbaychronicle.example/culture/old-customs-house-gallery-review",
            "file": "gallery-review.html",
            "title": "Review: a quiet triumph for the Old Customs House gallery",
            "authors": ["Maria Keller"],
            # a day/month swap upstream: not scored, or the date row would read 0.5
            "published": "2023-04-09",
            "published_kind": "date",
            "flags": ["published_after_crawl_date"],
        },
        {
            "id": "world",
            "url": "https://harbourgazette.example/world/",
            "file": "section-world.html",
            "title": "World news",
        },
    ]
    with (folder / "truth.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            packed = gzip.compress((PAGES / row.pop("file")).read_bytes())
            page = f"pages/{row['id']}.html.gz"
            (folder / page).write_bytes(packed)
            row |= {"page": page, "page_sha256": hashlib.sha256(packed).hexdigest()}
            row["crawl_date"] = "2023-09-05T12:00:00"
            out.write(json.dumps(row) + "\n")
    return folder


def test_truth_rows_are_read_as_the_corpus_readme_says(tmp_path: Path) -> None:
    pages = {truth.id: truth for truth in Truth.load(_corpus(tmp_path / "mini"))}
    assert list(pages) == ["ferry", "vote", "gallery", "world"]
    assert pages["ferry"].body == FERRY_BODY
    assert pages["vote"].body is None
    assert pages["gallery"].published is None, "flagged as a probable day/month swap"
    assert pages["vote"].fetched_at == datetime(2023, 9, 5, 12, 0, tzinfo=UTC)
    assert pages["world"].path == tmp_path / "mini" / "pages" / "world.html.gz"


def _row(report: str, label: str, metric: str) -> list[str]:
    """The cells of one row of the table: metric, ours, trafilatura, htmldate."""
    for line in report.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[1] == metric and (cells[0] == label or not label):
            return cells[1:]
    raise AssertionError(f"no row {metric!r} in\n{report}")


def test_main_runs_over_a_corpus_and_prints_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(quality, "CACHE", tmp_path / "cache")
    corpus = _corpus(tmp_path / "mini")
    assert main(["--corpus", str(corpus), "--processes", "1", "--show", "dropped"]) == 0
    out = capsys.readouterr().out
    assert "| mini (4 pages) | body F1 (P / R) |" in out
    assert "title exact" in out
    # three titles of four: the section page is dropped, and a dropped page has no title
    assert _row(out, "", "title exact")[1] == "0.750"
    # the same three are fair; the dropped page, with no title, is the one clear error
    assert _row(out, "", "title fair")[1] == "0.750"
    assert _row(out, "", "title clear errors")[1] == "1 (25.0%)"
    assert _row(out, "", "authors")[1] == "1.000"
    # one scored date (the flagged one is not), 2021-03-09 from the URL, a day of the UTC instant
    assert _row(out, "", "date (day) (precision)")[1] == "1.000 (1.000)"
    assert _row(out, "", "dropped")[1] == "1 (25.0%)"
    assert "| | drops by reason | not_article: " in out
    assert "mini/world\tnot_article: " in out
    assert "\thttps://harbourgazette.example/world/" in out
    assert "4 pages in" in out
    # the baselines were cached where the test put the cache
    assert list((tmp_path / "cache").glob("baselines-*.jsonl"))


def test_main_without_a_corpus_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--corpus", str(tmp_path)]) == 2
    assert "no corpus found" in capsys.readouterr().err
