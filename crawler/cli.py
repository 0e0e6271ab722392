"""``news-ingest``: the project's Scrapy commands from any directory.

``news-ingest crawlall``, ``news-ingest crawl article -a url=...``, ``news-ingest flush``: the
same commands, options and exit codes as ``scrapy ...`` in the project folder. The settings
come from the installed package rather than from a ``scrapy.cfg`` found by walking up from the
working directory, and relative paths (``NEWS_OUTPUT``, ``NEWS_STATE``, ``NEWS_SOURCES``) mean
the working directory.
"""

from __future__ import annotations

import os
import sys

SETTINGS_MODULE = "settings.base"


def main(argv: list[str] | None = None) -> None:
    # Scrapy takes the project from SCRAPY_SETTINGS_MODULE before it looks for scrapy.cfg;
    # a value already set (another settings module built on ours) wins.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    from scrapy.cmdline import execute  # noqa: PLC0415 -- after the environment is set

    execute(["news-ingest", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
