"""Settings checked before a crawl starts: a misspelt or mistyped setting is an error, not a default.

The environment's problems are found when the settings load (``settings/environment.py``)
and wait in ``SETTINGS_PROBLEMS``; names given with ``-s`` are checked here against the
settings the product defines. ``scrapy crawlall`` reports them as one line and exits 2;
the ``crawl`` commands stop at start through ``SettingsCheck``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

from crawler.logjson import LOG_FORMATS
from crawler.shards import parse_shard
from settings import base
from settings.environment import EnvironmentSettingError, convert, did_you_mean

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

KNOWN = {name for name in vars(base) if name.startswith("NEWS_")}


def _command_line_values(settings: Any) -> list[str]:
    """``-s NAME=VALUE`` arrives as a string: one that does not convert to the type of the
    setting's default is an error now, not a traceback where the setting is first read. One
    that does is stored converted (while the settings can change), so that ``-s`` takes the
    values the environment takes (``yes``/``no`` for booleans, JSON lists)."""
    problems = []
    for name in sorted(KNOWN):
        value, default = settings.get(name), getattr(base, name)
        given = settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"]
        if given and isinstance(value, str) and not isinstance(default, str):
            try:
                converted = convert(name, value, default, where="setting")
            except EnvironmentSettingError as exc:
                problems.append(str(exc))
                continue
            if not settings.frozen:
                settings.set(name, converted, priority="cmdline")
    return problems


def settings_problems(settings: Any) -> list[str]:
    problems = list(settings.getlist("SETTINGS_PROBLEMS"))
    if not settings.getbool("NEWS_IGNORE_UNKNOWN_SETTINGS"):
        for name in sorted(name for name in settings if name.startswith("NEWS_") and name not in KNOWN):
            problems.append(f"setting {name}: no such setting{did_you_mean(name, KNOWN)}")
    problems += _command_line_values(settings)
    if settings.get("NEWS_SHARD"):
        try:
            parse_shard(str(settings.get("NEWS_SHARD")))
        except ValueError as exc:
            problems.append(f"setting NEWS_SHARD: {exc}")
    log_format = str(settings.get("NEWS_LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        problems.append(
            f"setting NEWS_LOG_FORMAT={log_format!r}: expected one of {sorted(LOG_FORMATS)}"
            f"{did_you_mean(log_format, LOG_FORMATS)}"
        )
    return problems


class SettingsCheck:
    """An extension that stops a crawl at start when its settings are wrong."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SettingsCheck:
        problems = settings_problems(crawler.settings)
        if problems:
            raise ValueError("; ".join(problems))
        return cls()
