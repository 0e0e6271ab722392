"""The one place where the process environment reaches the settings.

Every ``NEWS_*`` setting defined in ``settings/base.py`` can be overridden by an
environment variable of the same name (Docker, cron). Values are converted to
the type of the default: ``true``/``false`` for booleans, numbers for numbers,
JSON or a comma-separated string for lists, JSON for dicts. ``-s NAME=VALUE``
on the command line still wins over the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvironmentSettingError(ValueError):
    """An environment variable could not be converted to its setting's type."""


def convert(name: str, raw: str, default: Any) -> Any:
    """Convert ``raw`` to the type of ``default``, or raise a clear error."""
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
        raise EnvironmentSettingError(f"environment variable {name}={raw!r}: {exc}") from exc
    return raw


def overrides(defaults: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the ``NEWS_*`` settings that the environment overrides."""
    environ = os.environ if environ is None else environ
    return {
        name: convert(name, environ[name], default)
        for name, default in defaults.items()
        if name.startswith("NEWS_") and name in environ
    }
