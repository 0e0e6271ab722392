"""What an operator meets first: every failure of a command is one line and the exit code of the
exit codes reference (docs/reference/exit-codes.md), never a traceback; one-off crawls stay out
of the stream. Each test runs the real ``news-ingest`` command in a subprocess, in a folder of
its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.output.parts import recover_parts
from crawler.output.s3 import pending_uploads
from demo.server import SiteServer
from tests.crawling import REPO, crawl_env, read_parts, sources_file
from tests.hostile import Reply, hostile_server
from tests.test_hostile_config import article_site, headline

NEWS_INGEST = Path(sys.executable).parent / "news-ingest"
ARTICLE = "business/tokyo-chipmaker-expansion.html"


def news_ingest(cwd: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    environment = crawl_env(**env)
    environment.pop("NEWS_ONEOFF_FOLDER")  # the product's default
    return subprocess.run(
        [str(NEWS_INGEST), *args], cwd=cwd, env=environment, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def one_line(process: subprocess.CompletedProcess[str], code: int) -> str:
    """The one line a failed command prints; no traceback anywhere."""
    output = process.stdout + process.stderr
    assert process.returncode == code, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    lines = [
        line
        for line in output.splitlines()
        if " ERROR: " in line or line.startswith(("flush:", "news-ingest"))
    ]
    assert len(lines) == 1, output[-3000:]
    return lines[0].split(" ERROR: ", 1)[-1]


def test_a_log_file_in_a_missing_folder_stops_the_run_with_one_line(tmp_path: Path) -> None:
    log = tmp_path / "no-such-folder" / "crawl.log"
    process = news_ingest(tmp_path, "crawlall", "-s", f"LOG_FILE={log}")
    line = one_line(process, 2)
    assert line == (
        f"crawlall: cannot start: LOG_FILE={log}: cannot write the log there: "
        f"its folder {log.parent} does not exist"
    )


def test_a_failed_start_in_an_empty_folder_leaves_nothing_behind(tmp_path: Path) -> None:
    process = news_ingest(tmp_path, "crawlall", "-s", "DOWNLOAD_DELAYY=2", NEWS_STATE="state/news.sqlite")
    line = one_line(process, 2)
    assert (
        line
        == "crawlall: cannot start: setting DOWNLOAD_DELAYY: no such setting (did you mean DOWNLOAD_DELAY?)"
    )
    assert list(tmp_path.iterdir()) == []  # no output/_runs, no state folder, no lock file
    # the default sources file, ./sources.toml, is not there: one line, and nothing left behind
    process = news_ingest(tmp_path, "crawlall", NEWS_STATE="state/news.sqlite")
    line = one_line(process, 2)
    assert line.startswith("crawlall: cannot start: ") and "sources.toml" in line, line
    assert list(tmp_path.iterdir()) == []


def test_a_misspelt_scrapy_setting_stops_a_one_off_crawl(tmp_path: Path) -> None:
    process = news_ingest(
        tmp_path, "crawl", "article", "-a", "url=http://127.0.0.1:9/a", "-s", "CONCURENT_REQUESTS=4"
    )
    line = one_line(process, 2)
    assert (
        line
        == "crawl: cannot start: setting CONCURENT_REQUESTS: no such setting (did you mean CONCURRENT_REQUESTS?)"
    )


def test_an_unwritable_feed_export_target_stops_the_crawl_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    target = blocker / "x.jsonl"  # under a file: no user, root included, can write there
    process = news_ingest(tmp_path, "crawl", "article", "-a", "url=http://127.0.0.1:9/a", "-O", str(target))
    line = one_line(process, 2)
    assert line == f"crawl: cannot start: -o/-O {target}: cannot write there: {blocker} is not a folder", line
    root_only = tmp_path / "new" / "deeper" / "x.jsonl"  # a folder Scrapy would make: none made at start
    process = news_ingest(tmp_path, "crawl", "article", "-a", "url=http://127.0.0.1:9/a", "-O", str(root_only),
                          "-s", "NEWS_OUTPT=x")  # fmt: skip
    one_line(process, 2)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_a_feed_export_that_cannot_be_stored_fails_the_run(site: SiteServer, tmp_path: Path) -> None:
    # Scrapy's S3 feed storage, pointed at a loopback port where nothing listens: stored at the end
    process = news_ingest(
        tmp_path, "crawl", "article", "-a", f"url={site.base_url}/{ARTICLE}", "-O", "s3://feeds/x.jsonl",
        "-s", "AWS_ENDPOINT_URL=http://127.0.0.1:9", "-s", "AWS_ACCESS_KEY_ID=a", "-s", "AWS_SECRET_ACCESS_KEY=b",
    )  # fmt: skip
    assert process.returncode == 1, process.stderr[-3000:]
    failed = [line for line in process.stderr.splitlines() if "failed: " in line and "Run " in line]
    assert len(failed) == 1 and failed[0].endswith("1 feed export(s) (-o/-O, FEEDS) could not be stored"), (
        process.stderr[-3000:]
    )
    (summary,) = (tmp_path / "output" / "oneoff" / "_runs").glob("*.json")
    assert json.loads(summary.read_text())["status"] == "failed"


def test_flush_with_s3_unreachable_is_one_line_and_exit_3(tmp_path: Path) -> None:
    process = news_ingest(
        tmp_path, "flush",
        NEWS_OUTPUT="s3://news/articles", NEWS_STATE=str(tmp_path / "state" / "news.sqlite"),
        AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b",
    )  # fmt: skip
    line = one_line(process, 3)
    assert line.startswith("flush: cannot reach the S3 endpoint for s3://news/articles: "), line
    assert line.endswith(
        f"0 file(s) wait in {tmp_path / 'state' / 'spool' / 'news' / 'articles'}; try again later"
    )


def test_a_one_off_crawl_stays_out_of_the_stream(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    env = {"NEWS_SOURCES": str(sources), "NEWS_STATE": str(tmp_path / "state" / "news.sqlite")}
    url = f"{site.base_url}/{ARTICLE}"
    oneoff = news_ingest(tmp_path, "crawl", "article", "-a", f"url={url}", **env)
    assert oneoff.returncode == 0, oneoff.stderr[-3000:]
    assert [record["url"] for record in read_parts(tmp_path / "output" / "oneoff")] == [url]
    assert list((tmp_path / "output").glob("source=*")) == []  # the stream's readers see none of it

    stream = news_ingest(tmp_path, "crawlall", **env)
    assert stream.returncode == 0, stream.stderr[-3000:]
    assert "does not know" not in stream.stderr and "one-off run" not in stream.stderr
    # not taken for emitted: the stream writes the article the one-off crawl fetched
    assert url in {record["url"] for record in _stream_records(tmp_path / "output")}


def test_a_one_off_crawl_into_the_stream_is_named_as_such(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    env = {"NEWS_SOURCES": str(sources), "NEWS_STATE": str(tmp_path / "state" / "news.sqlite")}
    url = f"{site.base_url}/{ARTICLE}"
    oneoff = news_ingest(tmp_path, "crawl", "article", "-a", f"url={url}", "-s", "NEWS_ONEOFF_FOLDER=", **env)
    assert oneoff.returncode == 0, oneoff.stderr[-3000:]
    stream = news_ingest(tmp_path, "crawlall", **env)
    assert stream.returncode == 0, stream.stderr[-3000:]
    warnings = [
        line for line in stream.stderr.splitlines() if "one-off run" in line or "does not know" in line
    ]
    assert len(warnings) == 1, stream.stderr[-3000:]
    assert warnings[0].endswith(
        "1 one-off run(s) (crawl article, which uses no state) wrote 1 part(s) into output, "
        "the output of this stream (NEWS_ONEOFF_FOLDER was empty): remembering their articles as emitted"
    ), warnings[0]


def _stream_records(output: Path) -> list[dict]:
    records = []
    for part in sorted(output.glob("source=*/date=*/*.jsonl*")):
        if not part.name.startswith("."):
            records += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    return records


def test_news_ingest_has_help_of_its_own(tmp_path: Path) -> None:
    process = news_ingest(tmp_path, "-h")
    assert process.returncode == 0, process.stderr
    assert (
        process.stdout.startswith("news-ingest ")
        and "Usage: news-ingest <command> [options]" in process.stdout
    )
    listed = [
        line.split()[0] for line in process.stdout.split("Commands:\n")[1].split("\n\n")[0].splitlines()
    ]
    assert listed == [
        "crawlall",
        "crawl",
        "archive",
        "reprocess",
        "flush",
        "sources",
    ]  # ours only: no genspider, startproject
    assert "scrapy" not in process.stdout.lower()
    assert "75 another run holds the lock" in process.stdout.replace("\n", " ")
    # the sentences are whole: none of the command descriptions is cut off
    assert "(--reset SOURCE forgets them)" in process.stdout


def test_a_mistyped_command_gets_a_did_you_mean(tmp_path: Path) -> None:
    process = news_ingest(tmp_path, "crawlal")
    assert process.returncode == 2 and process.stdout == "", process.stdout
    assert process.stderr == (
        "news-ingest: no command 'crawlal'; did you mean 'crawlall'? (`news-ingest -h` lists the commands)\n"
    )


def test_crawl_help_lists_the_spiders_and_their_arguments(tmp_path: Path) -> None:
    process = news_ingest(tmp_path, "crawl", "-h")
    assert process.returncode == 0, process.stderr
    assert "news-ingest crawl news|article [-a NAME=VALUE ...] [options]" in process.stdout
    for argument in ("-a source=NAME[,NAME...]", "-a url=URL[,URL...]", "-a urls=FILE", "-a source=NAME "):
        assert argument in process.stdout, argument
    mistyped = news_ingest(tmp_path, "crawl", "artcle")
    line = one_line(mistyped, 2)
    assert line == "crawl: cannot start: no spider 'artcle' (did you mean article?): give news or article"


def test_the_banner_names_the_command_that_runs(site: SiteServer, tmp_path: Path) -> None:
    sources = sources_file(site.base_url, tmp_path / "sources.toml")
    process = news_ingest(tmp_path, "crawlall", NEWS_SOURCES=str(sources))
    (banner,) = [line for line in process.stderr.splitlines() if "[crawler.extensions.banner]" in line]
    assert f": crawlall, 2 source(s) from {sources}; " in banner, banner  # the demo sources file has 2


def test_link_rot_found_by_following_does_not_fail_the_run(tmp_path: Path) -> None:
    routes = article_site("Gazette", 1)
    # an old home page: one article still there, four links to pages long gone (404)
    links = "".join(f'<li><a href="/news/Gone-{n}.html">Story {n} of last year</a></li>' for n in range(4))
    routes["/"] = Reply(
        f'<!doctype html><html><body><ul><li><a href="/news/Gazette-0.html">{headline("Gazette", 0)}</a></li>'
        f"{links}</ul></body></html>".encode()
    )
    with hostile_server(routes) as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[sources.gazette]\nstart_urls = ["{server.base_url}/"]\nmax_depth = 1\n')
        process = news_ingest(tmp_path, "crawlall", NEWS_SOURCES=str(sources))
    assert process.returncode == 0, process.stderr[-3000:]
    (path,) = (tmp_path / "output" / "_runs").glob("*.json")
    summary = json.loads(path.read_text())
    assert summary["records_written"] == 1
    assert summary["dropped"] == {"link_error": 4}
    assert summary["errors"] == 0 and summary["status"] == "ok"


def test_ctrl_c_stops_scheduling_at_once(tmp_path: Path) -> None:
    with hostile_server(article_site("Many", 40)) as site:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[sources.many]\nstart_urls = ["{site.base_url}/"]\nmax_depth = 1\n')
        environment = crawl_env(NEWS_SOURCES=str(sources))
        process = subprocess.Popen(
            [str(NEWS_INGEST), "crawlall", "-s", "DOWNLOAD_DELAY=1"], cwd=tmp_path, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while len(site.requests) < 6:  # robots.txt, the home page and four of the 40 articles
                assert process.poll() is None and time.monotonic() < deadline, "the crawl never got going"
                time.sleep(0.05)
            before = len(site.requests)
            process.send_signal(signal.SIGINT)
            # a bound, not a measurement: 40 articles at one a second would take 34 s more
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        after = len(site.requests) - before
    assert after <= 1, after  # at most the one request the delay had just let go
    assert process.returncode == 1 and "Traceback" not in stderr, stderr[-3000:]
    (path,) = (tmp_path / "output" / "_runs").glob("*.json")
    summary = json.loads(path.read_text())
    assert summary["finish_reason"] == "shutdown" and summary["stats"]["news/shutdown/cancelled"] >= 1


def test_make_s3_demo_crawls_the_demo_site_into_a_local_s3_server() -> None:
    process = subprocess.run(
        ["make", "s3-demo"],
        cwd=REPO,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    out = process.stdout
    assert "Objects in s3://news/: 3 (2 parts, the rest run summaries)" in out, out[-3000:]
    keys = [line.strip() for line in out.splitlines() if line.startswith("  s3://news/demo/")]
    assert sorted(key.split("/")[4] for key in keys if "/source=" in key) == ["source=daily", "source=demo"]
    record, _ = json.JSONDecoder().raw_decode(
        out[out.index("{", out.index("One record of s3://news/demo/")) :]
    )
    assert record["source"] in ("daily", "demo") and record["title"] and record["version"] == 1
    work = out.split("data in ", 1)[1].split()[0]
    assert not Path(work).exists()  # the server was stopped and its data removed


def test_an_unexpected_error_is_one_line_naming_where_the_traceback_is(tmp_path: Path) -> None:
    # a Scrapy setting of the right name whose class cannot be built: nothing any check foresees
    args = ("crawl", "article", "-a", "url=http://127.0.0.1:9/a", "-s", "STATS_CLASS=builtins.int")
    line = one_line(news_ingest(tmp_path, *args), 1)
    assert line.startswith("crawl: unexpected error: TypeError: "), line
    assert line.endswith("(the traceback is logged at DEBUG: see it with -L DEBUG)"), line
    log = tmp_path / "crawl.log"
    process = news_ingest(tmp_path, *args, "-s", f"LOG_FILE={log}", "-L", "DEBUG")
    assert process.returncode == 1 and "Traceback" not in process.stderr, process.stderr[-3000:]
    text = log.read_text()  # with a log file, the line and the traceback are there
    assert f"(the traceback is logged at DEBUG: see it in {log})" in text, text[-3000:]
    assert "Traceback (most recent call last)" in text


def test_the_stream_leaves_a_one_off_crawls_parts_and_spool_alone(tmp_path: Path) -> None:
    # what a killed one-off crawl leaves: a part in progress and a completed part waiting in the
    # spool, both under oneoff/; the stream's recovery and uploads must not take them
    oneoff = tmp_path / "oneoff" / "source=herald" / "date=2026-12-05"
    oneoff.mkdir(parents=True)
    (oneoff / ".20261205T000000Z-abcdef-00000.jsonl.inprogress").write_text('{"id": "x1"}\n')
    (oneoff / "20261205T000000Z-abcdef-00001.jsonl").write_text('{"id": "x2"}\n')
    stream = tmp_path / "source=herald" / "date=2026-12-05"
    stream.mkdir(parents=True)
    (stream / ".20261205T010000Z-fedcba-00000.jsonl.inprogress").write_text('{"id": "s1"}\n')
    assert [path.name for path in recover_parts(tmp_path)] == ["20261205T010000Z-fedcba-00000.jsonl"]
    assert [path.name for path in pending_uploads(tmp_path)] == ["20261205T010000Z-fedcba-00000.jsonl"]
    assert (oneoff / ".20261205T000000Z-abcdef-00000.jsonl.inprogress").exists()  # its own run's to complete
    assert [path.name for path in recover_parts(tmp_path / "oneoff")] == [
        "20261205T000000Z-abcdef-00000.jsonl"
    ]


def test_a_one_off_crawl_that_uses_the_state_writes_into_the_stream(site: SiteServer, tmp_path: Path) -> None:
    url = f"{site.base_url}/{ARTICLE}"
    # asked to use the state, its articles count as emitted for the stream: so its records are there
    process = news_ingest(tmp_path, "crawl", "article", "-a", f"url={url}", "-s", "NEWS_STATE_ENABLED=true")
    assert process.returncode == 0, process.stderr[-3000:]
    assert [record["url"] for record in _stream_records(tmp_path / "output")] == [url]
    assert not (tmp_path / "output" / "oneoff").exists()


def test_a_one_off_crawl_that_cannot_start_reports_in_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "output" / "oneoff").mkdir(parents=True)  # outputs of earlier runs
    process = news_ingest(
        tmp_path, "crawl", "article", "-a", "url=http://127.0.0.1:9/a", "-s", "NEWS_OUTPT=x"
    )
    one_line(process, 2)
    (path,) = (tmp_path / "output" / "oneoff" / "_runs").glob("*.json")
    summary = json.loads(path.read_text())
    assert (summary["spider"], summary["status"]) == ("article", "not_started")
    assert not (tmp_path / "output" / "_runs").exists()  # the stream's runs: none that never ran
