"""Per-page CPU of our extraction step against bare trafilatura, page by page, in one process.

    .venv/bin/python -m bench.cpu                     # every devcorpus page, 3 rounds, the table
    .venv/bin/python -m bench.cpu --profile 40        # plus cProfile's top 40 of our step
    .venv/bin/python -m bench.cpu --records out.jsonl # plus every record, to compare two trees

For each page of the development corpora (../shared/devcorpus), what one extraction worker
does with it (``pipelines.work.analyse``: parse, extract, dates) and what
``trafilatura.bare_extraction(html, url=..., with_metadata=True)`` does, timed with the
process's CPU clock, one right after the other on the same bytes, so that noise from the
rest of the machine hits both alike. Each round runs every page once; a page's figure is
its median over the rounds. Printed: the medians per page, the ratio of the sums (what a
crawl pays), and on how many pages ours costs more; with more than one round, the same for the
first round alone (caches cold, as in a crawl, where each page brings new date strings and
class names). A benchmark, not a test.

``--records`` writes each page's record (or drop) as one JSON line, without the fetch
time, so that two versions of the code can be compared byte for byte on the same pages.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEVCORPUS = REPO.parent / "shared" / "devcorpus"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # fixed: a record must not depend on when it is made


def load_pages(root: Path, limit: int = 0) -> list[tuple[str, str, bytes]]:
    """(corpus, URL, HTML bytes) of every page of the corpora under ``root``."""
    pages: list[tuple[str, str, bytes]] = []
    for folder in sorted(child for child in root.iterdir() if (child / "truth.jsonl").is_file()):
        lines = [line for line in (folder / "truth.jsonl").read_text(encoding="utf-8").split("\n") if line]
        for line in lines[: limit or None]:
            truth = json.loads(line)
            url = truth.get("url") or f"http://127.0.0.1/real/{folder.name}/{truth['id']}-article.html"
            pages.append((folder.name, url, gzip.decompress((folder / truth["page"]).read_bytes())))
    return pages


def _ours() -> Any:
    from scrapy.http import HtmlResponse  # noqa: PLC0415

    from crawler.pages.page import Page  # noqa: PLC0415
    from pipelines.dates import DatesConfig  # noqa: PLC0415
    from pipelines.extraction.article import ExtractOptions  # noqa: PLC0415
    from pipelines.work import PagePayload, WorkOptions, analyse, init_worker  # noqa: PLC0415

    init_worker(WorkOptions(ExtractOptions(), DatesConfig()))

    def payload(url: str, body: bytes) -> PagePayload:
        # as our spider makes the page: the encoding Scrapy finds for text/html without a charset
        encoding = HtmlResponse(url, body=body, headers={"Content-Type": "text/html"}).encoding
        page = Page(url=url, body=body, fetched_at=FETCHED_AT, source="bench", declared_encoding=encoding)
        return PagePayload.of(page)

    return payload, analyse


def _bare(url: str, body: bytes) -> None:
    import trafilatura  # noqa: PLC0415

    trafilatura.bare_extraction(body, url=url, include_comments=False, with_metadata=True)


def table(
    pages: list[tuple[str, str, bytes]],
    ours: list[list[float]],
    bare: list[list[float]],
    rounds: int,
    *,
    first_only: bool = False,
) -> None:
    """Per corpus: the median CPU per page of each side, the ratio of the sums, and on how many
    pages ours costs more. ``first_only``: the first round alone, when every cache (dateparser's,
    trafilatura's) meets each page's strings for the first time, as a crawl does."""
    pick = (lambda times: times[0]) if first_only else statistics.median
    mine = [pick(times) * 1000 for times in ours]
    theirs = [pick(times) * 1000 for times in bare]
    which = "the first round only" if first_only else f"medians of {rounds} round(s)"
    print(f"{len(pages)} pages, {which}, CPU ms per page\n")
    print(f"{'':12} {'ours':>8} {'bare':>8} {'sum ratio':>10} {'ours dearer':>12}")
    for corpus in [None, *sorted({corpus for corpus, _, _ in pages})]:
        chosen = [n for n, (name, _, _) in enumerate(pages) if corpus in (None, name)]
        a, b = [mine[n] for n in chosen], [theirs[n] for n in chosen]
        dearer = sum(x > y for x, y in zip(a, b, strict=True))
        print(
            f"{corpus or 'all':12} {statistics.median(a):8.1f} {statistics.median(b):8.1f} "
            f"{sum(a) / sum(b):10.3f} {dearer:7d} of {len(chosen)}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, action="append", help=f"a folder of corpora (repeatable; default {DEVCORPUS})"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="the first N pages of each corpus")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile's top N of our step")
    parser.add_argument("--profile-file", type=Path, help="and the raw profile here (pstats)")
    parser.add_argument("--records", type=Path, help="write each page's record here (JSON lines)")
    args = parser.parse_args(argv)
    pages = [page for root in args.corpus or [DEVCORPUS] for page in load_pages(root, args.limit)]
    make_payload, analyse = _ours()
    payloads = [make_payload(url, body) for _, url, body in pages]
    _bare(pages[0][1], pages[0][2])  # trafilatura's data loaded before timing, as ours is by init_worker
    ours: list[list[float]] = [[] for _ in pages]
    bare: list[list[float]] = [[] for _ in pages]
    clock = time.process_time
    for _ in range(args.rounds):
        for n, ((_, url, body), payload) in enumerate(zip(pages, payloads, strict=True)):
            start = clock()
            analyse(payload)
            middle = clock()
            _bare(url, body)
            end = clock()
            ours[n].append(middle - start)
            bare[n].append(end - middle)
    if args.rounds:
        table(pages, ours, bare, args.rounds)
    if args.rounds > 1:
        print()
        table(pages, ours, bare, args.rounds, first_only=True)
    if args.records:
        with args.records.open("w", encoding="utf-8") as out:
            for payload in payloads:
                record = analyse(payload)
                record.pop("fetched_at", None)
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for payload in payloads:
            analyse(payload)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
        if args.profile_file:
            stats.dump_stats(args.profile_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
