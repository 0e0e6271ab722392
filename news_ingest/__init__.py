"""news-ingest: news articles from feeds, sitemaps and sites, as clean JSONL on disk or S3.

Installed from the wheel, the product's packages live inside this one (``news_ingest.crawler``,
``news_ingest.pipelines``, ``news_ingest.settings``), so that they never meet another
distribution's ``settings`` or ``crawler`` in a user's environment (``setup.py`` moves them
there when it builds the wheel). In a checkout they are the folders at the top of the repository.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

__all__ = ["Dropped", "extract", "extract_warc"]


def __getattr__(name: str) -> Any:
    # loaded on first use: `import news_ingest` alone loads neither Scrapy nor trafilatura
    if name not in __all__:
        raise AttributeError(f"module 'news_ingest' has no attribute {name!r}")
    installed = find_spec("news_ingest.pipelines") is not None
    return getattr(import_module("news_ingest.pipelines.api" if installed else "pipelines.api"), name)
