"""The one place where the process environment reaches the settings.

Every ``NEWS_*`` setting defined in ``settings/base.py`` can be overridden by an
environment variable of the same name (Docker, cron). Values are converted to
the type of the default: ``true``/``false`` for booleans, numbers for numbers,
JSON or a comma-separated string for lists, JSON for dicts. ``-s NAME=VALUE``
on the command line still wins over the environment.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvironmentSettingError(ValueError):
    """An environment variable could not be converted to its setting's type."""


def convert(name: str, raw: str, default: Any, where: str = "environment variable") -> Any:
    """Convert ``raw`` to the type of ``default``, or raise a clear error naming ``where`` it came from."""
    try:
        if isinstance(default, bool):
            value = raw.strip().lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, (list, tuple)):
            raw = raw.strip()
            if raw.startswith("["):
                return list(json.loads(raw))
            return [part.strip() for part in raw.split(",") if part.strip()]
        if isinstance(default, dict):
            return dict(json.loads(raw))
    except ValueError as exc:
        raise EnvironmentSettingError(f"{where} {name}={raw!r}: {exc}") from exc
    return raw


def overrides(defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the ``NEWS_*`` settings that the environment overrides."""
    environ = os.environ if environ is None else environ
    return {
        name: convert(name, environ[name], default)
        for name, default in defaults.items()
        if name.startswith("NEWS_") and name in environ
    }


def did_you_mean(name: str, known: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def checked_overrides(
    defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The ``NEWS_*`` overrides that convert, and one line for each variable that is wrong:
    a value of the wrong type, or a name no setting has. The problems stop the run at start
    (``crawler/run/settings_check.py``), with one message and exit code 2, instead of a traceback
    while the settings load."""
    environ = os.environ if environ is None else environ
    known = {name for name in defaults if name.startswith("NEWS_")}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in sorted(known & set(environ)):
        try:
            values[name] = convert(name, environ[name], defaults[name])
        except EnvironmentSettingError as exc:
            problems.append(str(exc))
    # A Kubernetes Indexed Job gives each pod its index; NEWS_SHARDS says how many shards there are.
    index, shards = environ.get("JOB_COMPLETION_INDEX", "").strip(), values.get("NEWS_SHARDS")
    if index and shards and "NEWS_SHARD" not in values:
        values["NEWS_SHARD"] = f"{index}/{shards}"
    elif index and not shards and "NEWS_SHARD" not in values:
        problems.append(
            f"environment variable JOB_COMPLETION_INDEX={index!r} (a Kubernetes Indexed Job) without "
            "NEWS_SHARDS: every pod would crawl every source; set NEWS_SHARDS to the Job's completions"
        )
    ignore = str(environ.get("NEWS_IGNORE_UNKNOWN_SETTINGS", "")).strip().lower() in _TRUE
    if not ignore and not defaults.get("NEWS_IGNORE_UNKNOWN_SETTINGS"):
        for name in sorted(name for name in environ if name.startswith("NEWS_") and name not in known):
            problems.append(f"environment variable {name}: no such setting{did_you_mean(name, known)}")
    return values, problems
