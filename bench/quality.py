"""Record quality on real pages with ground truth: ours against bare trafilatura and htmldate.

    make quality
    .venv/bin/python -m bench.quality --corpus ../shared/devcorpus/wcxb --show title

Runs the extract and dates steps (the crawl's own code, default settings) over
every page of one or more corpora in the ``truth.jsonl`` format (see
``../shared/devcorpus/README.md``), and the same pages through bare trafilatura
(``bare_extraction(include_comments=False, with_metadata=True)``) and htmldate
(``find_date(extensive_search=True, original_date=True)``); prints one table.

Metrics, per corpus:
- body: word 4-gram shingle precision and recall per page, averaged over the pages
  with a full true body; F1 of the two averages (scrapinghub's
  article-extraction-benchmark). A dropped page is an empty prediction.
- title exact: equal after folding Unicode compatibility forms, white space and case,
  typographic quotes to ASCII ones (annotators type straight ones) and soft hyphens out.
- title fair: equal after folding punctuation and quotes too, or both the truth and the
  prediction among the page's own headline forms (its h1, og:title, JSON-LD headline,
  <title>...: corpora differ on which is the title); title clear errors: a prediction
  that is none of them, or none at all (bench/titles.py).
- authors: the words of the predicted names against the words of the true names;
  a page counts when word precision and recall are both at least 0.8.
- date: ``published_date`` is the true day. A true date with an offset accepts its
  local day and its UTC day; a true UTC instant (its local zone lost upstream; these
  corpora are of US sites) accepts its UTC day, its day in US time (UTC-4 to UTC-8), and
  the day it starts in a zone where it is local midnight (a converted date-only value).
  Precision is over the pages where a date was given.
- dropped: pages that came out as no record, by reason (every page here is an article).

trafilatura's and htmldate's results do not change with our code: they are cached
under bench/.cache/ by library version and page hash. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.titles import clear_error, fair_match, headline_forms

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = REPO.parent / "shared" / "devcorpus"
CACHE = REPO / "bench" / ".cache"
# a page without a crawl date is read as if fetched now: what a crawl of it would see
DEFAULT_FETCHED_AT = datetime(2026, 12, 1, tzinfo=UTC)

_TOKEN = re.compile(r"\w+")


# --- metrics --------------------------------------------------------------------


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i : i + n]) for i in range(max(0, len(tokens) - n + 1)))


def body_precision_recall(truth: str, predicted: str) -> tuple[float, float]:
    """Word 4-gram shingle precision and recall of one page (article-extraction-benchmark)."""
    true_counts, pred_counts = shingles(truth), shingles(predicted)
    tp = sum((true_counts & pred_counts).values())
    fp = sum((pred_counts - true_counts).values())
    fn = sum((true_counts - pred_counts).values())
    if fp == fn == 0:
        return 1.0, 1.0
    if tp == 0:
        return 0.0, 0.0
    return tp / (tp + fp), tp / (tp + fn)


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# typographic quotes as their ASCII forms; characters that show as nothing removed
_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ad": None,
        "\u200b": None,
    }
)


def fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", (text or "").translate(_FOLD)).split()).casefold()


def title_match(truth: str, predicted: str | None) -> bool:
    return bool(predicted) and fold(truth) == fold(predicted)


def _words(names: list[str]) -> list[str]:
    return _TOKEN.findall(fold(" ".join(names)))


def authors_match(truth: list[str], predicted: list[str]) -> bool:
    true_words, pred_words = Counter(_words(truth)), Counter(_words(predicted))
    if not true_words or not pred_words:
        return not true_words and not pred_words
    common = sum((true_words & pred_words).values())
    return common / sum(pred_words.values()) >= 0.8 and common / sum(true_words.values()) >= 0.8


def accepted_days(published: str, kind: str | None) -> set[date]:
    """The calendar days that count as right for a true publication date."""
    value = published.strip().replace("Z", "+00:00")
    if not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return set()  # a month ("2015-11") names no day
    if kind == "date" or len(value) == 10:
        return {date.fromisoformat(value[:10])}
    moment = datetime.fromisoformat(value)
    days = {moment.date()}
    if moment.tzinfo is not None:
        days.add(moment.astimezone(UTC).date())
        if kind == "utc_instant":
            # the zone was lost upstream: the day in US time (these corpora are of US sites),
            # and the local day where the instant is a local midnight (a date-only value that
            # the upstream converted from the publisher's zone: 2019-04-03T15:00Z is 4 April in Tokyo)
            days |= {(moment - timedelta(hours=hours)).date() for hours in (4, 8)}
            for quarter in range(-12 * 4, 14 * 4 + 1):
                local = moment + timedelta(minutes=15 * quarter)
                if (local.hour, local.minute) == (0, 0):
                    days.add(local.date())
    return days


def date_match(truth: set[date], predicted: str | None) -> bool:
    if not predicted:
        return False
    try:
        return date.fromisoformat(predicted[:10]) in truth
    except ValueError:
        return False


# --- the systems ------------------------------------------------------------------


@dataclass
class Truth:
    corpus: str
    id: str
    url: str
    path: Path
    sha: str
    title: str | None
    authors: list[str]
    published: str | None
    published_kind: str | None
    body: str | None
    fetched_at: datetime

    @classmethod
    def load(cls, folder: Path) -> list[Truth]:
        rows = []
        with (folder / "truth.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                crawled = row.get("crawl_date")
                fetched = DEFAULT_FETCHED_AT
                if crawled:
                    fetched = datetime.fromisoformat(crawled)
                    fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
                rows.append(
                    cls(
                        corpus=folder.name,
                        id=row["id"],
                        # a page stored without its address gets a neutral one, the same for every system
                        url=row.get("url") or f"https://page.invalid/{folder.name}/{row['id']}",
                        path=folder / row["page"],
                        sha=row.get("page_sha256", ""),
                        title=row.get("title"),
                        authors=[a for a in row.get("authors") or [] if a],
                        # a true date flagged as a probable day/month swap upstream is not scored
                        published=None
                        if "published_after_crawl_date" in (row.get("flags") or [])
                        else row.get("published"),
                        published_kind=row.get("published_kind"),
                        body=row.get("body") if row.get("body_kind") == "full" else None,
                        fetched_at=fetched,
                    )
                )
        return rows


@dataclass
class Prediction:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    body: str = ""
    dropped: str | None = None  # the reason, when no record came out
    has_time: bool = False
    modified: str | None = None
    seconds: float = 0.0


_ours_ready = False
_overrides: dict[str, str] = {}


def ours(truth: Truth) -> Prediction:
    """The record our extract and dates steps make of the page, with the crawl's default settings."""
    global _ours_ready  # noqa: PLW0603 - per-process set-up
    from crawler.pages.page import Page  # noqa: PLC0415 - imported in the worker
    from pipelines.work import PagePayload, WorkOptions, analyse, init_worker  # noqa: PLC0415

    if not _ours_ready:
        from scrapy.settings import Settings  # noqa: PLC0415

        init_worker(WorkOptions.from_settings(Settings({**_defaults(), **_overrides})))
        _ours_ready = True
    body = gzip.decompress(truth.path.read_bytes())
    page = Page(url=truth.url, body=body, fetched_at=truth.fetched_at, source=_host(truth.url))
    started = time.process_time()
    try:
        record = analyse(PagePayload.of(page))
    except Exception as exc:  # the crawl drops such a page as extract_error
        return Prediction(dropped=f"extract_error: {type(exc).__name__}")
    seconds = time.process_time() - started
    if "_drop" in record:
        reason, detail = record["_drop"]
        return Prediction(dropped=f"{reason}: {_detail_kind(detail)}", seconds=seconds)
    return Prediction(
        title=record["title"],
        authors=record["authors"],
        date=record["published_date"],
        body=record["text"],
        has_time=bool(record["published_at"]),
        modified=(record.get("modified_at") or "")[:10] or None,
        seconds=seconds,
    )


def page_forms(truth: Truth) -> set[str]:
    """The page's own headline forms (bench/titles.py)."""
    return headline_forms(gzip.decompress(truth.path.read_bytes()), truth.url)


def _defaults() -> dict[str, Any]:
    import settings.base  # noqa: PLC0415

    return {name: getattr(settings.base, name) for name in dir(settings.base) if name.isupper()}


def _detail_kind(detail: str) -> str:
    return re.sub(r"\d+", "N", detail)


def _host(url: str) -> str:
    from urllib.parse import urlsplit  # noqa: PLC0415

    return urlsplit(url).hostname or "-"


def baselines(truth: Truth) -> dict[str, Any]:
    """Bare trafilatura with metadata, and htmldate's extensive search, on the page."""
    from htmldate import find_date  # noqa: PLC0415
    from trafilatura import bare_extraction  # noqa: PLC0415

    html = gzip.decompress(truth.path.read_bytes())
    out: dict[str, Any] = {"id": truth.id, "sha": truth.sha}
    try:
        document = bare_extraction(html, url=truth.url, include_comments=False, with_metadata=True)
    except Exception:  # a library failure is an empty prediction
        document = None
    out["trafilatura"] = (
        {
            "title": document.title,
            "authors": [a.strip() for a in (document.author or "").split(";") if a.strip()],
            "date": document.date,
            "body": document.text or "",
        }
        if document is not None
        else None
    )
    try:
        out["htmldate"] = find_date(html, extensive_search=True, original_date=True, url=truth.url)
    except Exception:
        out["htmldate"] = None
    return out


def _versions() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return f"trafilatura-{version('trafilatura')}-htmldate-{version('htmldate')}"


def cached_baselines(pages: list[Truth], pool: Any) -> dict[str, dict[str, Any]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"baselines-{_versions()}.jsonl"
    known: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            known[f"{entry['id']}:{entry['sha']}"] = entry
    missing = [page for page in pages if f"{page.id}:{page.sha}" not in known]
    if missing:
        print(f"baselines: {len(missing)} pages not cached yet", file=sys.stderr)
        with path.open("a", encoding="utf-8") as out:
            for entry in pool.imap(baselines, missing, chunksize=4):
                known[f"{entry['id']}:{entry['sha']}"] = entry
                out.write(json.dumps(entry) + "\n")
    return {page.id: known[f"{page.id}:{page.sha}"] for page in pages}


# --- scoring ----------------------------------------------------------------------


@dataclass
class Score:
    body_p: float | None = None
    body_r: float | None = None
    title: float | None = None
    title_fair: float | None = None
    title_errors: int = 0
    titled: int = 0  # pages with a true title
    authors: float | None = None
    date: float | None = None
    date_precision: float | None = None
    dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def body_f1(self) -> float | None:
        if self.body_p is None or self.body_r is None:
            return None
        return f1(self.body_p, self.body_r)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def score(
    pages: list[Truth],
    predictions: list[Prediction | None],
    with_body: bool = True,
    forms: list[set[str]] | None = None,
) -> Score:
    """``forms``: each page's headline forms (bench/titles.py), for the fair title metric."""
    body_p, body_r, titles, authors, dates, dated = [], [], [], [], [], []
    fair, errors = [], 0
    for index, (truth, predicted) in enumerate(zip(pages, predictions, strict=True)):
        predicted = predicted or Prediction(dropped="none")
        if truth.body and with_body:
            precision, recall = body_precision_recall(truth.body, predicted.body)
            body_p.append(precision)
            body_r.append(recall)
        if truth.title:
            titles.append(title_match(truth.title, predicted.title))
            page_forms = forms[index] if forms is not None else set()
            fair.append(fair_match(truth.title, predicted.title, page_forms))
            errors += clear_error(truth.title, predicted.title, page_forms)
        if truth.authors:
            authors.append(authors_match(truth.authors, predicted.authors))
        days = accepted_days(truth.published, truth.published_kind) if truth.published else set()
        if days:
            right = date_match(days, predicted.date)
            dates.append(right)
            if predicted.date:
                dated.append(right)
    return Score(
        body_p=_mean(body_p),
        body_r=_mean(body_r),
        title=_mean(titles),
        title_fair=_mean(fair),
        title_errors=errors,
        titled=len(titles),
        authors=_mean(authors),
        date=_mean(dates),
        date_precision=_mean(dated),
        dropped=sum(1 for p in predictions if p is None or p.dropped),
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _errors(result: Score) -> str:
    return f"{result.title_errors} ({result.title_errors / max(1, result.titled):.1%})"


def table(results: dict[str, dict[str, Score]], sizes: dict[str, int]) -> str:
    rows = ["| corpus | metric | ours | trafilatura | htmldate |", "|---|---|---|---|---|"]
    for corpus, by_system in results.items():
        mine, traf, hdate = by_system["ours"], by_system["trafilatura"], by_system["htmldate"]
        label = f"{corpus} ({sizes[corpus]} pages)"
        lines = []
        if mine.body_f1 is not None:
            lines.append(
                (
                    "body F1 (P / R)",
                    f"{_fmt(mine.body_f1)} ({_fmt(mine.body_p)} / {_fmt(mine.body_r)})",
                    f"{_fmt(traf.body_f1)} ({_fmt(traf.body_p)} / {_fmt(traf.body_r)})",
                    "",
                )
            )
        lines += [
            ("title exact", _fmt(mine.title), _fmt(traf.title), ""),
            ("title fair", _fmt(mine.title_fair), _fmt(traf.title_fair), ""),
            ("title clear errors", _errors(mine), _errors(traf), ""),
            ("authors", _fmt(mine.authors), _fmt(traf.authors), ""),
            (
                "date (day) (precision)",
                f"{_fmt(mine.date)} ({_fmt(mine.date_precision)})",
                f"{_fmt(traf.date)} ({_fmt(traf.date_precision)})",
                f"{_fmt(hdate.date)} ({_fmt(hdate.date_precision)})",
            ),
            ("dropped", f"{mine.dropped} ({mine.dropped / sizes[corpus]:.1%})", str(traf.dropped), ""),
            ("date wrong, true day = our modified_at", str(mine.extra["modified_instead"]), "", ""),
            ("with published_at", f"{mine.extra['with_time']:.1%}", "", ""),
            ("ms per page (CPU, median)", f"{mine.extra['ms']:.1f}", "", ""),
        ]
        for metric, *values in lines:
            rows.append(f"| {label} | {metric} | " + " | ".join(values) + " |")
            label = ""
        reasons = ", ".join(f"{reason} {n}" for reason, n in mine.extra["drops"].most_common())
        if reasons:
            rows.append(f"| | drops by reason | {reasons} | | |")
    return "\n".join(rows)


def show(
    field_name: str,
    pages: list[Truth],
    predictions: list[Prediction],
    rival: list[Any],
    forms: list[set[str]],
) -> None:
    """The pages where ours is wrong on one field: for development. Titles: the fair misses,
    marked ``clear`` where ours is none of the page's headline forms, with those forms."""
    for truth, predicted, other, page_forms in zip(pages, predictions, rival, forms, strict=True):
        if field_name == "body-vs-trafilatura" and truth.body:
            mine = f1(*body_precision_recall(truth.body, predicted.body))
            theirs = f1(*body_precision_recall(truth.body, other.body if other else ""))
            if mine < theirs - 0.1:
                print(
                    f"{truth.corpus}/{truth.id}\tours={mine:.2f} trafilatura={theirs:.2f}\t{predicted.dropped or ''}"
                )
        if field_name == "dropped" and predicted.dropped:
            print(f"{truth.corpus}/{truth.id}\t{predicted.dropped}\t{truth.url}")
        elif (
            field_name == "title" and truth.title and not fair_match(truth.title, predicted.title, page_forms)
        ):
            clear = "clear" if clear_error(truth.title, predicted.title, page_forms) else "fair-miss"
            print(
                f"{truth.corpus}/{truth.id}\t{clear}\ttrue={truth.title!r}\tours={predicted.title!r}"
                f"\tforms={sorted(page_forms)!r}"
            )
        elif (
            field_name == "authors" and truth.authors and not authors_match(truth.authors, predicted.authors)
        ):
            print(f"{truth.corpus}/{truth.id}\ttrue={truth.authors!r}\tours={predicted.authors!r}")
        elif field_name == "date" and truth.published:
            days = accepted_days(truth.published, truth.published_kind)
            if days and not date_match(days, predicted.date):
                print(
                    f"{truth.corpus}/{truth.id}\ttrue={truth.published}\tours={predicted.date}\t{truth.url}"
                )
        elif field_name == "body" and truth.body:
            precision, recall = body_precision_recall(truth.body, predicted.body)
            if f1(precision, recall) < 0.8:
                print(
                    f"{truth.corpus}/{truth.id}\tP={precision:.2f} R={recall:.2f}\t{predicted.dropped or ''}"
                )


def corpora(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / "truth.jsonl").exists():
            found.append(path)
        else:
            found += sorted(sub for sub in path.iterdir() if (sub / "truth.jsonl").exists())
    return found


def evaluate(folders: list[Path], processes: int, limit: int = 0) -> tuple[str, dict[str, Any]]:
    """The table, and the per-page predictions behind it."""
    results: dict[str, dict[str, Score]] = {}
    sizes: dict[str, int] = {}
    details: dict[str, Any] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        for folder in folders:
            pages = Truth.load(folder)
            if limit:
                pages = pages[:limit]
            sizes[folder.name] = len(pages)
            mine = pool.map(ours, pages, chunksize=4)
            forms = pool.map(page_forms, pages, chunksize=8)
            base = cached_baselines(pages, pool)
            traf = [
                Prediction(**base[p.id]["trafilatura"]) if base[p.id]["trafilatura"] else None for p in pages
            ]
            hdate = [Prediction(date=base[p.id]["htmldate"]) for p in pages]
            with_body = any(page.body for page in pages)
            ours_score = score(pages, mine, with_body, forms)
            records = [p for p in mine if not p.dropped]
            ours_score.extra = {
                # a wrong day that is the page's update day: the truth took the date the page
                # shows, "Last updated ...", for the publication date
                "modified_instead": sum(
                    1
                    for truth, predicted in zip(pages, mine, strict=True)
                    if (days := accepted_days(truth.published or "", truth.published_kind))
                    and not date_match(days, predicted.date)
                    and date_match(days, predicted.modified)
                ),
                "drops": Counter(p.dropped for p in mine if p.dropped),
                "with_time": sum(p.has_time for p in records) / max(1, len(records)),
                "ms": 1000 * statistics.median([p.seconds for p in mine if p.seconds] or [0]),
            }
            results[folder.name] = {
                "ours": ours_score,
                "trafilatura": score(pages, traf, with_body, forms),
                "htmldate": score(pages, hdate, False),
            }
            details[folder.name] = (pages, mine, traf, forms)
    return table(results, sizes), details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus",
        action="append",
        help="a folder with truth.jsonl and pages/, or a folder of such folders "
        f"(default: {DEFAULT_CORPORA})",
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--setting", "-s", action="append", default=[], metavar="NAME=VALUE", help="a crawl setting for ours"
    )
    parser.add_argument("--limit", type=int, default=0, help="the first N pages of each corpus")
    parser.add_argument(
        "--show",
        choices=["title", "authors", "date", "body", "dropped", "body-vs-trafilatura"],
        help="also list the pages where ours is wrong on this field",
    )
    args = parser.parse_args(argv)
    folders = corpora(args.corpus or [str(DEFAULT_CORPORA)])
    if not folders:
        print(
            f"no corpus found (a folder with truth.jsonl): {args.corpus or DEFAULT_CORPORA}", file=sys.stderr
        )
        return 2
    _overrides.update(entry.split("=", 1) for entry in args.setting)
    started = time.monotonic()
    report, details = evaluate(folders, args.processes, args.limit)
    if args.show:
        for pages, predictions, rival, forms in details.values():
            show(args.show, pages, predictions, rival, forms)
    print(report)
    print(f"\n{sum(len(entry[0]) for entry in details.values())} pages in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
