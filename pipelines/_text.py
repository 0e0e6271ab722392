"""Body text clean-up after trafilatura: what its generic rules leave behind."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Whole paragraphs that are boilerplate in any template, in several languages.
_BOILERPLATE_LINE = re.compile(
    r"^(?:"
    r"back to top|nach oben|retour en haut|volver arriba|torna su|наверх|"
    r"leave a (?:reply|comment)|your email address will not be published.*|required fields are marked.*|"
    r"share (?:this|on .*)|teilen|partager|compartir|поделиться|"
    r"(?:sign up|subscribe) (?:for|to) .*newsletter.*|newsletter abonnieren|"
    r"related (?:articles|stories|posts)|advertisement|anzeige|publicité|publicidad|реклама"
    r")\W*$",
    re.IGNORECASE,
)
# Inline teasers: "Read also: <headline>" and their translations.
_TEASER = re.compile(
    r"^(?:read (?:also|more)|see also|also read|lesen sie auch|mehr zum thema|auch interessant|"
    r"(?:à )?lire aussi|voir aussi|lea también|lee también|ver también|leggi anche|"
    r"читайте также|смотрите также)\s*[:：\-–—]",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|[^\W_]+(?:['’\-][^\W_]+)*")


def _norm(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def clean_body(raw: str, title: str | None) -> str:
    """Paragraphs joined by a blank line, without title line, teasers or boilerplate lines."""
    title_key = _norm(title) if title else None
    paragraphs: list[str] = []
    for line in raw.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if not line:
            continue
        if title_key and _norm(line) == title_key:
            continue
        if _BOILERPLATE_LINE.match(line) or _TEASER.match(line):
            continue
        paragraphs.append(line)
    return "\n\n".join(paragraphs)


def count_words(text: str) -> int:
    """Words, counting each CJK character as one (those scripts do not separate words)."""
    return len(_WORD.findall(text))


def content_hash(text: str) -> str:
    """Hash of the normalised body: stable under whitespace and case changes."""
    normalised = " ".join(_norm(text).split())
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).hexdigest()
