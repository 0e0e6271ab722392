"""`make demo`: serve the bundled demo site on 127.0.0.1, crawl its sources, show what came out.

The crawl is the product's main job, `news-ingest crawl news`, over `demo/sources.toml`:
one source found through feeds, sitemaps and sections, one through its home page. Each
demo run writes to a fresh folder, ``output/demo-<UTC time>/``, with a state store of its
own, so a second `make demo` shows records again instead of finding every article
already emitted (which is what a second scheduled run of the real job rightly does).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from demo.server import running_site

REPO = Path(__file__).resolve().parent.parent


def command() -> list[str]:
    """``news-ingest`` from the venv that runs this; ``python -m scrapy`` in a checkout never installed."""
    installed = Path(sys.executable).parent / "news-ingest"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "scrapy"]


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def fresh_output(root: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = root / f"demo-{stamp}", 1
    while target.exists():  # two demos in the same second
        n += 1
        target = root / f"demo-{stamp}-{n}"
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Crawl the bundled demo site and show what came out.")
    parser.add_argument(
        "--into", type=Path, default=REPO / "output", help="folder for the demo-<time> output"
    )
    output = fresh_output(parser.parse_args(argv).into.resolve())
    with running_site() as site, tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources.toml"
        template = (REPO / "demo" / "sources.toml").read_text(encoding="utf-8")
        sources.write_text(template.replace("{base}", site.base_url), encoding="utf-8")
        print(f"Demo site served at {site.base_url}/ ; crawling it into {output}/", flush=True)
        process = subprocess.run(
            [*command(), "crawl", "news", "-s", f"NEWS_SOURCES={sources}",
             "-s", f"NEWS_OUTPUT={output}", "-s", f"NEWS_STATE={tmp}/state.sqlite", "-s", "LOG_LEVEL=INFO",
             # the demo site is on loopback, which the address guard refuses by default
             "-s", "NEWS_ALLOW_PRIVATE_NETWORKS=true"],
            cwd=REPO,
            check=False,
        )  # fmt: skip
    if process.returncode != 0:
        print(f"The crawl failed with exit code {process.returncode}", file=sys.stderr)
        return process.returncode
    summaries = sorted((output / "_runs").glob("*.json"), key=lambda path: path.stat().st_mtime)
    summary = json.loads(summaries[-1].read_text(encoding="utf-8"))
    run_id = summary["run_id"]
    parts = sorted(output.glob(f"source=*/date=*/{run_id}-*.jsonl*"))
    print()
    print(f"Records written: {summary['records_written']}; dropped: {summary['dropped']}")
    print("Parts of this run:")
    for part in parts:
        print(f"  {shown(part)}")
    print(f"Run summary: {shown(summaries[-1])}")
    if parts:
        first = json.loads(parts[0].read_text(encoding="utf-8").splitlines()[0])
        first["text"] = first["text"][:300] + ("…" if len(first["text"]) > 300 else "")
        print("\nOne record (text shortened here, not in the file):")
        print(json.dumps(first, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
