"""Run ids: sortable by start time, unique across concurrent runs."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from scrapy.settings import BaseSettings

from crawler.shards import parse_shard


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_id_for(settings: BaseSettings) -> str:
    """The run id of this crawl: ``NEWS_RUN_ID`` or one made once per process and crawl settings;
    a shard's (``NEWS_SHARD``) ends with its tag, ``-s03of16``, so that shards never share one."""
    tag = ""
    if settings.get("NEWS_SHARD"):
        try:
            tag = "-" + parse_shard(settings.get("NEWS_SHARD")).tag
        except ValueError:
            tag = ""  # reported by the settings check before anything is written
    given = settings.get("NEWS_RUN_ID")
    if given:
        return str(given) if str(given).endswith(tag) else f"{given}{tag}"
    # Components of one crawl share the settings object; the first caller fixes the id.
    cached = getattr(settings, "_news_run_id", None)
    if cached is None:
        cached = new_run_id() + tag
        object.__setattr__(settings, "_news_run_id", cached)
    return str(cached)
