"""Documented behaviours that had no test of their own: gzip and multipart S3 uploads, storage class and
server-side encryption, resumed uploads and recovered parts, NEWS_LOCK_FILE, NEWS_SUMMARY_ENABLED,
NEWS_VALIDATE_SCHEMA, NEWS_EXTRACT_MAX_PENDING, NEWS_PROGRESS, and the per-source DOWNLOAD_TIMEOUT and
DOWNLOAD_MAXSIZE. Real `scrapy` commands in subprocesses against servers on 127.0.0.1 and a real S3
(SeaweedFS, tests/s3server.py); the expected values come from the docs and the pages."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from demo.server import SiteServer, running_site
from tests.crawling import (
    REPO,
    crawl_env,
    kill_when,
    read_parts,
    run_in,
    run_scrapy,
    run_summary,
    scrapy_command,
    sources_file,
)
from tests.s3server import SeaweedS3, running_s3
from tests.test_operations import run_in_terminal

BUCKET = "news"
PAGES = Path(__file__).resolve().parent / "pages" / "documented_b"
SCHEMA = REPO / "schema" / "record.schema.json"
EXIT_LOCKED = 75
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with running_s3(tmp_path_factory.mktemp("seaweedfs-b"), BUCKET, hard_stop=True) as server:
        yield server


def objects_under(s3: SeaweedS3, prefix: str) -> dict[str, bytes]:
    return {key: body for key, body in s3.objects(BUCKET).items() if key.startswith(prefix + "/")}


def bundled_validator() -> Draft202012Validator:
    """The record schema file, read here (not through the product's loader)."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def long_report(number: int, paragraphs: int) -> str:
    """An article page of distinct sentences (no paragraph repeats, so nothing is deduplicated):
    about 230 bytes of markup and 225 characters of text a paragraph."""
    body = "\n".join(
        f"<p>Witness {number}-{i} told the inquiry that crane {i} at berth {i * 7 % 97} was last "
        f"inspected on day {i % 28 + 1} of volume {number}, and that the ferry timetable for pier {i % 13} "
        f"changed {i % 5} times before the storm, according to the minutes filed as exhibit {number}.{i}.</p>"
        for i in range(paragraphs)
    )
    template = (PAGES / "long-report.html").read_text("utf-8")
    return template.replace("{number}", str(number)).replace("{paragraphs}", body)


def generated_sources(site: SiteServer, target: Path, count: int) -> Path:
    text = f'[sources.bulk]\nstart_urls = ["{{base}}/generated/?count={count}"]\nmax_depth = 1\n'
    return sources_file(site.base_url, target, text)


# --- 1. gzip parts on S3 ------------------------------------------------------------------------

DEMO_PAGES = [
    "2023/09/04/harbour-bridge-reopens/",
    "sport/marathon-record.html",
    "tech/open-source-grid-software.html",
]


def test_gzip_parts_on_s3_are_jsonl_gz_objects_with_content_encoding(
    s3: SeaweedS3, site: SiteServer, tmp_path: Path
) -> None:
    urls = [f"{site.base_url}/{page}" for page in DEMO_PAGES]
    process = run_scrapy(
        "crawl", "article", "-a", "url=" + ",".join(urls),
        "-s", f"NEWS_OUTPUT=s3://{BUCKET}/gz", "-s", f"NEWS_SINK_SPOOL={tmp_path}/spool",
        NEWS_SINK_COMPRESS="gzip", **s3.env(),
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    keys = sorted(objects_under(s3, "gz"))
    parts = [key for key in keys if key.startswith("gz/source=")]
    # three records: one part (NEWS_SINK_MAX_ITEMS is 10,000), named .jsonl.gz; beside it the summary
    assert len(parts) == 1, keys
    assert re.fullmatch(r"gz/source=127\.0\.0\.1/date=\d{4}-\d{2}-\d{2}/[^/]+-00000\.jsonl\.gz", parts[0])
    summary_key = f"gz/_runs/{parts[0].rsplit('/', 1)[1].removesuffix('-00000.jsonl.gz')}.json"
    assert [key for key in keys if key not in parts] == [summary_key]
    client = s3.client()
    head = client.head_object(Bucket=BUCKET, Key=parts[0])
    assert head["ContentEncoding"] == "gzip"
    assert head["ContentType"] == "application/x-ndjson"
    raw = client.get_object(Bucket=BUCKET, Key=parts[0])["Body"].read()
    assert raw[:2] == b"\x1f\x8b" and len(raw) == head["ContentLength"]  # stored compressed
    records = [json.loads(line) for line in gzip.decompress(raw).decode("utf-8").splitlines()]
    assert sorted(record["url"] for record in records) == sorted(urls)
    validator = bundled_validator()
    for record in records:
        assert not [error.message for error in validator.iter_errors(record)], record["url"]
    summary_head = client.head_object(Bucket=BUCKET, Key=summary_key)
    assert summary_head["ContentType"] == "application/json" and "ContentEncoding" not in summary_head


# --- 2. multipart, storage class, server-side encryption -----------------------------------------

THRESHOLD = 5 * MIB  # S3's smallest part size: boto3 never makes chunks smaller than this


def test_a_part_over_the_multipart_threshold_goes_up_in_chunks_with_storage_class_and_sse(
    s3: SeaweedS3, tmp_path: Path
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    reports = 5
    for number in range(reports):  # about 1.4 MB of text each: one part of about 6.9 MB
        (root / f"report-{number}.html").write_text(long_report(number, 6000), "utf-8")
    with running_site(root) as site:
        urls = [f"{site.base_url}/report-{number}.html" for number in range(reports)]
        process = run_scrapy(
            "crawl", "article", "-a", "url=" + ",".join(urls), "-a", "source=reports",
            "-s", f"NEWS_OUTPUT=s3://{BUCKET}/multi", "-s", f"NEWS_SINK_SPOOL={tmp_path}/spool",
            NEWS_S3_MULTIPART_THRESHOLD=str(THRESHOLD), NEWS_S3_STORAGE_CLASS="STANDARD_IA",
            NEWS_S3_SSE="AES256", **s3.env(),
        )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    objects = objects_under(s3, "multi")
    (part,) = [key for key in objects if key.startswith("multi/source=reports/")]
    (summary_key,) = [key for key in objects if key.startswith("multi/_runs/")]
    client = s3.client()
    head = client.head_object(Bucket=BUCKET, Key=part)
    size = head["ContentLength"]
    assert THRESHOLD < size <= 2 * THRESHOLD, size
    # a multipart upload's ETag ends with "-<number of parts>": chunks of the threshold, so 2
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]
    # SeaweedFS keeps and reports both (it refuses an unknown storage class: InvalidStorageClass)
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    records = [json.loads(line) for line in objects[part].decode("utf-8").splitlines()]
    assert sorted(record["url"] for record in records) == sorted(urls)
    for record in records:
        number = int(record["url"].rsplit("-", 1)[1].removesuffix(".html"))
        assert f"exhibit {number}.0." in record["text"] and f"exhibit {number}.5999." in record["text"]
    # the run summary, small, went up in one request (no "-N") with the same storage class and SSE
    small = client.head_object(Bucket=BUCKET, Key=summary_key)
    assert "-" not in small["ETag"].strip('"')
    assert small["StorageClass"] == "STANDARD_IA" and small["ServerSideEncryption"] == "AES256"


def test_a_threshold_under_5_mib_gives_chunks_of_5_mib(s3: SeaweedS3, tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    for number in range(2):
        (root / f"report-{number}.html").write_text(long_report(number, 6000), "utf-8")
    with running_site(root) as site:
        urls = [f"{site.base_url}/report-{number}.html" for number in range(2)]
        process = run_scrapy(
            "crawl", "article", "-a", "url=" + ",".join(urls), "-a", "source=reports",
            "-s", f"NEWS_OUTPUT=s3://{BUCKET}/small-chunks", "-s", f"NEWS_SINK_SPOOL={tmp_path}/spool",
            NEWS_S3_MULTIPART_THRESHOLD=str(MIB), **s3.env(),
        )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    (part,) = [key for key in objects_under(s3, "small-chunks") if "/source=reports/" in key]
    head = s3.client().head_object(Bucket=BUCKET, Key=part)
    # docs/how-to/s3.md: chunks are the threshold's size, but never under S3's smallest part, 5 MiB
    chunks = -(-head["ContentLength"] // (5 * MIB))
    assert head["ContentLength"] > 2 * MIB and chunks == 1, head["ContentLength"]
    assert head["ETag"].strip('"').endswith(f"-{chunks}"), head["ETag"]


@contextmanager
def recording_proxy(upstream_port: int) -> Iterator[tuple[str, bytearray]]:
    """``http://127.0.0.1:<port>`` forwarding to ``upstream_port``, keeping every byte clients send."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent = bytearray()
    lock = threading.Lock()

    def pipe(source: socket.socket, target: socket.socket, record: bool) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                if record:
                    with lock:
                        sent.extend(chunk)
                target.sendall(chunk)
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", sent
    finally:
        listener.close()


KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_sse_kms_that_the_store_refuses_stops_the_run_with_one_line_and_exit_2(
    s3: SeaweedS3, site: SiteServer, tmp_path: Path
) -> None:
    """SeaweedFS (no KMS configured) answers a PUT with SSE-KMS with 500 InternalError. The run
    must stop at start as the docs say for an S3 output that S3 refuses: exit 2, one line naming
    the bucket and S3's answer, nothing fetched. What the client sent is read off the wire."""
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    before = len(site.requests)
    with recording_proxy(int(s3.endpoint.rsplit(":", 1)[1])) as (endpoint, sent):
        env = {**s3.env(), "AWS_ENDPOINT_URL": endpoint}
        process = run_scrapy(
            "crawlall",
            NEWS_SOURCES=str(sources),
            NEWS_OUTPUT=f"s3://{BUCKET}/kms",
            NEWS_STATE=str(tmp_path / "state" / "news.sqlite"),
            NEWS_S3_SSE="aws:kms",
            NEWS_S3_SSE_KMS_KEY_ID=KMS_KEY,
            NEWS_S3_MAX_ATTEMPTS="1",  # one attempt: a 500 would otherwise be retried with back-off
            **env,
        )
    wire = bytes(sent).decode("latin-1")
    put = re.search(r"^PUT /news/kms/_preflight/\S+ HTTP/1\.1\r\n(.*?)\r\n\r\n", wire, re.M | re.S)
    assert put, wire[:3000]
    headers = put.group(1).lower()
    assert "\r\nx-amz-server-side-encryption: aws:kms\r\n" in "\r\n" + headers + "\r\n"
    assert f"\r\nx-amz-server-side-encryption-aws-kms-key-id: {KMS_KEY.lower()}\r\n" in (
        "\r\n" + headers + "\r\n"
    )
    assert process.returncode == 2, process.stderr[-3000:]
    lines = [line for line in process.stderr.splitlines() if "cannot start" in line]
    assert len(lines) == 1, process.stderr[-3000:]
    assert "crawlall: cannot start: S3 refused s3://news/kms: InternalError" in lines[0]
    assert "Traceback" not in process.stderr
    assert len(site.requests) == before, "a page was fetched before the output was checked"
    assert not [key for key in s3.keys(BUCKET) if key.startswith("kms/")]


# --- 3. uploads_resumed and parts_recovered ----------------------------------------------------


def spool_parts(spool: Path) -> list[Path]:
    """Completed files in the spool (what waits for its upload)."""
    return sorted(p for p in spool.rglob("*") if p.is_file() and not p.name.startswith("."))


def open_parts(spool: Path) -> list[Path]:
    return sorted(spool.rglob(".*.inprogress"))


@contextmanager
def refused_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 and not listening: every connection to it is refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def test_a_killed_run_s_spool_is_resumed_and_its_open_part_recovered(s3: SeaweedS3, tmp_path: Path) -> None:
    count, prefix = 60, "resumed"
    spool = tmp_path / "state" / "spool" / BUCKET / prefix
    with refused_port() as dead, running_site(delay=0.2) as site:
        env = crawl_env(
            NEWS_SOURCES=str(generated_sources(site, tmp_path / "sources.toml", count)),
            NEWS_OUTPUT=f"s3://{BUCKET}/{prefix}",
            NEWS_STATE=str(tmp_path / "state" / "news.sqlite"),
            NEWS_SINK_MAX_ITEMS="4",
            NEWS_S3_MAX_ATTEMPTS="1",
            **s3.env(),
        )
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{dead}"  # S3 unreachable for the first run

        def with_lines(parts: list[Path]) -> list[Path]:
            return [part for part in parts if b"\n" in part.read_bytes()]

        kill_when(
            scrapy_command(
                "crawlall", "-s", "AUTOTHROTTLE_ENABLED=false", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"
            ),
            env,
            lambda: len(spool_parts(spool)) >= 2 and bool(with_lines(open_parts(spool))),
        )
        waiting, interrupted = spool_parts(spool), with_lines(open_parts(spool))
        assert not objects_under(s3, prefix), "the first run reached S3"
        site.delay = 0
        env["AWS_ENDPOINT_URL"] = s3.endpoint
        again = run_in(env, "crawlall")
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(waiting) >= 2 and len(interrupted) >= 1
    objects = objects_under(s3, prefix)
    (summary_key,) = [key for key in objects if key.startswith(f"{prefix}/_runs/")]
    stats = json.loads(objects[summary_key])["stats"]
    # the open part is completed from its whole lines, then uploaded with the completed ones
    assert stats["news/sink/parts_recovered"] == len(interrupted)
    assert stats["news/sink/uploads_resumed"] == len(waiting) + len(interrupted)
    for part in waiting + [p.with_name(p.name[1 : -len(".inprogress")]) for p in interrupted]:
        assert f"{prefix}/{part.relative_to(spool).as_posix()}" in objects, part
    urls = [
        json.loads(line)["url"]
        for key, body in objects.items()
        if key.endswith(".jsonl")
        for line in body.decode("utf-8").splitlines()
    ]
    assert len(urls) == len(set(urls)) == count
    assert spool_parts(spool) == [] and open_parts(spool) == []


# --- 4. NEWS_LOCK_FILE -------------------------------------------------------------------------


def test_runs_sharing_news_lock_file_exclude_each_other_whatever_their_state(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "crawl.lock"
    state_one, state_two = tmp_path / "one" / "news.sqlite", tmp_path / "two" / "news.sqlite"
    with running_site(delay=0.2) as site:
        common = {
            "NEWS_SOURCES": str(generated_sources(site, tmp_path / "sources.toml", 20)),
            "NEWS_LOCK_FILE": str(lock),
        }
        first = subprocess.Popen(
            scrapy_command("crawlall"),
            cwd=REPO,
            env=crawl_env(NEWS_OUTPUT=str(tmp_path / "out1"), NEWS_STATE=str(state_one), **common),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not (lock.exists() and lock.read_text().startswith("pid")):
                assert time.monotonic() < deadline and first.poll() is None, "the first run never locked"
                time.sleep(0.05)
            second = run_scrapy(
                "crawlall", NEWS_OUTPUT=str(tmp_path / "out2"), NEWS_STATE=str(state_two), **common
            )
            first_was_running = first.poll() is None
            site.delay = 0
            _, first_log = first.communicate(timeout=180)
        finally:
            if first.poll() is None:
                first.kill()
    assert first_was_running, "the first run ended before the second one had started"
    assert second.returncode == EXIT_LOCKED, second.stderr[-3000:]
    assert f"Another run holds {lock.resolve()} (pid {first.pid})" in second.stderr
    # nothing was done: no output, no state, no lock of its own beside its state
    assert not (tmp_path / "out2").exists() and not state_two.parent.exists()
    assert first.returncode == 0, first_log[-3000:]
    assert not Path(str(state_one) + ".lock").exists(), "the first run took the default lock"


# --- 5. NEWS_SUMMARY_ENABLED=false ---------------------------------------------------------------

DAILY_FRESH, DEMO_ARTICLES = 8, 12  # demo/sources.toml: tests/test_incremental.py, test_news_spider.FRESH


@pytest.fixture(scope="module")
def summary_off(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    work = tmp_path_factory.mktemp("summary-off")
    process = run_scrapy(
        "crawlall",
        NEWS_SOURCES=str(sources_file(site.base_url, work / "sources.toml")),
        NEWS_OUTPUT=str(work / "out"),
        NEWS_STATE=str(work / "state" / "news.sqlite"),
        NEWS_SUMMARY_ENABLED="false",
    )
    return process, work / "out"


def test_summary_off_writes_no_runs_folder_and_logs_no_summary(summary_off: tuple[Any, Path]) -> None:
    process, output = summary_off
    assert not (output / "_runs").exists()
    assert len(read_parts(output)) == DAILY_FRESH + DEMO_ARTICLES, process.stderr[-3000:]
    assert not re.search(r"Run \S+ (ok|failed|uploads_pending) \(", process.stderr)


def test_summary_off_still_exits_0_for_a_good_run(summary_off: tuple[Any, Path]) -> None:
    process, output = summary_off
    assert len(read_parts(output)) == DAILY_FRESH + DEMO_ARTICLES  # the run did go well
    assert process.returncode == 0, process.stderr[-3000:]


# --- 6. NEWS_VALIDATE_SCHEMA -------------------------------------------------------------------

# The headlines of these demo pages (their <h1>, as tests/truth/demo_pages.toml has them)
TITLES = {
    "2023/09/04/harbour-bridge-reopens/": "Harbour bridge reopens after two-year refit",
    "sport/marathon-record.html": "Local runner breaks marathon course record",
    "tech/open-source-grid-software.html": "Utilities turn to open-source grid software",
    "es/2023/09/04/puerto-nuevo-muelle.html": "El puerto estrena un nuevo muelle para grandes portacontenedores",
    "uk/2023/library-reopening.html": "Library reopens with longer hours and new children's wing",
}
MAX_TITLE = 50


def test_a_stricter_schema_drops_what_it_refuses_as_invalid_and_writes_the_rest(
    site: SiteServer, tmp_path: Path
) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    schema["properties"]["title"]["maxLength"] = MAX_TITLE
    strict = tmp_path / "strict.schema.json"
    strict.write_text(json.dumps(schema), "utf-8")
    too_long = {f"{site.base_url}/{page}" for page, title in TITLES.items() if len(title) > MAX_TITLE}
    fitting = {f"{site.base_url}/{page}" for page, title in TITLES.items() if len(title) <= MAX_TITLE}
    assert len(too_long) == 2 and len(fitting) == 3
    output = tmp_path / "out"
    process = run_scrapy(
        "crawl", "article", "-a", "url=" + ",".join(sorted(too_long | fitting)),
        "-s", f"NEWS_OUTPUT={output}", "-s", f"NEWS_VALIDATE_SCHEMA={strict}",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    summary = run_summary(output)
    assert summary["dropped"] == {"invalid": 2}
    assert summary["records_written"] == 3
    assert {record["url"] for record in read_parts(output)} == fitting
    for url in too_long:
        assert re.search(
            rf" WARNING: Invalid record for {re.escape(url)}: title: .* is too long", process.stderr
        ), url


# --- 7. NEWS_EXTRACT_MAX_PENDING -----------------------------------------------------------------

TRACE = "DOCUMENTED_B_EXTRACT_TRACE"


def trace_extraction(page: Any, record: dict[str, Any]) -> dict[str, Any]:
    """An extraction plugin (NEWS_EXTRACT_PLUGINS) for the backpressure test: it holds the page in
    its worker for 0.3 s and notes when, so that pages in workers at the same time show."""
    path = os.environ.get(TRACE)
    if path:
        start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        time.sleep(0.3)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{start} {time.monotonic()}\n")
    return record


def overlaps(trace: Path) -> int:
    spans = sorted(tuple(map(float, line.split())) for line in trace.read_text().splitlines())
    return sum(1 for i, (_, end) in enumerate(spans) for start, _ in spans[i + 1 :] if start < end)


def test_max_pending_one_completes_the_crawl_one_page_at_a_time(site: SiteServer, tmp_path: Path) -> None:
    count = 8
    sources = generated_sources(site, tmp_path / "sources.toml", count)
    traces = {}
    for pending in ("1", "4"):
        traces[pending] = tmp_path / f"trace-{pending}.txt"
        output = tmp_path / f"out-{pending}"
        process = run_scrapy(
            "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={output}",
            "-s", "NEWS_EXTRACT_WORKERS=2", "-s", f"NEWS_EXTRACT_MAX_PENDING={pending}",
            "-s", "NEWS_EXTRACT_PLUGINS=tests.test_documented_b.trace_extraction",
            **{TRACE: str(traces[pending])},
        )  # fmt: skip
        assert process.returncode == 0, process.stderr[-3000:]
        urls = {record["url"] for record in read_parts(output)}
        assert urls == {f"{site.base_url}/generated/{n}.html" for n in range(count)}
        assert len(traces[pending].read_text().splitlines()) == count
    # one page waits for a worker at most: never two in the two workers at once ...
    assert overlaps(traces["1"]) == 0
    # ... while with four allowed both workers hold one (the trace can see it)
    assert overlaps(traces["4"]) > 0


# --- 8. NEWS_PROGRESS ------------------------------------------------------------------------

PROGRESS = re.compile(r"\x1b\[2Kpages \d+ \| records \d+ \| dropped \d+ \| \d+/min \| bulk \d+/\d+")


def progress_args(site: SiteServer, tmp_path: Path, mode: str) -> list[str]:
    """A crawl of 40 pages that lasts a few progress intervals."""
    sources = generated_sources(site, tmp_path / "sources.toml", 40)
    return [
        "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/{mode}",
        "-s", f"NEWS_PROGRESS={mode}", "-s", "NEWS_PROGRESS_INTERVAL=0.2",
        "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=false",
    ]  # fmt: skip


def test_progress_on_writes_progress_lines_to_stderr_that_is_no_terminal(
    site: SiteServer, tmp_path: Path
) -> None:
    process = run_scrapy(*progress_args(site, tmp_path, "on"))  # stderr is a pipe here
    assert process.returncode == 0, process.stderr[-3000:]
    assert len(PROGRESS.findall(process.stderr)) >= 2, process.stderr[-3000:]


def test_progress_off_writes_none_even_at_a_terminal(site: SiteServer, tmp_path: Path) -> None:
    shown = run_in_terminal(scrapy_command(*progress_args(site, tmp_path, "off")), crawl_env())
    assert "Spider closed (finished)" in shown, shown[-3000:]  # the log itself is there
    assert not PROGRESS.search(shown) and "/min |" not in shown and "\x1b[2K" not in shown


# --- 9. per-source DOWNLOAD_TIMEOUT and DOWNLOAD_MAXSIZE ------------------------------------------

LIMITED_SOURCES = """
[sources.strict]
start_urls = ["{base}/strict/"]
max_depth = 1
settings = { DOWNLOAD_TIMEOUT = 1, DOWNLOAD_MAXSIZE = 100000 }

[sources.lax]
start_urls = ["{base}/lax/"]
max_depth = 1
"""


def test_per_source_timeout_and_maxsize_apply_to_that_source_only(tmp_path: Path) -> None:
    root = tmp_path / "site"
    shutil.copytree(PAGES / "limits", root)
    report = long_report(1, 600)  # about 140 KB: over strict's DOWNLOAD_MAXSIZE, far under the default
    assert 100_000 < len(report.encode()) < 1_000_000
    for folder in ("strict", "lax"):
        (root / folder / "long-report.html").write_text(report, "utf-8")
    with running_site(root) as site:
        sources = sources_file(site.base_url, tmp_path / "sources.toml", LIMITED_SOURCES)
        output = tmp_path / "out"
        process = run_scrapy(
            "crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={output}",
            "-s", "RETRY_TIMES=0",
        )  # fmt: skip
        requested = list(site.requests)
    # 2 failed fetches of 6 attempts: under NEWS_MAX_ERROR_RATE (0.5)
    assert process.returncode == 0, process.stderr[-3000:]
    for path in ("/trouble/slow?copy=strict", "/strict/long-report.html"):
        assert path in requested
        assert f"Dropped {site.base_url}{path}: fetch_error" in process.stderr, path
    sources_summary = run_summary(output)["sources"]
    strict, lax = sources_summary["strict"], sources_summary["lax"]
    assert strict["dropped"] == {"fetch_error": 2}  # 3 s page past 1 s; 140 KB past 100,000 bytes
    assert strict["pages_fetched"] == 1 and strict["records_written"] == 0  # its start page only
    # the other source, with Scrapy's defaults (30 s, 10 MiB), gets the same pages
    assert "fetch_error" not in lax["dropped"] and lax["pages_fetched"] == 3
    (record,) = read_parts(output)
    assert record["url"] == f"{site.base_url}/lax/long-report.html" and record["source"] == "lax"
    assert "exhibit 1.599." in record["text"]


def test_per_source_randomize_download_delay_is_accepted(site: SiteServer, tmp_path: Path) -> None:
    text = (
        '[sources.bulk]\nstart_urls = ["{base}/generated/?count=2"]\nmax_depth = 1\n'
        "settings = { DOWNLOAD_DELAY = 0.1, RANDOMIZE_DOWNLOAD_DELAY = false }\n"
    )
    sources = sources_file(site.base_url, tmp_path / "sources.toml", text)
    process = run_scrapy("crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o")
    assert process.returncode == 0, process.stderr[-2000:]
    assert len(read_parts(tmp_path / "o")) == 2


def test_a_per_source_setting_of_the_wrong_type_is_one_line_and_exit_2(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[sources.bad]\nstart_urls = ["http://127.0.0.1:9/"]\nsettings = { DOWNLOAD_TIMEOUT = "slow" }\n'
    )
    process = run_scrapy("crawl", "news", "-s", f"NEWS_SOURCES={sources}", "-s", f"NEWS_OUTPUT={tmp_path}/o")
    assert "Traceback" not in process.stderr, process.stderr[-2000:]
    lines = [line for line in process.stderr.splitlines() if "crawl: cannot start" in line]
    assert len(lines) == 1 and "[sources.bad]" in lines[0] and "DOWNLOAD_TIMEOUT" in lines[0]
    assert process.returncode == 2
