"""An extraction plugin that misbehaves on purpose, for the worker-fault tests."""

from __future__ import annotations

import os
import time
from typing import Any


def misbehave(page: Any, record: dict[str, Any]) -> dict[str, Any]:
    """Crash the worker, hang it, or raise, when the page's URL asks for it."""
    if "/generated/13.html" in page.url:
        os._exit(3)  # the worker process dies, as on a segfault in a C extension
    if "/generated/17.html" in page.url:
        time.sleep(3600)  # the worker hangs
    if "/generated/19.html" in page.url:
        raise RuntimeError("extractor bug on this page")
    return record
