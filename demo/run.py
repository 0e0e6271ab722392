"""`make demo`: serve the bundled demo site on 127.0.0.1, crawl its sources, show what came out.

The crawl is the product's main job, `scrapy crawl news`, over `demo/sources.toml`:
one source found through feeds, sitemaps and sections, one through its home page.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from demo.server import running_site

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "output"


def main() -> int:
    with running_site() as site, tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        template = (REPO / "demo" / "sources.toml").read_text(encoding="utf-8")
        sources.write_text(template.replace("{base}", site.base_url), encoding="utf-8")
        print(f"Demo site served at {site.base_url}/ ; crawling it into {OUTPUT}/", flush=True)
        process = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"NEWS_SOURCES={sources}",
             "-s", f"NEWS_OUTPUT={OUTPUT}", "-s", "LOG_LEVEL=INFO",
             # the demo site is on loopback, which the address guard refuses by default
             "-s", "NEWS_ALLOW_PRIVATE_NETWORKS=true"],
            cwd=REPO,
            check=False,
        )  # fmt: skip
    if process.returncode != 0:
        print(f"The crawl failed with exit code {process.returncode}", file=sys.stderr)
        return process.returncode
    summaries = sorted((OUTPUT / "_runs").glob("*.json"), key=lambda path: path.stat().st_mtime)
    summary = json.loads(summaries[-1].read_text(encoding="utf-8"))
    run_id = summary["run_id"]
    parts = sorted(OUTPUT.glob(f"source=*/date=*/{run_id}-*.jsonl*"))
    print()
    print(f"Records written: {summary['records_written']}; dropped: {summary['dropped']}")
    print("Parts of this run:")
    for part in parts:
        print(f"  {part.relative_to(REPO)}")
    print(f"Run summary: {summaries[-1].relative_to(REPO)}")
    if parts:
        first = json.loads(parts[0].read_text(encoding="utf-8").splitlines()[0])
        first["text"] = first["text"][:300] + ("…" if len(first["text"]) > 300 else "")
        print("\nOne record (text shortened here, not in the file):")
        print(json.dumps(first, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
