"""The documentation (docs/) holds every setting and every stats key the code has, and its
recipes for reading the output work as written."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crawler.output.parts import temp_path_for
from demo.server import SiteServer
from settings import base
from settings.environment import EnvironmentSettingError, overrides
from tests.crawling import REPO, Crawl, run_scrapy, url_file
from tests.s3server import SeaweedS3

DOCS = REPO / "docs"
SETTINGS_PAGE = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
STATS_PAGE = (DOCS / "reference" / "stats.md").read_text(encoding="utf-8")
REASONS_PAGE = (DOCS / "reference" / "drop-reasons.md").read_text(encoding="utf-8")


def table_names(page: str, prefix: str) -> set[str]:
    return set(re.findall(r"^\| `(" + prefix + r"[^`]*)` \|", page, flags=re.MULTILINE))


def test_every_news_setting_is_in_the_settings_reference() -> None:
    defined = {name for name in vars(base) if name.startswith("NEWS_")}
    documented = table_names(SETTINGS_PAGE, "NEWS_")
    assert defined - documented == set(), "settings missing from docs/reference/settings.md"
    assert documented - defined == set(), "docs/reference/settings.md documents settings that do not exist"


def assert_stats_documented(stats: dict) -> None:
    """Every news/ key of a crawl matches a row of the stats reference; reasons are explained."""
    documented = table_names(STATS_PAGE, "news/")
    patterns = [
        re.compile("^" + re.sub(r"<[a-z]+>", "[^/]+", name.replace("<path>", ".+")) + "$")
        for name in documented
    ]
    keys = [key for key in stats if key.startswith("news/")]
    assert keys
    missing = [key for key in keys if not any(p.match(key) for p in patterns)]
    assert missing == []
    reasons = {key.split("/")[-1] for key in keys if key.startswith(("news/dropped/", "news/skipped/"))}
    for reason in reasons:
        assert f"`{reason}`" in REASONS_PAGE + STATS_PAGE, (
            f"reason {reason} is not explained in the reference"
        )


def test_every_stats_key_of_a_crawl_is_in_the_stats_reference(demo_crawl: Crawl) -> None:
    assert_stats_documented(demo_crawl.summary["stats"])


def test_environment_overrides_are_typed() -> None:
    env = {
        "NEWS_SINK_MAX_ITEMS": "5",
        "NEWS_SINK_ENABLED": "false",
        "NEWS_EXTRACT_STRIP": ".ad, .promo",
        "OTHER": "1",
    }
    got = overrides({"NEWS_SINK_MAX_ITEMS": 1, "NEWS_SINK_ENABLED": True, "NEWS_EXTRACT_STRIP": []}, env)
    assert got == {
        "NEWS_SINK_MAX_ITEMS": 5,
        "NEWS_SINK_ENABLED": False,
        "NEWS_EXTRACT_STRIP": [".ad", ".promo"],
    }


def test_bad_environment_value_names_the_variable() -> None:
    try:
        overrides({"NEWS_SINK_MAX_ITEMS": 1}, {"NEWS_SINK_MAX_ITEMS": "many"})
    except EnvironmentSettingError as exc:
        assert "NEWS_SINK_MAX_ITEMS" in str(exc)
    else:
        raise AssertionError("a bad value was accepted")


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- "Read the output": the recipes of docs/how-to/reading-output.md, run as written on the output of real crawls ---

BIN = Path(sys.executable).parent  # .venv/bin: python, duckdb (the duckdb-cli package)
READING = DOCS / "how-to" / "reading-output.md"
TESTED = re.compile(r"<!-- tested: tests/test_docs\.py \(([a-z0-9-]+)\) -->")
DAY = "2023-09-04"  # the publication day the recipes filter on
UNDATED = "0-undated"  # sorts first: a reader that takes its types from the first file sees only nulls
GZIPPED = "wire"
MARKER = "\n@@recipe-check@@\n"
# The readers' machine is not on UTC, and west of it: a recipe that leaves DuckDB in the machine's
# zone gives timestamps at -07:00 and puts 2023-09-04T04:00:00Z on 3 September.
READER_TZ = "America/Los_Angeles"


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def code_blocks(section: str) -> list[tuple[str, str, str]]:
    """(the line just before, language, code) of each fenced block of ``section``."""
    lines = section.split("\n")
    blocks, index = [], 0
    while index < len(lines):
        if lines[index].startswith("```"):
            end = lines.index("```", index + 1)
            blocks.append((lines[index - 1], lines[index][3:].strip(), "\n".join(lines[index + 1 : end])))
            index = end
        index += 1
    return blocks


def recipe(name: str) -> tuple[str, str]:
    """The language and the code of the block marked ``<!-- tested: tests/test_docs.py (name) -->``."""
    found = [
        (lang, code)
        for before, lang, code in code_blocks(page_text(READING))
        if (mark := TESTED.fullmatch(before)) and mark.group(1) == name
    ]
    assert len(found) == 1, f"{READING.name} has {len(found)} blocks marked as tested by {name!r}"
    return found[0]


def utc_iso(value: str | None) -> str | None:
    """An RFC 3339 ``...Z`` string as Python's isoformat writes that instant in UTC."""
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()


@dataclass
class Output:
    """A folder holding ``output/`` as crawls left it, and its records read here, independently."""

    cwd: Path
    records: list[dict[str, Any]]

    def per_source(self) -> Counter[str]:
        return Counter(record["source"] for record in self.records)

    def rows(self) -> list[list[Any]]:
        """(source, id, published_at, published_date, fetched_at): what the recipes must give back."""
        return sorted(
            [r["source"], r["id"], utc_iso(r["published_at"]), r["published_date"], utc_iso(r["fetched_at"])]
            for r in self.records
        )

    def latest(self) -> list[list[Any]]:
        """(id, version) of each article's latest version: what the "latest" recipes must give."""
        versions: dict[str, int] = {}
        for record in self.records:
            versions[record["id"]] = max(versions.get(record["id"], 0), record["version"])
        return sorted([identifier, version] for identifier, version in versions.items())

    def published_on_day(self) -> list[list[Any]]:
        return sorted(
            [r["source"], r["title"], utc_iso(r["published_at"])]
            for r in self.records
            if r["published_date"] == DAY
        )

    def published_at_in_utc_day(self) -> list[list[Any]]:
        return sorted(
            [r["source"], r["title"], utc_iso(r["published_at"])]
            for r in self.records
            if (r["published_at"] or "").startswith(DAY)
        )


def completed_parts(output: Path) -> list[Path]:
    """The parts a reader must read: under source=*/date=*/, not hidden, .jsonl or .jsonl.gz."""
    return sorted(
        part
        for part in output.glob("source=*/date=*/*")
        if not part.name.startswith(".") and part.name.endswith((".jsonl", ".jsonl.gz"))
    )


def jsonl_records(name: str, data: bytes) -> list[dict[str, Any]]:
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def records_of(part: Path) -> list[dict[str, Any]]:
    return jsonl_records(part.name, part.read_bytes())


@pytest.fixture(scope="module")
def output(demo_crawl: Crawl, site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Output:
    """The demo crawl's plain parts, a real gzip crawl's parts and a real crawl of pages without a
    time of publication (all their published_at null), in one ``output/``, with parts in progress."""
    work = tmp_path_factory.mktemp("reading")
    out = work / "output"
    shutil.copytree(demo_crawl.output, out)
    undated = sorted(r["url"] for r in demo_crawl.records if r["published_at"] is None)[:3]
    urls = url_file(site.base_url, work / "urls.txt")
    crawls = {
        "gzip": (["-a", f"urls={urls}", "-a", f"source={GZIPPED}"], {"NEWS_SINK_COMPRESS": "gzip"}),
        "undated": (["-a", "url=" + ",".join(undated), "-a", f"source={UNDATED}"], {}),
    }
    with ThreadPoolExecutor(len(crawls)) as pool:
        runs = {
            name: pool.submit(
                run_scrapy, "crawl", "article", *args, "-s", f"NEWS_OUTPUT={work / name}", **env
            )
            for name, (args, env) in crawls.items()
        }
        for name, run in runs.items():
            process = run.result()
            assert process.returncode == 0, f"{name}: {process.stderr[-3000:]}"
    for name in crawls:
        shutil.copytree(work / name, out, dirs_exist_ok=True)
    # Hand-written, not crawled: parts a running (or killed) crawl holds under their hidden
    # temporary names, cut mid-record, which no recipe may read.
    folder = next(out.glob(f"source={GZIPPED}/date=*"))
    temp_path_for(folder / "20990101T000000Z-abcdef-00000.jsonl").write_text('{"title": "half a rec')
    temp_path_for(folder / "20990101T000000Z-abcdef-00001.jsonl.gz").write_bytes(
        gzip.compress(b'{"title": "half a record"}\n')[:20]
    )

    # Hand-written, not crawled: a second version of one article, as a later run writes it when
    # the page's text changed (same id, version 2, its own text and hash), in a part of its own.
    first = min((record for record in records_of(completed_parts(out)[0])), key=lambda record: record["id"])
    second = first | {
        "version": 2,
        "text": first["text"] + "\n\nUpdate: the council confirmed the figures.",
        "content_hash": "0" * 64,
        "modified_at": "2099-01-01T00:00:00Z",
        "fetched_at": "2099-01-01T00:00:00Z",
    }
    updated = out / f"source={first['source']}" / "date=2099-01-01" / "20990101T000000Z-update-00000.jsonl"
    updated.parent.mkdir(parents=True)
    updated.write_text(json.dumps(second) + "\n", encoding="utf-8")

    records = [record for part in completed_parts(out) for record in records_of(part)]
    parts = completed_parts(out)
    # what the recipes are tested against has to be there
    assert any(p.name.endswith(".jsonl.gz") for p in parts) and any(p.name.endswith(".jsonl") for p in parts)
    assert (out / "_runs").is_dir() and len(list(out.rglob(".*.inprogress"))) == 2
    undated_records = [r for r in records if r["source"] == UNDATED]
    assert undated_records and all(r["published_at"] is None for r in undated_records)
    on_day = [r for r in records if r["published_date"] == DAY]
    assert any(r["published_at"] is None for r in on_day)
    assert any(
        r["published_at"]
        and datetime.fromisoformat(r["published_at"].replace("Z", "+00:00"))
        .astimezone(ZoneInfo(READER_TZ))
        .date()
        .isoformat()
        != DAY
        for r in on_day
    ), "no record that a reader in the machine's zone would put on another day"
    return Output(work, records)


def reader_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NEWS_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", TZ=READER_TZ, **extra)
    return env


def run_shell(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A shell recipe as written; it must succeed without a word on stderr."""
    process = subprocess.run(
        ["bash", "-c", code],
        cwd=cwd,
        env=reader_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0 and process.stderr == "", process.stderr
    return process


def run_python(code: str, epilogue: str, cwd: Path, **env: str) -> tuple[str, Any]:
    """Run a recipe as written, then ``epilogue`` (in the same process) to report what it built."""
    process = subprocess.run(
        [str(BIN / "python"), "-c", code + "\n\n" + epilogue],
        cwd=cwd,
        env=reader_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stderr == "", process.stderr[-3000:]  # no warnings either
    printed, _, report = process.stdout.rpartition(MARKER)
    return printed, json.loads(report)


def box_rows(printed: str) -> list[list[str]]:
    """The cells of the rows of a DuckDB CLI table (the header's names and types included)."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in printed.splitlines()
        if line.startswith("│")
    ]


EPILOGUE_DUCKDB = f"""
import json as _json

def _iso(value):
    return None if value is None else value.isoformat()

_report = {{
    "rows": sorted(
        [s, i, _iso(p), _iso(d), _iso(f)]
        for s, i, p, d, f in con.sql(
            "SELECT source, id, published_at, published_date, fetched_at FROM articles"
        ).fetchall()
    ),
    "types": con.sql(
        "SELECT DISTINCT typeof(published_at), typeof(modified_at), typeof(fetched_at), typeof(published_date)"
        " FROM articles"
    ).fetchall(),
    "fetch_day": con.sql("SELECT count(*) FROM articles WHERE date <> CAST(fetched_at AS DATE)").fetchall()[0][0],
    "published": sorted([s, t, _iso(p)] for d, p, s, t in published.fetchall()),
    "published_dates": sorted({{_iso(d) for d, p, s, t in published.fetchall()}}),
    "in_utc_day": sorted([s, t, _iso(p)] for p, s, t in in_utc_day.fetchall()),
    "latest": sorted([i, v] for i, v in latest.select("id, version").fetchall()),
}}
print({MARKER!r} + _json.dumps(_report))
"""


def test_duckdb_python_recipe_reads_every_part_with_utc_timestamps(output: Output) -> None:
    lang, code = recipe("duckdb-python")
    assert lang == "python" and DAY in code
    printed, got = run_python(code, EPILOGUE_DUCKDB, output.cwd)
    assert got["rows"] == output.rows()  # every record of every part, .jsonl and .jsonl.gz, nothing else
    assert got["types"] == [["TIMESTAMP WITH TIME ZONE"] * 3 + ["DATE"]]
    assert got["fetch_day"] == 0  # the date= partition is the fetch day, UTC
    assert got["published"] == output.published_on_day()
    assert got["published_dates"] == [DAY]
    assert got["in_utc_day"] == output.published_at_in_utc_day()
    assert got["latest"] == output.latest() and [v for _, v in output.latest() if v > 1] == [2]
    shown: Counter[str] = Counter()
    for source, fetched_on, records in (row for row in box_rows(printed) if len(row) == 3):
        if records.isdigit():  # a row per source and fetch day (two if a crawl ran over midnight UTC)
            assert fetched_on.startswith("20")
            shown[source] += int(records)
    assert shown == output.per_source(), printed


def test_duckdb_cli_recipe_counts_every_part_in_utc(output: Output) -> None:
    lang, code = recipe("duckdb-cli")
    assert lang == "sh" and code.startswith("duckdb ")
    assert (BIN / "duckdb").exists(), "the duckdb command (duckdb-cli in requirements-dev.lock) is missing"
    process = run_shell(code, output.cwd)
    got = {row[0]: row[1:] for row in box_rows(process.stdout) if len(row) == 4 and row[1].isdigit()}
    expected = {}
    for source, count in output.per_source().items():
        times = [r["published_at"] for r in output.records if r["source"] == source and r["published_at"]]
        latest = max(times).replace("T", " ").replace("Z", "+00") if times else "NULL"
        expected[source] = [str(count), str(len(times)), latest]
    assert got == expected, process.stdout


EPILOGUE_PANDAS = f"""
import json as _json

def _iso(value):
    return None if pd.isna(value) else value.isoformat()

_stamps = ("published_at", "modified_at", "fetched_at")
_report = {{
    "utc": [isinstance(df[c].dtype, pd.DatetimeTZDtype) and str(df[c].dtype.tz) == "UTC" for c in _stamps],
    "rows": sorted(
        [s, i, _iso(p), None if pd.isna(d) else d.date().isoformat(), _iso(f)]
        for s, i, p, d, f in zip(df.source, df.id, df.published_at, df.published_date, df.fetched_at)
    ),
    "on_day": sorted([s, t, _iso(p)] for s, t, p in zip(on_day.source, on_day.title, on_day.published_at)),
    "latest": sorted([i, int(v)] for i, v in zip(latest.id, latest.version)),
}}
print({MARKER!r} + _json.dumps(_report))
"""


def test_pandas_recipe_reads_every_part_with_utc_timestamps(output: Output) -> None:
    lang, code = recipe("pandas")
    assert lang == "python" and DAY in code
    printed, got = run_python(code, EPILOGUE_PANDAS, output.cwd)
    assert got["utc"] == [True, True, True]
    assert got["rows"] == output.rows()
    assert got["on_day"] == output.published_on_day()
    assert got["latest"] == output.latest()
    for source, count in output.per_source().items():
        assert re.search(rf"^{re.escape(source)} +{count}$", printed, flags=re.MULTILINE), printed


def polars_epilogue(frame: str, day_frame: str) -> str:
    return f"""
import json as _json

def _iso(value):
    return None if value is None else value.isoformat()

_report = {{
    "utc": [
        isinstance({frame}.schema[c], pl.Datetime) and {frame}.schema[c].time_zone == "UTC"
        for c in ("published_at", "modified_at", "fetched_at")
    ],
    "rows": sorted(
        [s, i, _iso(p), _iso(d), _iso(f)]
        for s, i, p, d, f in {frame}.select("source", "id", "published_at", "published_date", "fetched_at").rows()
    ),
    "on_day": sorted([s, t, _iso(p)] for s, t, p in {day_frame}.select("source", "title", "published_at").rows()),
    "latest": sorted([i, v] for i, v in latest.select("id", "version").rows()) if "latest" in globals() else None,
}}
print({MARKER!r} + _json.dumps(_report))
"""


def test_polars_recipe_reads_every_part_with_utc_timestamps(output: Output) -> None:
    lang, code = recipe("polars")
    assert lang == "python"
    printed, got = run_python(code, polars_epilogue("df", "on_day"), output.cwd)
    assert got["utc"] == [True, True, True]
    assert got["rows"] == output.rows()
    assert got["on_day"] == output.published_on_day()
    assert got["latest"] == output.latest()
    for source, count in output.per_source().items():
        assert re.search(rf"│ {re.escape(source)} +┆ {count} +│", printed), printed


def test_polars_s3_recipe_reads_what_a_crawl_uploaded(
    output: Output, site: SiteServer, tmp_path: Path
) -> None:
    """The S3 line, after the polars recipe (its ``schema``), against SeaweedFS holding the
    parts of a real crawl into ``s3://my-bucket/news`` (gzip: objects with Content-Encoding)."""
    _, local = recipe("polars")
    lang, code = recipe("polars-s3")
    assert lang == "python" and "s3://my-bucket/news/" in code
    server = SeaweedS3(tmp_path / "seaweedfs")
    server.start()
    try:
        server.client().create_bucket(Bucket="my-bucket")
        process = run_scrapy(
            "crawl",
            "article",
            "-a",
            f"urls={url_file(site.base_url, tmp_path / 'urls.txt')}",
            "-s",
            "NEWS_OUTPUT=s3://my-bucket/news",
            "-s",
            f"NEWS_SINK_SPOOL={tmp_path / 'spool'}",
            NEWS_SINK_COMPRESS="gzip",
            **server.env(),
        )
        assert process.returncode == 0, process.stderr[-3000:]
        uploaded = [
            record
            for key, body in server.objects("my-bucket").items()
            if key.startswith("news/source=") and key.endswith(".jsonl.gz")
            for record in jsonl_records(key, body)
        ]
        assert uploaded
        gz_key = next(key for key in server.keys("my-bucket") if key.endswith(".jsonl.gz"))
        assert server.client().head_object(Bucket="my-bucket", Key=gz_key)["ContentEncoding"] == "gzip"
        epilogue = polars_epilogue("df", "df")  # the S3 line reads into df again
        _, got = run_python(local + "\n" + code, epilogue, output.cwd, **server.env())
    finally:
        server.stop(hard=True)  # its data is thrown away: no need to wait for a clean exit
    assert got["utc"] == [True, True, True]
    assert got["rows"] == Output(tmp_path, uploaded).rows()


def test_every_block_of_the_reading_section_is_tested_or_says_it_is_not() -> None:
    blocks = code_blocks(page_text(READING))
    code = [(before, lang) for before, lang, _ in blocks if lang]  # the layout block has no language
    assert code and len(code) == len(blocks) - 1
    unmarked = [
        lang for before, lang in code if not re.fullmatch(r"<!-- (tested|not tested): .+ -->", before)
    ]
    assert unmarked == [], "a code block with neither a tested nor a not tested mark"
    names = sorted(mark.group(1) for before, _ in code if (mark := TESTED.fullmatch(before)))
    assert names == ["duckdb-cli", "duckdb-python", "pandas", "polars", "polars-s3"]


def test_output_section_duckdb_one_liner_runs_as_written(output: Output) -> None:
    """The quick look in "Output" reads every complete part, plain and gzip, and no unfinished one."""
    command = re.search(r'`(duckdb -c "[^`]+")`', page_text(DOCS / "concepts" / "output.md"))
    assert command, "the Output section's duckdb command is gone"
    process = run_shell(command.group(1), output.cwd)
    shown = re.search(r"(\d+) rows", process.stdout)
    assert shown and int(shown.group(1)) == len(output.records), process.stdout
