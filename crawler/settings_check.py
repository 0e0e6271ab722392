"""Settings checked before a crawl starts: a misspelt or mistyped setting is an error, not a default.

The environment's problems are found when the settings load (``settings/environment.py``)
and wait in ``SETTINGS_PROBLEMS``; names given with ``-s`` are checked here against the
settings the product defines. ``scrapy crawlall`` reports them as one line and exits 2;
the ``crawl`` commands stop at start through ``SettingsCheck``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from settings import base
from settings.environment import did_you_mean

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

KNOWN = {name for name in vars(base) if name.startswith("NEWS_")}


def settings_problems(settings: Any) -> list[str]:
    problems = list(settings.getlist("SETTINGS_PROBLEMS"))
    if not settings.getbool("NEWS_IGNORE_UNKNOWN_SETTINGS"):
        for name in sorted(name for name in settings if name.startswith("NEWS_") and name not in KNOWN):
            problems.append(f"setting {name}: no such setting{did_you_mean(name, KNOWN)}")
    return problems


class SettingsCheck:
    """An extension that stops a crawl at start when its settings are wrong."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SettingsCheck:
        problems = settings_problems(crawler.settings)
        if problems:
            raise ValueError("; ".join(problems))
        return cls()
