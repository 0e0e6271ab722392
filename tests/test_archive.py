"""`news-ingest archive`: WARC files (written here with warcio from the demo site's real HTTP
responses, plus records that are no article: requests, warcinfo, metadata, an image, a PDF, a
404), read from a local HTTP server and from SeaweedFS in the CC-NEWS layout, a run killed
mid-file and run again. Every article becomes one record, none twice, with the fields a live
crawl of the same pages gives (except ``fetched_at`` and ``source``)."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from demo.server import SiteServer, running_site
from tests.crawling import REPO, article_crawl, crawl_env, read_parts, run_scrapy, run_summary, url_file
from tests.s3server import running_s3

NEWS_INGEST = Path(sys.executable).parent / "news-ingest"
MONTH = "crawl-data/CC-NEWS/2026/12"
NAMES = [f"CC-NEWS-20261205000000-0000{n}.warc.gz" for n in range(2)]
COMPARED_OUT = {"fetched_at", "source"}
LIVE_NOT_HTML = 0
DEVCORPUS = Path(__file__).parent / "pages" / "devcorpus"


def fetch(url: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET as an archiver records it: status, headers and body as they came."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", parts.path or "/")
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, list(response.getheaders()), body


def write_warc(
    path: Path, responses: list[tuple[str, int, list[tuple[str, str]], bytes]], extra: bool
) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests/test_archive.py"}))
        for url, status, headers, body in responses:
            target = urlsplit(url)
            request = StatusAndHeaders(
                f"GET {target.path} HTTP/1.1", [("Host", target.netloc)], is_http_request=True
            )
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
            reason = {200: "OK", 404: "Not Found", 301: "Moved Permanently"}.get(status, "OK")
            http_headers = StatusAndHeaders(f"{status} {reason}", headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=BytesIO(body), http_headers=http_headers,
                    warc_headers_dict={"WARC-Date": now},
                )
            )  # fmt: skip
            writer.write_record(
                writer.create_warc_record(url, "metadata", payload=BytesIO(b"fetchTimeMs: 12\n"))
            )
        if extra:  # responses that are no article page
            base = urlsplit(responses[0][0])
            host = f"{base.scheme}://{base.netloc}"
            for url, content_type, body in (
                (f"{host}/images/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
                (f"{host}/files/report.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(300)),
            ):
                http_headers = StatusAndHeaders(
                    "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
                )
                writer.write_record(
                    writer.create_warc_record(
                        url, "response", payload=BytesIO(body), http_headers=http_headers
                    )
                )


class ArchiveServer:
    """The WARC files over HTTP at /<MONTH>/<name>; ``stall`` holds the second half of one file."""

    def __init__(self, root: Path):
        self.root = root
        self.stall: str | None = None
        self.stalled = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/warc")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if server.stall and path.name == server.stall:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    server.stalled.set()
                    time.sleep(120)  # the rest never comes: the run is killed meanwhile
                    return
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def urls(self) -> list[str]:
        return [f"{self.base_url}/{MONTH}/{name}" for name in NAMES]


@pytest.fixture(scope="module")
def corpus(
    site: SiteServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, dict[str, dict]]]:
    """The two WARC files (the demo site's pages and twelve real pages of the development corpora,
    as fetched now) and the records a live crawl of the same pages wrote, by URL."""
    work = tmp_path_factory.mktemp("archive")
    demo = url_file(site.base_url, work / "demo-urls.txt")
    listed = [
        line.strip() for line in demo.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    # the real pages (tests/pages/devcorpus), served as they were stored, at article-shaped paths
    real = work / "real"
    for page in sorted(DEVCORPUS.glob("*/*.html.gz")):
        target = real / page.parent.name / (page.name.removesuffix(".html.gz") + "-article.html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress(page.read_bytes()))
    with running_site(real) as server:
        listed += [
            f"{server.base_url}/{path.relative_to(real).as_posix()}" for path in sorted(real.rglob("*.html"))
        ]
        urls = work / "urls.txt"
        urls.write_text("\n".join(listed) + "\n")
        fetched = [(url, *fetch(url)) for url in listed]
        live = run_scrapy(*article_crawl(urls, work / "live"))
    folder = work / "warc" / MONTH
    folder.mkdir(parents=True)
    half = len(fetched) // 2
    write_warc(folder / NAMES[0], fetched[:half], extra=True)
    write_warc(folder / NAMES[1], fetched[half:], extra=False)
    assert live.returncode in (0, 1), live.stderr[-3000:]  # the list holds pages that fail on purpose
    records = {record["url"]: record for record in read_parts(work / "live")}
    assert sum(url.endswith("-article.html") for url in records) >= 10  # most of the real pages
    assert len(records) >= 10
    global LIVE_NOT_HTML  # noqa: PLW0603 - what the live crawl of the same list dropped as not HTML
    LIVE_NOT_HTML = run_summary(work / "live")["dropped"].get("not_html", 0)
    yield work / "warc", records


def news_ingest(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NEWS_INGEST), "archive", *args], cwd=cwd, env=crawl_env(**env), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def comparable(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in COMPARED_OUT}


def assert_same_as_live(records: list[dict], live: dict[str, dict]) -> None:
    counts = Counter(record["url"] for record in records)
    assert [url for url, n in counts.items() if n > 1] == []  # none twice
    assert sorted(counts) == sorted(live)  # every article the live crawl wrote, no other page
    for record in records:
        expected = live[record["url"]]
        if record["published_at"] != expected["published_at"]:  # "3 hours ago": relative to fetched_at
            assert _age(record) == _age(expected), record["url"]
            record, expected = {**record, "published_at": None}, {**expected, "published_at": None}
        assert comparable(record) == comparable(expected), record["url"]
        assert record["source"] == "archive"


def _age(record: dict) -> float:
    def moment(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    return (moment(record["fetched_at"]) - moment(record["published_at"])).total_seconds()


def test_archives_over_http_killed_mid_file_and_run_again(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    root, live = corpus
    server = ArchiveServer(root)
    server.stall = NAMES[1]
    env = crawl_env(NEWS_STATE=str(tmp_path / "state.sqlite"), NEWS_OUTPUT=str(tmp_path / "out"))
    log = tmp_path / "first.log"
    process = subprocess.Popen(
        [str(NEWS_INGEST), "archive", *server.urls(), "-s", f"LOG_FILE={log}"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    first_done = f"Read {server.urls()[0]} to its end"
    try:
        assert server.stalled.wait(120), "the run never reached the second archive"
        deadline = time.monotonic() + 120
        while first_done not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline and process.poll() is None, "the first archive never ended"
            time.sleep(0.1)
        assert _open_records(tmp_path / "out") > 0
        os.killpg(process.pid, signal.SIGKILL)  # mid-file: half of the second archive read
    finally:
        process.wait(timeout=60)
    server.stall = None
    again = news_ingest(tmp_path, *server.urls(), NEWS_STATE=str(tmp_path / "state.sqlite"),
                        NEWS_OUTPUT=str(tmp_path / "out"))  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"Passing over {server.urls()[0]}: read to its end by an earlier run" in again.stderr
    assert_same_as_live(read_parts(tmp_path / "out"), live)
    summaries = [json.loads(path.read_text()) for path in (tmp_path / "out" / "_runs").glob("*.json")]
    (second,) = [summary for summary in summaries if summary["status"] == "ok"]
    assert second["stats"].get("news/archive/files_skipped_done") == 1
    third = news_ingest(tmp_path, *server.urls(), NEWS_STATE=str(tmp_path / "state.sqlite"),
                        NEWS_OUTPUT=str(tmp_path / "out"))  # fmt: skip
    assert third.returncode == 0 and "0 records written" in third.stderr, third.stderr[-3000:]


def _open_records(output: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in output.rglob(".*.inprogress")) + sum(
        len(path.read_bytes().splitlines()) for path in output.rglob("*.jsonl")
    )


def test_archives_from_s3_in_the_cc_news_layout(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    root, live = corpus
    with running_s3(tmp_path / "s3", "commoncrawl") as s3:
        client = s3.client()
        for name in NAMES:
            client.upload_file(str(root / MONTH / name), "commoncrawl", f"{MONTH}/{name}")
        # the month's index, as Common Crawl publishes it: the paths of its WARC files, gzipped
        index = "".join(f"{MONTH}/{name}\n" for name in NAMES).encode()
        client.put_object(Bucket="commoncrawl", Key=f"{MONTH}/warc.paths.gz", Body=gzip.compress(index))
        run = news_ingest(
            tmp_path, "--cc-news", "2026/12", "-s", "NEWS_CC_NEWS_BASE=s3://commoncrawl/",
            NEWS_OUTPUT=str(tmp_path / "out"), **s3.env(),
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        assert_same_as_live(read_parts(tmp_path / "out"), live)
        # the same files as a prefix of the bucket: the index is no WARC and is passed over
        again = news_ingest(
            tmp_path, f"s3://commoncrawl/{MONTH}/", NEWS_OUTPUT=str(tmp_path / "o2"), **s3.env()
        )
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(read_parts(tmp_path / "o2")) == len(live)
        summary = json.loads(next((tmp_path / "out" / "_runs").glob("*.json")).read_text())
        assert summary["dropped"].get("not_html") == LIVE_NOT_HTML + 2  # and the image and the PDF
        assert summary["stats"]["news/archive/files_read"] == 2


def test_filters_by_domain_language_and_day(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    root, live = corpus
    folder = str(root)
    other = news_ingest(tmp_path, folder, "--domain", "example.org", NEWS_OUTPUT=str(tmp_path / "a"))
    assert other.returncode == 0, other.stderr[-3000:]
    assert read_parts(tmp_path / "a") == []
    german = news_ingest(tmp_path, folder, "--language", "de", NEWS_OUTPUT=str(tmp_path / "b"))
    assert german.returncode == 0, german.stderr[-3000:]
    languages = {record["language"] for record in live.values()}
    assert "de" in languages and len(languages) > 1  # the demo site has German pages among others
    assert sorted(r["url"] for r in read_parts(tmp_path / "b")) == sorted(
        url for url, record in live.items() if record["language"] == "de"
    )
    later = news_ingest(tmp_path, folder, "--since", "2099-01-01", NEWS_OUTPUT=str(tmp_path / "c"))
    assert later.returncode == 0 and read_parts(tmp_path / "c") == [], later.stderr[-3000:]
    old = news_ingest(tmp_path, folder, "--published-until", "2024-12-31", NEWS_OUTPUT=str(tmp_path / "d"))
    published = {r["url"] for r in read_parts(tmp_path / "d")}
    assert published == {
        # as with max_age, an article whose date is unknown is kept: it may well be in the range
        url
        for url, r in live.items()
        if not r["published_date"] or r["published_date"] <= "2024-12-31"
    }, old.stderr[-3000:]


def test_a_missing_archive_stops_at_start(tmp_path: Path) -> None:
    run = news_ingest(tmp_path, str(tmp_path / "nowhere.warc.gz"))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr[-3000:]
    (line,) = [line for line in run.stderr.splitlines() if "cannot start" in line]
    assert line.endswith(f"archive: cannot start: {tmp_path / 'nowhere.warc.gz'}: no such file or folder"), (
        line
    )


def test_the_python_api_example_of_the_docs_runs_as_written(tmp_path: Path) -> None:
    readme = (REPO / "docs" / "how-to" / "web-archives.md").read_text(encoding="utf-8")
    marker = "<!-- tested: tests/test_archive.py (python-api) -->\n```python\n"
    start = readme.index(marker) + len(marker)
    code = readme[start : readme.index("\n```", start)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWS_")}
    env.pop("PYTHONPATH", None)
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    # read off the page: its h1, article:published_time 2023-09-04T08:15:00+01:00, "Jane Smith and Tom O'Neill"
    assert process.stdout.splitlines() == [
        "Harbour bridge reopens after two-year refit | 2023-09-04T07:15:00Z | Jane Smith, Tom O'Neill",
        "no record: not_article",
    ]


def test_a_month_of_cc_news_over_http(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    root, live = corpus
    index = "".join(f"{MONTH}/{name}\n" for name in NAMES).encode()
    (root / MONTH / "warc.paths.gz").write_bytes(gzip.compress(index))
    server = ArchiveServer(root)
    run = news_ingest(
        tmp_path, "--cc-news", "2026/12", "-s", f"NEWS_CC_NEWS_BASE={server.base_url}/",
        NEWS_OUTPUT=str(tmp_path / "out"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert_same_as_live(read_parts(tmp_path / "out"), live)
    missing = news_ingest(
        tmp_path, "--cc-news", "2026/11", "-s", f"NEWS_CC_NEWS_BASE={server.base_url}/",
        NEWS_OUTPUT=str(tmp_path / "o2"),
    )  # fmt: skip
    assert missing.returncode == 1, missing.stderr[-3000:]  # nothing could be read: a failed run
    assert "cannot read the index" in missing.stderr


def test_kept_pages_are_valid_warc_and_reprocess_into_the_same_records(
    site: SiteServer, tmp_path: Path
) -> None:
    urls = url_file(site.base_url, tmp_path / "urls.txt")
    crawl = run_scrapy(*article_crawl(urls, tmp_path / "out", "-s", "NEWS_WARC_OUTPUT=true"))
    assert crawl.returncode in (0, 1), crawl.stderr[-3000:]  # the list holds pages that fail on purpose
    records = read_parts(tmp_path / "out")
    assert len(records) >= 10
    # read as a third party reads them: warcio, every record's digest checked
    files = sorted((tmp_path / "out").glob("source=*/date=*/*.warc.gz"))
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, files)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert files and check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    responses: dict[str, dict[str, str]] = {}
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    responses.setdefault(path.relative_to(tmp_path / "out").as_posix(), {})[
                        record.rec_headers.get_header("WARC-Record-ID")
                    ] = record.rec_headers.get_header("WARC-Target-URI")
    assert sum(len(ids) for ids in responses.values()) == len(records)  # one response per article
    for record in records:
        assert responses[record["warc_file"]][record["warc_record_id"]] == record["url"]
    # an extractor upgrade applied without refetching: the same records, and then nothing more
    env = {"NEWS_OUTPUT": str(tmp_path / "again"), "NEWS_STATE": str(tmp_path / "again.sqlite")}
    first = subprocess.run([str(NEWS_INGEST), "reprocess", "--from", str(tmp_path / "out")], cwd=tmp_path,
                           env=crawl_env(**env), capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    again = {record["id"]: record for record in read_parts(tmp_path / "again")}
    assert again == {record["id"]: record for record in records}
    second = subprocess.run([str(NEWS_INGEST), "reprocess", "--from", str(tmp_path / "out")], cwd=tmp_path,
                            env=crawl_env(**env), capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert second.returncode == 0 and "0 records written" in second.stderr, second.stderr[-3000:]


def test_a_killed_writer_leaves_whole_warc_records_and_every_line_its_page(tmp_path: Path) -> None:
    from crawler.output.parts import PartWriter, recover_parts  # noqa: PLC0415

    writer = PartWriter(tmp_path, "run")
    pages = []
    for n in range(3):
        buffer = BytesIO()
        warc_writer = WARCWriter(buffer, gzip=True)
        record = warc_writer.create_warc_record(
            f"http://a.test/{n}", "resource", payload=BytesIO(b"page %d" % n)
        )
        warc_writer.write_record(record)
        pages.append((record.rec_headers.get_header("WARC-Record-ID"), buffer.getvalue()))
    for record_id, data in pages[:2]:
        writer.write(
            "p", lambda name, rid=record_id: json.dumps({"id": rid, "warc": name}).encode() + b"\n", warc=data
        )
    # the third page's records half written, and its line never: as a kill leaves them
    part = writer._open["p"]
    assert part.warc is not None
    part.warc.write(pages[2][1][: len(pages[2][1]) // 2])
    part.warc.flush()
    part.warc.close()  # the process dies: its files are closed, their locks gone
    part.stream.close()
    recover_parts(tmp_path)
    (warc,) = (tmp_path / "p").glob("*.warc.gz")
    with open(warc, "rb") as stream:
        ids = [record.rec_headers.get_header("WARC-Record-ID") for record in ArchiveIterator(stream)]
    assert ids == [pages[0][0], pages[1][0]]  # no half record
    lines = [json.loads(line) for line in next((tmp_path / "p").glob("*.jsonl")).read_text().splitlines()]
    assert [line["id"] for line in lines] == ids and {line["warc"] for line in lines} == {"p/" + warc.name}


def test_a_part_is_uploaded_after_the_warc_file_of_its_pages(tmp_path: Path) -> None:
    from crawler.output.tree import upload_order  # noqa: PLC0415

    folder = tmp_path / "source=a" / "date=2026-12-05"
    folder.mkdir(parents=True)
    part, pages = folder / "run-00000.jsonl", folder / "run-00000.warc.gz"
    part.write_text("{}\n")
    pages.write_bytes(b"warc")
    assert upload_order(part) == [pages, part]  # in one task: a failed WARC upload keeps the part back
    assert upload_order(pages) == []  # goes with its part
    part.unlink()
    assert upload_order(pages) == [pages]  # its part is in the bucket already
    summary = tmp_path / "_runs" / "run.json"
    assert upload_order(summary) == [summary]
