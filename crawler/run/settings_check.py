"""Settings checked before a crawl starts: a misspelt or mistyped setting is an error, not a default.

The environment's problems are found when the settings load (``settings/environment.py``)
and wait in ``SETTINGS_PROBLEMS``; names given with ``-s`` are checked here against the
settings the product defines. ``scrapy crawlall`` reports them as one line and exits 2;
the ``crawl`` commands stop at start through ``SettingsCheck``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES, default_settings

from crawler.run.limits import NEWS_RANGES, SCRAPY_RANGES, generic_range
from crawler.run.logjson import LOG_FORMATS
from crawler.run.runid import run_id_problem
from crawler.spiders.article import oneoff_folder_problem
from crawler.state import dsn
from crawler.state.shards import parse_shard
from settings import base
from settings.environment import EnvironmentSettingError, convert, did_you_mean

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

KNOWN = {name for name in vars(base) if name.startswith("NEWS_")}
# what `-s` may name besides NEWS_*: Scrapy's settings (its defaults, and the few its components
# read without one) and the project's own
SCRAPY_KNOWN = {
    *(name for name in vars(default_settings) if name.isupper()),
    *(name for name in vars(base) if name.isupper() and not name.startswith("NEWS_")),
    "CONCURRENT_REQUESTS_PER_IP",
}


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


def _range_problems(settings: Any, mistyped: str) -> list[str]:
    """Numbers out of their range (``crawler/run/limits.py``): NaN, infinities, negatives where a
    count or a time is meant, values no run could use. A setting whose type is already wrong
    (named in ``mistyped``) is reported once, there."""
    problems = []
    for name in sorted(KNOWN):
        limits = NEWS_RANGES.get(name) or generic_range(getattr(base, name))
        value = settings.get(name)
        if limits is not None and f" {name}=" not in mistyped:
            problem = limits.check(value)
            if problem:
                problems.append(f"setting {name}={_shown(value)}: {problem}")
    for name, limits in SCRAPY_RANGES.items():
        value = settings.get(name)
        problem = limits.check(value) if value is not None else None
        if problem:
            problems.append(f"setting {name}={_shown(value)}: {problem}")
    try:
        history, least = settings.getint("NEWS_HEALTH_HISTORY_RUNS"), settings.getint("NEWS_HEALTH_MIN_RUNS")
    except ValueError:  # reported above
        return problems
    if least > history:
        problems.append(
            f"setting NEWS_HEALTH_MIN_RUNS={least} is above NEWS_HEALTH_HISTORY_RUNS={history}: "
            "no source would ever be judged"
        )
    return problems


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def settings_problems(settings: Any) -> list[str]:
    problems = list(settings.getlist("SETTINGS_PROBLEMS"))
    if not settings.getbool("NEWS_IGNORE_UNKNOWN_SETTINGS"):
        for name in sorted(name for name in settings if name.startswith("NEWS_") and name not in KNOWN):
            problems.append(f"setting {name}: no such setting{did_you_mean(name, KNOWN)}")
        for name in sorted(
            name
            for name in settings
            if not name.startswith("NEWS_")
            and name not in SCRAPY_KNOWN
            and settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"]
        ):
            problems.append(f"setting {name}: no such setting{did_you_mean(name, SCRAPY_KNOWN)}")
    problems += _command_line_values(settings)
    problems += _range_problems(settings, " " + " ".join(problems))
    if settings.get("NEWS_RUN_ID"):
        problem = run_id_problem(settings.get("NEWS_RUN_ID"))
        if problem:
            problems.append(f"setting {problem}")
    state = str(settings.get("NEWS_STATE") or "")
    if dsn.misread_password(state):
        problems.append(f"setting NEWS_STATE={dsn.display(state)!r}: {dsn.misread_password(state)}")
    if dsn.is_conninfo(state):
        problems.append(
            f"setting NEWS_STATE={dsn.display(state)!r}: a libpq keyword=value string is not a state "
            "location; give a postgresql://user@host:port/dbname URL (or a SQLite file path)"
        )
    if settings.get("NEWS_SHARD"):
        try:
            parse_shard(str(settings.get("NEWS_SHARD")))
        except ValueError as exc:
            problems.append(f"setting NEWS_SHARD: {exc}")
    if not str(settings.get("NEWS_OUTPUT") or "").strip() and settings.get("NEWS_SINK_ENABLED") is not False:
        problems.append("setting NEWS_OUTPUT='': expected a folder, file://... or s3://bucket/prefix")
    folder = str(settings.get("NEWS_ONEOFF_FOLDER") or "").strip()
    if folder and oneoff_folder_problem(folder):
        problems.append(f"setting NEWS_ONEOFF_FOLDER={folder!r}: {oneoff_folder_problem(folder)}")
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
