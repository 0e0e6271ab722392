"""Run ids: sortable by start time, unique across concurrent runs, safe as a file name."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from scrapy.settings import BaseSettings

from crawler.state.shards import parse_shard

# A run id names parts (<run_id>-00000.jsonl) and summaries (_runs/<run_id>.json) under the
# output: no '/', no leading '.', nothing a shell or an object store treats specially.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_id_problem(given: object) -> str | None:
    """What is wrong with ``NEWS_RUN_ID``, or None when it can name files."""
    if _SAFE.fullmatch(str(given)):
        return None
    return (
        f"NEWS_RUN_ID={str(given)[:120]!r}: a run id is 1 to 100 letters, digits, '.', '_' and '-', "
        "starting with a letter or digit (it names the run's files under NEWS_OUTPUT)"
    )


def run_id_for(settings: BaseSettings) -> str:
    """The run id of this crawl: ``NEWS_RUN_ID`` or one made once per process and crawl settings;
    a shard's (``NEWS_SHARD``) ends with its tag, ``-s03of16``, so that shards never share one.

    An unsafe ``NEWS_RUN_ID`` is never used: the settings check stops such a run at start, and
    what that start writes (its summary) takes a made id instead."""
    tag = ""
    if settings.get("NEWS_SHARD"):
        try:
            tag = "-" + parse_shard(settings.get("NEWS_SHARD")).tag
        except ValueError:
            tag = ""  # reported by the settings check before anything is written
    given = settings.get("NEWS_RUN_ID")
    if given and run_id_problem(given) is None:
        return str(given) if str(given).endswith(tag) else f"{given}{tag}"
    # Components of one crawl share the settings object; the first caller fixes the id.
    cached = getattr(settings, "_news_run_id", None)
    if cached is None:
        cached = new_run_id() + tag
        object.__setattr__(settings, "_news_run_id", cached)
    return str(cached)
