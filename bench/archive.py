"""Web archives: reading WARC files with warcio against FastWARC, and `news-ingest archive` against
bare trafilatura with metadata in two processes, on the same real pages, in one run.

    .venv/bin/python -m bench.archive                      # the devcorpus pages, once each
    .venv/bin/python -m bench.archive --repeat 30          # the memory check: a long stream of records

The devcorpus pages (../shared/devcorpus, or --corpus DIR ...) are written as one gzipped WARC file
of HTTP responses (``text/html`` without a charset, as bench/run.py serves them), then:
- reading: every record of the file read and its payload taken, with warcio and with FastWARC
  (median of 3 passes each, one process; nothing else runs);
- (t2) bare trafilatura with metadata in two processes over the same pages (bench/run.py's);
- (arc) `news-ingest archive` over the file, on the default worker pool, with a fresh output and state.
Each repeat of ``--repeat`` is the whole corpus again under new URLs (our pipeline extracts each
and drops the copies as duplicate_content); the tree's memory at each tenth of the run shows
whether it grows with the records read. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from bench.run import REPO, build_real_site, corpus_folders, limit, real_pages, run_measured

DEFAULT_CORPUS = REPO.parent / "shared" / "devcorpus"


def write_warc(target: Path, site: Path, paths: list[str], repeat: int) -> int:
    """One gzipped WARC of the pages; returns its size in bytes."""
    from warcio.statusandheaders import StatusAndHeaders  # noqa: PLC0415
    from warcio.warcwriter import WARCWriter  # noqa: PLC0415

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(target, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for copy in range(repeat):
            for path in paths:
                body = (site / path.lstrip("/")).read_bytes()
                url = f"http://127.0.0.1{path}" + (f"?copy={copy}" if copy else "")
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                writer.write_record(
                    writer.create_warc_record(
                        url, "response", payload=BytesIO(body), http_headers=headers,
                        warc_headers_dict={"WARC-Date": now},
                    )
                )  # fmt: skip
    return target.stat().st_size


def read_warcio(path: Path) -> tuple[int, int]:
    from warcio.archiveiterator import ArchiveIterator  # noqa: PLC0415

    records = payload = 0
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                records += 1
                payload += len(record.content_stream().read())
    return records, payload


def read_fastwarc(path: Path) -> tuple[int, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: PLC0415

    records = payload = 0
    for record in ArchiveIterator(
        str(path), record_types=WarcRecordType.response, auto_decode="all", fsspec_args=False
    ):
        records += 1
        payload += len(record.reader.read())
    return records, payload


def timed(read: object, path: Path, passes: int = 3) -> tuple[float, tuple[int, int]]:
    seconds, found = [], (0, 0)
    for _ in range(passes):
        started = time.process_time()
        found = read(path)  # type: ignore[operator]
        seconds.append(time.process_time() - started)
    return statistics.median(seconds), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus", action="append", type=Path, help="corpus folders (default: ../shared/devcorpus)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="the corpus this many times, under new URLs")
    parser.add_argument("--skip-limit", action="store_true", help="no (t2) run: the memory check alone")
    args = parser.parse_args(argv)
    folders = corpus_folders(args.corpus or [DEFAULT_CORPUS])
    pages = real_pages(folders, None)
    site = REPO / "bench" / "site-real"
    paths = build_real_site(site, pages)
    with tempfile.TemporaryDirectory(prefix="news-bench-archive-") as tmp:
        work = Path(tmp)
        warc = work / "real.warc.gz"
        size = write_warc(warc, site, paths, args.repeat)
        total = len(paths) * args.repeat
        print(
            f"{total} pages ({len(paths)} distinct) in one WARC file of {size / 2**20:.1f} MB (gzip)",
            flush=True,
        )
        if args.repeat == 1:
            warcio_s, found = timed(read_warcio, warc)
            fastwarc_s, found_fast = timed(read_fastwarc, warc)
            assert found == found_fast, (found, found_fast)
            print(
                f"reading ({found[0]} responses, {found[1] / 2**20:.0f} MB of payload), CPU s, median of 3: "
                f"warcio {warcio_s:.2f}, FastWARC {fastwarc_s:.2f} ({warcio_s / fastwarc_s:.1f}x)",
                flush=True,
            )
        results = []
        if not args.skip_limit:
            results.append(limit(site, paths, 2, work, bare=True))
        env_run = [
            str(Path(sys.executable).parent / "news-ingest"), "archive", str(warc),
            "-s", f"NEWS_OUTPUT={work / 'out'}", "-s", f"NEWS_STATE={work / 'state.sqlite'}",
            "-s", "NEWS_SOURCES=/nonexistent.toml", "-s", "LOG_LEVEL=WARNING",
        ]  # fmt: skip
        ours, _ = run_measured("(arc) news-ingest archive", env_run, total)
        results.append(ours)
        print(f"\n{'':40} {'pages/s':>9} {'CPU s/page':>11} {'peak PSS MB':>12}")
        for result in results:
            print(
                f"{result.name:40} {result.pages_per_second:9.1f} {result.cpu / result.pages:11.4f} "
                f"{result.peak_rss_mb:12.0f}"
            )
        print(f"\n(arc) tree PSS MB at each tenth of the run: {ours.memory_profile()}")
        if not args.skip_limit:
            print(f"(arc)/(t2): {ours.pages_per_second / results[0].pages_per_second:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
