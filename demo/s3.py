"""`make s3-demo`: S3 output tried locally, without an account or Docker.

Starts the SeaweedFS that the dev tools install (`.venv/bin/weed`) on free loopback ports,
makes a bucket `news` in it, crawls the bundled demo site into `s3://news/demo` with
`news-ingest crawl news` (credentials and endpoint given the standard AWS way, as to any
S3-compatible store), lists what arrived, prints one record read back with boto3, and
stops the server. `--keep` leaves it running and prints what to export to use it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from demo.run import REPO, command
from demo.seaweed import SeaweedS3
from demo.server import running_site

BUCKET, PREFIX = "news", "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Crawl the demo site into a local S3 server.")
    parser.add_argument("--keep", action="store_true", help="leave the S3 server running at the end")
    keep = parser.parse_args(argv).keep
    work = Path(tempfile.mkdtemp(prefix="news-s3-demo-"))
    server = SeaweedS3(work / "seaweed")
    print(f"Starting SeaweedFS (weed mini) on 127.0.0.1, data in {work / 'seaweed'} ...", flush=True)
    server.start()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        print(f"S3 endpoint {server.endpoint}, bucket {BUCKET!r} made", flush=True)
        code = crawl_into(server, work)
        if code == 0:
            show(server)
        if keep:
            print("\nThe server keeps running; to use it from this shell:")
            for name, value in server.env().items():
                print(f"  export {name}={value}")
            print(f"  news-ingest crawlall ... with NEWS_OUTPUT=s3://{BUCKET}/<prefix>")
            print(f"Stop it with: kill {server.process.pid if server.process else '?'}")
        return code
    finally:
        if not keep:
            server.stop()
            shutil.rmtree(work, ignore_errors=True)


def crawl_into(server: SeaweedS3, work: Path) -> int:
    with running_site() as site:
        sources = work / "sources.toml"
        template = (REPO / "demo" / "sources.toml").read_text(encoding="utf-8")
        sources.write_text(template.replace("{base}", site.base_url), encoding="utf-8")
        print(f"Demo site served at {site.base_url}/ ; crawling it into s3://{BUCKET}/{PREFIX}/", flush=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("NEWS_", "AWS_"))}
        env.update(server.env())
        process = subprocess.run(
            [*command(), "crawl", "news", "-s", f"NEWS_SOURCES={sources}",
             "-s", f"NEWS_OUTPUT=s3://{BUCKET}/{PREFIX}", "-s", f"NEWS_STATE={work}/state.sqlite",
             # the demo site is on loopback, which the address guard refuses by default
             "-s", "NEWS_ALLOW_PRIVATE_NETWORKS=true"],
            cwd=REPO, env=env, check=False,
        )  # fmt: skip
    if process.returncode != 0:
        print(f"The crawl failed with exit code {process.returncode}", file=sys.stderr)
    return process.returncode


def show(server: SeaweedS3) -> None:
    keys = sorted(server.keys(BUCKET))
    parts = [key for key in keys if key.endswith((".jsonl", ".jsonl.gz"))]
    print(f"\nObjects in s3://{BUCKET}/: {len(keys)} ({len(parts)} parts, the rest run summaries)")
    for key in keys:
        print(f"  s3://{BUCKET}/{key}")
    if parts:
        body = server.client().get_object(Bucket=BUCKET, Key=parts[0])["Body"].read()
        first = json.loads(body.decode("utf-8").splitlines()[0])
        first["text"] = first["text"][:200] + ("…" if len(first["text"]) > 200 else "")
        print(f"\nOne record of s3://{BUCKET}/{parts[0]} (text shortened here):")
        print(json.dumps(first, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
