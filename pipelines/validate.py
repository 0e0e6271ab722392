"""Validate step: every record satisfies the JSON Schema in the repo, or is dropped."""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from crawler.run.drops import DropArticle

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "record.schema.json"

# The order of the record contract in DESIGN.md; written records follow it.
FIELD_ORDER = (
    "schema_version", "id", "url", "canonical_url", "source", "site_name", "title", "description",
    "authors", "published_at", "published_date", "modified_at", "date_source", "language", "section",
    "tags", "image", "text", "word_count", "content_hash", "fetched_at", "version", "duplicate_of",
    "warc_file", "warc_record_id",
)  # fmt: skip
# the page's WARC records (NEWS_WARC_OUTPUT), carried to the sink, which writes them beside the part
WARC_PAYLOAD = "_warc"


def load_validator(path: str | Path = SCHEMA_PATH) -> Draft202012Validator:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub(value: Any) -> Any:
    """Strings made encodable: a lone surrogate (an emoji cut in half) becomes U+FFFD."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(entry) for entry in value]
    if isinstance(value, dict):
        return {key: _scrub(entry) for key, entry in value.items()}
    return value


def to_record(item: dict[str, Any]) -> dict[str, Any]:
    """The public record: internal ``_`` fields removed, contract fields first."""
    record = {name: item[name] for name in FIELD_ORDER if name in item}
    record.update({k: v for k, v in item.items() if k not in record and not k.startswith("_")})
    return _scrub(record)


def record_problems(record: dict[str, Any], validator: Draft202012Validator | None = None) -> str:
    """What makes ``record`` break the schema (the first five problems), or an empty string."""
    if validator is None:
        validator = _default_validator()
    errors = sorted(validator.iter_errors(record), key=lambda error: list(error.path))
    return "; ".join(f"{'/'.join(map(str, e.path)) or '<record>'}: {e.message}" for e in errors[:5])


@lru_cache(maxsize=1)
def _default_validator() -> Draft202012Validator:
    return load_validator(SCHEMA_PATH)


class ValidateRecordPipeline:
    def __init__(self, validator: Draft202012Validator):
        self.validator = validator

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidateRecordPipeline:
        path = crawler.settings.get("NEWS_VALIDATE_SCHEMA") or SCHEMA_PATH
        try:
            return cls(load_validator(path))
        except (OSError, ValueError, SchemaError) as exc:  # a start failure: exit 2, one line
            cause = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror else getattr(exc, "message", exc)
            )
            raise ValueError(f"NEWS_VALIDATE_SCHEMA {path}: not a usable JSON Schema file ({cause})") from exc

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        record = to_record(item)
        problems = record_problems(record, self.validator)
        if problems:
            logger.warning(
                "Invalid record for %(url)s: %(problems)s", {"url": item.get("url"), "problems": problems}
            )
            raise DropArticle("invalid", problems, log_level="WARNING")
        if WARC_PAYLOAD in item:
            record[WARC_PAYLOAD] = item[WARC_PAYLOAD]
        return record
