"""Body text clean-up after trafilatura: what its generic rules leave behind."""

from __future__ import annotations

import hashlib
import re
import unicodedata


# Elements removed before extraction. trafilatura already discards most
# navigation; these are the article-adjacent blocks it sometimes keeps.
def _short(condition: str, limit: int = 1500) -> str:
    # Boilerplate blocks are short: a class word such as "newsletter" or "share"
    # on an element that holds the whole article must not remove the article.
    return f"//*[{condition}][string-length(normalize-space(.)) < {limit}]"


def _class_has(*words: str) -> str:
    return " or ".join(f"contains(@class, '{word}') or contains(@id, '{word}')" for word in words)


# Elements removed before extraction. trafilatura already discards most
# navigation; these are the article-adjacent blocks it sometimes keeps.
BOILERPLATE_XPATHS = [
    "//figcaption",
    # not every form: ASP.NET WebForms wraps the whole page in one
    _short("self::form", 400),
    _short("contains(concat(' ', normalize-space(@class), ' '), ' wp-caption-text ')"),
    _short("@id='respond' or @id='comments' or " + _class_has("comment-respond", "comment-list", "comments")),
    _short(_class_has("share", "social", "related", "newsletter", "subscribe", "subscription")),
    _short(_class_has("cookie", "consent", "back-to-top", "backtotop", "read-also", "readalso", "read-more")),
    "//a[@href='#top']",
    # Bylines and datelines: their content is in the metadata, not in the body.
    _short(
        "re:test(concat(' ', @class, ' ', @id, ' '), "
        "'(^|[-_ ])(byline|author|authors|autor|auteur|signature|dateline|date|datum|fecha|"
        "article-date|news-date|news-author|post-date|post-meta|entry-meta|article-meta|"
        "date-publication|publication|published|posted|timestamp)([-_ ]|$)', 'i')",
        240,
    ),
]
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
