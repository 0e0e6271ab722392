"""MkDocs hook: the record's fields, table generated from ``schema/record.schema.json`` at each build.

The reference page holds the marker ``<!-- generated: schema/record.schema.json -->``; the
table that replaces it is made from the schema the sink validates every record against,
so the page cannot drift from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "record.schema.json"
MARKER = "<!-- generated: schema/record.schema.json -->"


def _type(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    for choice in ("oneOf", "anyOf"):
        if choice in spec:
            return " or ".join(_type(branch, defs) for branch in spec[choice])
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"{_type(defs[name], defs)} ({name.replace('_', ' ')})"
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " / ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    kinds = spec.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    described = []
    for kind in kinds:
        if kind == "array" and isinstance(spec.get("items"), dict):
            described.append(f"array of {_type(spec['items'], defs)}")
        else:
            described.append(kind)
    return " or ".join(described)


def _resolved(spec: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The field's schema with its ``$ref`` filled in; one for each ``oneOf``/``anyOf`` branch."""
    for choice in ("oneOf", "anyOf"):
        if choice in spec:
            return [part for branch in spec[choice] for part in _resolved(branch, defs)]
    if "$ref" in spec:
        return [{**defs[spec["$ref"].rsplit("/", 1)[-1]], **spec}]
    return [spec]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _limits(spec: dict[str, Any]) -> str:
    names = {
        "minLength": "length at least {}",
        "maxLength": "length at most {}",
        "minimum": "at least {}",
        "maximum": "at most {}",
        "pattern": "matches `{}`",
        "format": "format {}",
        "maxItems": "at most {} items",
    }
    return "; ".join(text.format(spec[key]) for key, text in names.items() if key in spec)


def schema_table(schema: dict[str, Any]) -> str:
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    rows = ["| field | JSON type | required | constraints | schema's description |", "|---|---|---|---|---|"]
    for name, spec in schema["properties"].items():
        limits = "; ".join(text for part in _resolved(spec, defs) if (text := _limits(part)))
        rows.append(
            f"| `{name}` | {_cell(_type(spec, defs))} | {'yes' if name in required else 'no'} | "
            f"{_cell(limits)} | {_cell(spec.get('description', ''))} |"
        )
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, schema_table(json.loads(SCHEMA.read_text(encoding="utf-8"))))


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the schema changes, as when a page does."""
    server.watch(str(SCHEMA))
    return server
