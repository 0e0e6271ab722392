"""Regenerate tests/expected/*.json from a crawl of the demo site: CHANGE DETECTION.

These files are what the code printed, not truth: they catch any change in any field of
the demo records (word counts, hashes, field order), which is then read in the diff
(``git diff tests/expected``) before it is committed. What the records must say is written
by a person, from the pages, in tests/truth/demo_pages.toml (tests/test_truth.py).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from demo.server import running_site
from tests.crawling import EXPECTED, Crawl, comparable, run_scrapy, url_file


def main() -> None:
    EXPECTED.mkdir(exist_ok=True)
    with running_site() as server, tempfile.TemporaryDirectory() as tmp:
        urls = url_file(server.base_url, Path(tmp) / "urls.txt")
        output = Path(tmp) / "output"
        process = run_scrapy("crawl", "article", "-a", f"urls={urls}", "-s", f"NEWS_OUTPUT={output}")
        if process.returncode != 0:
            raise SystemExit(process.stderr[-3000:])
        crawl = Crawl(server.base_url, output, process)
        for name, record in sorted(crawl.by_slug().items()):
            target = EXPECTED / f"{name}.json"
            target.write_text(
                json.dumps(comparable(record, server.base_url), ensure_ascii=False, indent=2, sort_keys=True)
                + "\n",
                encoding="utf-8",
            )
            print(f"wrote {target.relative_to(EXPECTED.parent.parent)}")


if __name__ == "__main__":
    main()
