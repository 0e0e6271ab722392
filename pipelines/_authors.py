"""Author names: real people and desks only, one name per entry."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Byline prefixes in the languages we see most; matched case-insensitively at the start.
_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|reported|story|text|words|photos?)\s+by|by|von|por|par|di|door|av|af|"
    r"autor(?:in)?|auteur|автор|от|texto|text)\s*[:\-–]?\s+",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:;|,|\||&|/|\s+(?:and|und|et|y|e|и|en|og|och|i)\s+)\s*", re.IGNORECASE)
# Tails glued to names: "Jane Doe · 4 Sep 2023", "Jane Doe - Updated 10:05", "Jane Doe (AFP)".
_TAIL = re.compile(r"\s*(?:[·•|–—]|\s-\s|\bupdated\b|\bpublished\b|\bposted\b|\d).*$", re.IGNORECASE)
_PAREN = re.compile(r"\s*[(\[].*?[)\]]")
_PLACEHOLDERS = {
    "admin",
    "administrator",
    "author",
    "anonymous",
    "guest",
    "unknown",
    "staff",
    "staff writer",
    "staff reporter",
    "editor",
    "editors",
    "editorial",
    "editorial staff",
    "editorial team",
    "web editor",
    "webmaster",
    "redaktion",
    "rédaction",
    "redacción",
    "redazione",
    "редакция",
    "user",
    "root",
    "contributor",
    "correspondent",
    "reporter",
    "writer",
    "team",
    "none",
    "null",
}
_ROLE = re.compile(
    r"^(?:senior |chief |special |political |foreign |staff |contributing |guest )*"
    r"(?:writer|reporter|editor|correspondent|columnist|contributor|photographer)s?$",
    re.IGNORECASE,
)


def _clean_one(raw: str) -> str | None:
    name = unicodedata.normalize("NFKC", raw).strip()
    name = _PAREN.sub("", name)
    name = _PREFIX.sub("", name)
    name = _TAIL.sub("", name)
    name = name.strip(" \t\n.,:;-–—'\"")
    if not name or "@" in name or "://" in name or "www." in name.lower():
        return None
    lowered = name.lower()
    if lowered in _PLACEHOLDERS or _ROLE.match(name):
        return None
    words = name.split()
    if len(words) > 5 or len(name) > 60 or not any(ch.isalpha() for ch in name):
        return None
    if len(words) == 1 and name.islower():
        # a lone lowercase token is a user handle or a CMS login, not a byline
        return None
    return " ".join(words)


def clean_authors(candidates: Iterable[str]) -> list[str]:
    """Split, clean and de-duplicate raw author strings, keeping their order."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in candidates:
        if not raw:
            continue
        head = _PREFIX.sub("", unicodedata.normalize("NFKC", raw).strip())
        for part in _SPLIT.split(head):
            name = _clean_one(part)
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return names
