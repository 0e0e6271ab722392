"""Scaling out: `crawlall --shard I/N` workers over one PostgreSQL state and one S3 bucket.

Real servers, started by the tests: PostgreSQL (tests/pgserver.py), SeaweedFS (tests/s3server.py)
and sites of their own on distinct loopback addresses (127.0.0.2, 127.0.0.3, ...), each the
one-publisher site of tests/template_site.py listing ten articles of its own. The records are
read back from the bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests import template_site as site_pages
from tests.crawling import REPO, crawl_env, scrapy_command
from tests.hostile import HostileServer, Reply, hostile_server
from tests.s3server import SeaweedS3, running_s3
from tests.slowproxy import slow_proxy

BUCKET = "scaling"

SITES = 4
# the bodies, and so the content hashes, must not depend on which worker saw which article first
NOT_LEARNING = {"NEWS_BOILERPLATE_LEARN": "false"}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with running_s3(tmp_path_factory.mktemp("seaweedfs"), BUCKET) as server:
        yield server


@pytest.fixture
def sites() -> Iterator[list[HostileServer]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(hostile_server(site_pages.routes(), f"127.0.0.{2 + n}")) for n in range(SITES)
        ]


def write_sources(servers: list[HostileServer], path: Path, blocks: list[int] | None = None) -> Path:
    """Site n lists the ten articles of index block n (or ``blocks[n]``)."""
    path.write_text(
        "".join(
            f'[sources.site{n}]\nstart_urls = ["{server.url(f"/index-{(blocks or range(SITES))[n]}.html")}"]\n'
            "max_depth = 1\nallow = ['/news/2026/']\n"
            for n, server in enumerate(servers)
        )
    )
    return path


class Cluster:
    """Workers of one deployment: one state database, one bucket prefix, a spool each."""

    def __init__(self, s3: SeaweedS3, state: str, sources: Path, work: Path, prefix: str):
        self.s3, self.state, self.sources, self.work, self.prefix = s3, state, sources, work, prefix

    def env(self, index: int, **extra: str) -> dict[str, str]:
        return crawl_env(
            **{
                "NEWS_SOURCES": str(self.sources), "NEWS_STATE": self.state,
                "NEWS_OUTPUT": f"s3://{BUCKET}/{self.prefix}", "NEWS_SINK_SPOOL": str(self.work / f"spool-{index}"),
                **NOT_LEARNING, **self.s3.env(), **extra,
            }
        )  # fmt: skip

    def start(self, index: int, count: int, *settings: str, **extra: str) -> subprocess.Popen[str]:
        args = ["crawlall", "--shard", f"{index}/{count}"] if count > 1 else ["crawlall"]
        for setting in settings:  # Scrapy settings, as -s NAME=VALUE
            args += ["-s", setting]
        return subprocess.Popen(
            scrapy_command(*args), cwd=REPO, env=self.env(index, **extra), stderr=subprocess.PIPE, text=True
        )

    def cycle(self, count: int, **extra: str) -> list[dict]:
        """``count`` workers at once, to the end; the summary of each."""
        workers = [self.start(index, count, **extra) for index in range(count)]
        summaries = []
        for worker in workers:
            _, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err[-3000:]
        for key, body in self.s3.objects(BUCKET).items():
            if key.startswith(f"{self.prefix}/_runs/"):
                summaries.append(json.loads(body))
        return summaries

    def records(self) -> list[dict]:
        return [
            json.loads(line)
            for key, body in sorted(self.s3.objects(BUCKET).items())
            if key.startswith(f"{self.prefix}/source=") and key.endswith(".jsonl")
            for line in body.decode().splitlines()
            if line.strip()
        ]


def keys_of(records: list[dict]) -> list[tuple[str, str, int]]:
    return sorted((r["canonical_url"], r["content_hash"], r["version"]) for r in records)


def test_two_and_four_workers_write_exactly_what_one_worker_writes(
    s3: SeaweedS3, sites: list[HostileServer], pg_server, tmp_path: Path
) -> None:
    sources = write_sources(sites, tmp_path / "sources.toml")
    one = Cluster(s3, pg_server.new_database(), sources, tmp_path / "one", "one")
    one.cycle(1)
    expected = keys_of(one.records())
    assert len(expected) == 10 * SITES

    for count in (2, 4):
        cluster = Cluster(s3, pg_server.new_database(), sources, tmp_path / f"n{count}", f"n{count}")
        summaries = cluster.cycle(count)
        assert keys_of(cluster.records()) == expected  # the same set, each once
        fetched_by = Counter(
            name
            for summary in summaries
            for name, tally in summary["sources"].items()
            if tally["pages_fetched"]
        )
        assert fetched_by == Counter({f"site{n}": 1 for n in range(SITES)})  # each site by one worker
        assert {summary["run_id"][-7:] for summary in summaries} == {
            f"s{i:02d}of{count:02d}" for i in range(count)
        }

    # a second cycle of the two workers: nothing new, nothing written
    cluster = Cluster(s3, one.state, sources, tmp_path / "one-again", "one")
    before = len(cluster.records())
    cluster.cycle(2)
    assert len(cluster.records()) == before
    # one article changes: it comes back once, as version 2
    path = site_pages.article_path(3)
    sites[0].routes[path] = Reply(
        sites[0]
        .routes[path]
        .body.replace(b"</article>", b"<p>Update: the council will vote again in May.</p></article>")
    )
    cluster.cycle(2, NEWS_REFRESH_WINDOW=str(10**8), NEWS_REFRESH_INTERVAL="0")
    changed = [r for r in cluster.records() if r["url"].endswith(path)]
    assert sorted(r["version"] for r in changed) == [1, 2]
    assert len(cluster.records()) == before + 1


def test_a_killed_worker_whose_disk_is_lost_loses_nothing_and_repeats_nothing(
    s3: SeaweedS3, sites: list[HostileServer], pg_server, tmp_path: Path
) -> None:
    sources = write_sources(sites, tmp_path / "sources.toml")
    cluster = Cluster(s3, pg_server.new_database(), sources, tmp_path, "killed")
    # a slow S3: parts complete (fsynced in the spool) faster than they upload, so at the kill
    # some are durable on the worker's disk and not in the bucket, and go with the disk
    with slow_proxy(int(s3.endpoint.rsplit(":", 1)[1]), delay=0.5) as endpoint:
        worker = cluster.start(0, 2, NEWS_SINK_MAX_ITEMS="1", AWS_ENDPOINT_URL=endpoint)
        deadline = time.monotonic() + 120
        while not any(k.startswith("killed/source=") for k in s3.keys(BUCKET)):  # its first upload
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.05)
        spool = tmp_path / "spool-0"
        waiting = [p for p in spool.rglob("*.jsonl") if not p.name.startswith(".")]
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate()
    assert waiting, "no completed part was waiting for its upload at the kill: the case is not tested"
    shutil.rmtree(spool)  # the pod is gone, and its disk with it
    summaries = cluster.cycle(2)  # shard 0 again, and shard 1
    records = cluster.records()
    assert len(records) == len({r["canonical_url"] for r in records}) == 10 * SITES
    stats = [s["stats"] for s in summaries]
    # the lost parts' articles were forgotten, so fetched again; a part whose upload had reached
    # the bucket when the worker died was committed instead
    assert sum(st.get("news/sink/pending_forgotten", 0) for st in stats) >= len(waiting) // 2


def test_the_same_shard_started_twice_skips_every_group_it_cannot_lock(
    s3: SeaweedS3, sites: list[HostileServer], pg_server, tmp_path: Path
) -> None:
    sources = write_sources(sites, tmp_path / "sources.toml")
    cluster = Cluster(s3, pg_server.new_database(), sources, tmp_path, "twice")
    # slow enough that the first still holds its groups when the second starts, on a busy machine too
    first = cluster.start(0, 2, "DOWNLOAD_DELAY=2", "AUTOTHROTTLE_ENABLED=false")
    deadline = time.monotonic() + 60
    while not any(site.requests for site in sites):  # the first holds its groups and is crawling
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = subprocess.run(
        scrapy_command("crawlall", "--shard", "0/2"), cwd=REPO, env=cluster.env(9), capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stderr.count("is being crawled by another worker") == 2  # both groups of shard 0
    summaries = [
        json.loads(body) for key, body in s3.objects(BUCKET).items() if key.startswith("twice/_runs/")
    ]
    skipped = [s for s in summaries if s["stats"].get("news/shard/groups_held_elsewhere")]
    assert len(skipped) == 1 and skipped[0]["stats"]["news/shard/groups_held_elsewhere"] == 2
    assert skipped[0]["pages_fetched"] == 0
    assert len(cluster.records()) == 20  # shard 0's two sites, once


def test_the_same_text_on_two_sites_in_different_shards_is_written_once(
    s3: SeaweedS3, sites: list[HostileServer], pg_server, tmp_path: Path
) -> None:
    # two sites, one shard each, listing the same ten articles (a syndicated copy)
    sources = write_sources(sites[:2], tmp_path / "sources.toml", blocks=[0, 0])
    cluster = Cluster(s3, pg_server.new_database(), sources, tmp_path, "copies")
    summaries = cluster.cycle(2)
    records = cluster.records()
    assert len(records) == 10 and len({r["content_hash"] for r in records}) == 10
    dropped = sum(s["dropped"].get("duplicate_content", 0) for s in summaries)
    assert dropped == 10


def test_with_a_shared_state_a_worker_does_not_crawl_while_s3_is_unreachable(
    s3: SeaweedS3, sites: list[HostileServer], pg_server, tmp_path: Path
) -> None:
    # an article counts only once its part is in the bucket: a crawl now would fetch the same
    # articles again next time, so the worker waits for the next run (exit 3, as for uploads pending)
    sources = write_sources(sites, tmp_path / "sources.toml")
    cluster = Cluster(s3, pg_server.new_database(), sources, tmp_path, "unreachable")
    worker = cluster.start(0, 2, AWS_ENDPOINT_URL="http://127.0.0.1:1")
    _, err = worker.communicate(timeout=300)
    assert worker.returncode == 3, err[-3000:]
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "crawlall: not crawling now: S3 is unreachable" in line]
    assert len(lines) == 1 and "secret" not in lines[0], err[-3000:]
    assert not any(site.requests for site in sites)
