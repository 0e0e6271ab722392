"""Scaling out: one `crawlall` worker against two `crawlall --shard I/2` workers, same sites.

    .venv/bin/python -m bench.scaling                       # 4 sites x 100 pages, 3 rounds, SQLite state
    .venv/bin/python -m bench.scaling --state postgresql://news:pw@127.0.0.1:5432/news

Four generated sites (bench/run.py's article pages, a seed each, so no text repeats
across sites), each served from its own loopback address (127.0.0.2 ...) by its own
process with a per-request delay: an I/O-bound crawl, where what a worker can fetch at
once (CONCURRENT_REQUESTS) is the limit, as it is for a worker whose sites answer slowly.
Each round runs, on a fresh state, one worker over every source, then two shard workers
at once; a worker's throughput is records written per second of wall time, process
start included. Quoted: the medians over rounds, and the ratio two/one measured in the
same round. With SQLite the two workers share one state file (each its own lock file);
give --state a PostgreSQL URL to measure the shared-database setup (its tables are reused:
use an empty database).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import BIN, REPO, _free_port, _wait_for_host, build_site


def serve(root: Path, host: str, delay: float) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "demo.server", "--root", str(root), "--host", host, "--port", str(port),
         "--delay", str(delay)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for_host(host, port)
    return process, f"http://{host}:{port}"


def crawl(
    work: Path, name: str, sources: Path, state: str, *, shards: int, concurrency: int
) -> tuple[float, int]:
    """``shards`` workers at once (1: plain crawlall); wall seconds and records written."""
    output = work / name
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(
        NEWS_SOURCES=str(sources), NEWS_OUTPUT=str(output), NEWS_ALLOW_PRIVATE_NETWORKS="true",
        NEWS_PROGRESS="off", NEWS_STATE=state,
    )  # fmt: skip
    started = time.monotonic()
    processes = []
    for index in range(shards):
        args = ["--shard", f"{index}/{shards}"] if shards > 1 else []
        command = [
            str(BIN / "news-ingest"), "crawlall", *args, "-s", f"NEWS_LOCK_FILE={work}/{name}-{index}.lock",
            "-s", "AUTOTHROTTLE_ENABLED=false", "-s", f"CONCURRENT_REQUESTS={concurrency}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", "-s", "LOG_LEVEL=WARNING",
        ]  # fmt: skip
        processes.append(
            subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    codes = [process.wait() for process in processes]
    elapsed = time.monotonic() - started
    if any(codes):
        print(f"  warning: exit codes {codes}", flush=True)
    written = sum(json.loads(p.read_text())["records_written"] for p in output.glob("_runs/*.json"))
    return elapsed, written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--pages", type=int, default=100, help="articles per site")
    parser.add_argument("--delay", type=float, default=0.4, help="seconds each response waits")
    parser.add_argument("--concurrency", type=int, default=4, help="CONCURRENT_REQUESTS of each worker")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--state", default="", help="a PostgreSQL URL; default: a SQLite file per round")
    args = parser.parse_args(argv)
    servers = []
    try:
        bases = []
        for n in range(args.sites):
            root = REPO / "bench" / f"site-shard-{n}"
            build_site(root, args.pages, seed=100 + n)
            process, base = serve(root, f"127.0.0.{2 + n}", args.delay)
            servers.append(process)
            bases.append(base)
        print(
            f"{args.sites} sites x {args.pages} pages, {args.delay:g} s per response, "
            f"CONCURRENT_REQUESTS={args.concurrency} per worker; {args.rounds} rounds",
            flush=True,
        )
        one_rates, two_rates, ratios = [], [], []
        for round_number in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="news-scaling-") as tmp:
                work = Path(tmp)
                sources = work / "sources.toml"
                sources.write_text(
                    "".join(
                        f'[sources.site{n}]\nsitemaps = ["{base}/sitemap.xml"]\nmax_pages = {args.pages + 10}\n'
                        for n, base in enumerate(bases)
                    )
                )
                rates = []
                for shards in (1, 2):
                    state = args.state or str(work / f"state-{shards}.sqlite")
                    if args.state:
                        reset_database(args.state)
                    elapsed, written = crawl(
                        work, f"out-{shards}", sources, state, shards=shards, concurrency=args.concurrency
                    )
                    rates.append(written / elapsed)
                    print(
                        f"  round {round_number + 1}: {shards} worker(s): {written} records in {elapsed:.1f} s "
                        f"= {written / elapsed:.1f}/s",
                        flush=True,
                    )
            one_rates.append(rates[0])
            two_rates.append(rates[1])
            ratios.append(rates[1] / rates[0])
        print(f"\nmedians of {args.rounds} rounds, records per second of wall time")
        print(f"  one worker                  {statistics.median(one_rates):7.1f}")
        print(f"  two shard workers together  {statistics.median(two_rates):7.1f}")
        print(
            f"  two / one (per round, median) {statistics.median(ratios):5.2f}   (issue 14's target: >= 1.8)"
        )
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)


def reset_database(url: str) -> None:
    """Every table of ours emptied: each configuration starts from a fresh state."""
    import psycopg  # noqa: PLC0415 -- only with --state postgresql://...

    with psycopg.connect(url, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'news_%'"
            )
        ]
        for table in tables:
            if table != "news_schema_version":
                connection.execute(f'TRUNCATE "{table}" CASCADE')


if __name__ == "__main__":
    main()
