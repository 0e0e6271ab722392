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
    r"related (?:articles|stories|posts)|advertisement|anzeige|publicité|publicidad|реклама|"
    r"table of contents|inhaltsverzeichnis|sommaire|índice|contents|"
    r"read more|learn more|see more|show more|load more|weiterlesen|mehr lesen|lire la suite|leer más|"
    r"\d+\s*(?:min(?:ute)?s?|minuten?)\.?\s*(?:read|reading|lesezeit|de lecture|de lectura)|"
    r"(?:lesezeit|reading time|temps de lecture)\W*\d+\s*(?:min(?:ute)?s?|minuten?)\.?|"
    r"print|drucken|imprimer|copy link|link kopieren|skip to (?:main )?content|"
    r"\[[A-Z_]{3,}\]"
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
_CJK = "[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"
_WORD = re.compile(rf"{_CJK}|[^\W_]+(?:['’\-][^\W_]+)*")
# the same words in a text without CJK characters: the pattern is tried at every character, and
# trying the CJK branch first costs a sixth of the count
_CJK_CHARACTER = re.compile(_CJK)
_WORD_NOT_CJK = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def _norm(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


# A line that is nothing but a date, with at most a label ("Posted on", "Updated:"): the
# byline's date, which the record holds in its date fields.
_DATE_LABEL = re.compile(
    r"(?:last\s+)?(?:posted|published|updated|modified|veröffentlicht|aktualisiert|publié|mis à jour|"
    r"publicado|actualizado|stand)(?:\s+(?:on|at|am|le|el|the))?\s*:?",
    re.IGNORECASE,
)
_MONTHS = (
    r"jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|f[ée]vrier|mar(?:ch)?|m[äa]rz|mars|apr(?:il)?|avril|may|mai|"
    r"jun(?:e|i)?|juin|jul(?:y|i)?|juillet|aug(?:ust)?|ao[ûu]t|sep(?:t|tember|tembre)?|oct(?:ober)?|okt(?:ober)?|"
    r"octobre|nov(?:ember|embre)?|dec(?:ember)?|dez(?:ember)?|d[ée]cembre|uhr|am|pm|utc|gmt|[ap]\.m\."
)
_MONTH_WORD = re.compile(rf"\b(?:{_MONTHS.split('|uhr', 1)[0]})\b", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")
_DATE_ONLY = re.compile(rf"^(?:(?:{_MONTHS})\b|[\d\s.,:/|–-])+$", re.IGNORECASE)


def _is_date_line(line: str) -> bool:
    if len(line) > 48 or (not any(ch.isdigit() for ch in line) and not _DATE_LABEL.fullmatch(line.strip())):
        return False
    if line.startswith("|"):
        return False  # a table row
    rest = _DATE_LABEL.sub("", line, count=1).strip()
    if not rest:
        return bool(_DATE_LABEL.fullmatch(line.strip()))
    if not (_MONTH_WORD.search(rest) or _NUMERIC_DATE.search(rest)):
        return False  # scores, times, ranges, phone numbers
    # a day and a year, not a lone number ("1998" heads a timeline's paragraph)
    return bool(_DATE_ONLY.match(rest) and len(re.findall(r"\d+", rest)) >= 2)


# NFKC composes at most four characters into one (U+1F8F from Α and three marks): a line
# longer than this many times the title cannot normalise to it
_NORMAL_FORM_SHRINK = 4


def clean_body(raw: str, title: str | None) -> str:
    """Paragraphs joined by a blank line, without title line, teasers or boilerplate lines."""
    return "\n\n".join(clean_lines(raw, title)[0])


def clean_lines(raw: str, title: str | None) -> tuple[list[str], list[str]]:
    """The lines ``clean_body`` keeps, and the non-empty lines it drops."""
    title_key = _norm(title) if title else None
    longest = len(title_key) * _NORMAL_FORM_SHRINK if title_key else 0
    paragraphs: list[str] = []
    dropped: list[str] = []
    for line in raw.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if not line:
            continue
        if (
            (title_key and len(line) <= longest and _norm(line) == title_key)
            or _BOILERPLATE_LINE.match(line)
            or _TEASER.match(line)
            or _is_date_line(line)
        ):
            dropped.append(line)
            continue
        paragraphs.append(line)
    return paragraphs, dropped


# XML's white space: what XPath's normalize-space() squeezes (not U+00A0)
XML_SPACE = re.compile(r"[ \t\r\n]+")


def normalized_length(text: str) -> int:
    """The length XPath's ``string-length(normalize-space(...))`` gives ``text``."""
    return len(XML_SPACE.sub(" ", text).strip(" "))


def count_words(text: str) -> int:
    """Words, counting each CJK character as one (those scripts do not separate words).

    No word spans a line break, so the count of a text is the sum of its lines' counts."""
    if _CJK_CHARACTER.search(text) is None:
        return len(_WORD_NOT_CJK.findall(text))
    return len(_WORD.findall(text))


def content_hash(text: str) -> str:
    """Hash of the normalised body: stable under whitespace and case changes."""
    normalised = " ".join(_norm(text).split())
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).hexdigest()
