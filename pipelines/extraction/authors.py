"""Author names: real people and desks only, one name per entry."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Byline prefixes in the languages we see most; matched case-insensitively at the start.
_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|reported|authored|reviewed|story|article|recipe|text|words|photos?)\s+by|"
    r"insights?\s+from|by|von|por|par|di|door|av|af|"
    r"autor(?:in)?|authors?|auteur|автор|от|texto|text)\s*[:\-–]?\s+",
    re.IGNORECASE,
)
# Hard separators always split; conjunctions and commas only when a full name follows
# ("Lucía Fernández y Javier Ortega", but not "José Ortega y Gasset" or "Smith, John").
_HARD_SPLIT = re.compile(r"\s*(?:;|\||&|/)\s*")
_SOFT_SPLIT = re.compile(r"\s*,\s*|\s+(?:and|und|et|y|e|и|en|og|och|i)\s+", re.IGNORECASE)
# Tails glued to names: "Jane Doe · 4 Sep 2023", "Jane Doe⋅Review Editor", "Jane Doe - Updated 10:05", "Jane Doe (AFP)".
# A digit starts a tail only at the start of a word: "BR24 Redaktion" is a desk, not "BR" and a date.
_TAIL = re.compile(
    r"\s*(?:[·•⋅∙–—]|\s-\s|\blast\s+(?:updated|modified|edited)\b|\bupdated\b|\bpublished\b|\bposted\b|"
    r"\b(?:veröffentlicht|aktualisiert|publié|publicado|actualizado|pubblicato|gepubliceerd)\b|\b\d"
    r"|\s(?-i:in|im|dans)\s+(?-i:[A-Z])).*$",
    re.IGNORECASE,
)
_CALENDAR_WORDS = {
    *[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    *["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"],
    *["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday"],
    *[
        "januar",
        "februar",
        "märz",
        "mai",
        "juni",
        "juli",
        "oktober",
        "dezember",
        "montag",
        "dienstag",
        "mittwoch",
        "donnerstag",
    ],
    *["freitag", "samstag", "sonntag", "heute", "gestern"],
    *[
        "janvier",
        "février",
        "mars",
        "avril",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    *["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    *[
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    *["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
_URL = re.compile(r"^\s*(?:https?:|www\.)", re.IGNORECASE)
_PAREN = re.compile(r"\s*[(\[].*?[)\]]")
# "ByJane Doe": a byline whose "By" and name were set in separate elements without a space
_GLUED_BY = re.compile(r"^(?:written\s+)?by(?=[A-Z][a-z])")
# "Emily Lang and", "BeauHD on": a word left over from the rest of the sentence
_DANGLING = re.compile(r"\s+(?:and|und|et|y|on|at|in|am|for|für)\s*$", re.IGNORECASE)
# Words no one's name is made of: job titles, links and buttons of an author box.
_NOT_A_NAME = re.compile(
    r"\b(?:writer|editor|reporter|correspondent|columnist|contributor|fellow|consultant|attorney|"
    r"director|ceo|cto|cfo|founder|co-founder|manager|president|producer|analyst|strategist|"
    r"photographer|journalist|expert|specialist|intern|author|bio|profile|archive|feed|rss|orcid|pubmed|"
    r"coordinator|officer|marketer|engineer|developer|designer|scientist|researcher|stories|articles|posts|"
    r"twitter|facebook|instagram|linkedin|newsletter|email|e-mail|follow|view|read more|see more|see all|"
    r"more about|read full|"
    r"image|images|getty|istockphoto|shutterstock|photo|photos|video|updated|published|quelle|sponsored|"
    r"disclaimer|district)\b",
    re.IGNORECASE,
)
# Words that open a job title set after a name without a comma, "Jane Doe Senior Autos Reporter",
# "Howard Blume Staff Writer": the title runs from there to the end and holds a job word. A bare
# job word does not open one: "Certified Pediatric Sleep Consultant" is a title, not a name and one.
_TITLE_START = {
    *["senior", "junior", "chief", "head", "staff", "lead", "managing", "executive", "associate", "deputy"],
    *["assistant", "contributing", "principal", "freelance", "marketing", "content", "digital", "editorial"],
    *["special", "founder", "co-founder", "ceo", "cto", "cfo"],
}
# the same title glued to the name's last letter: "Danielle PadulaHead of Marketing"
_GLUED_TITLE = re.compile(
    r"(?<=[a-z])(?=(?:Senior|Junior|Chief|Head|Staff|Lead|Managing|Executive|Associate|Deputy|Assistant|"
    r"Contributing|Marketing|Content|Editor|Writer|Reporter|Director|Manager|Founder|Co-founder)\b)"
)
# a job title alone, with a conjunction no list of names has before a job word:
# "News & Culture Writer", "Marketing and Event Coordinator"
_JOB_TITLE = re.compile(r"^[^,|/;]{1,60}\s(?:&|and|und|et|y)\s[^,|/;]{1,40}$", re.IGNORECASE)


def _strip_title(name: str) -> str:
    """The name without a job title or a desk in capitals set after it ("Meg Wagner NEW YORK
    DAILY NEWS"); a name of one word, or a title alone ("Senior Politics Editor"), is left as it is."""
    words = _GLUED_TITLE.sub(" ", name).split()
    for index in range(len(words)):
        rest = words[index:]
        if rest[0].casefold() in _TITLE_START and (
            _NOT_A_NAME.search(" ".join(rest)) or (len(rest) > 1 and rest[1] == "of")
        ):
            return " ".join(words[:index]) if index >= 2 else name
        # a desk in capitals after a name that has none; credentials after a comma
        # ("Jane Doe, MS, RD") are the name's own
        capitals = index >= 2 and len(rest) >= 2 and "," not in name and all(map(_is_capitals, rest))
        if capitals and not any(_is_capitals(word) for word in words[:index]):
            return " ".join(words[:index])
    return name


def _is_capitals(word: str) -> bool:
    return word.isupper() and sum(ch.isalpha() for ch in word) >= 2


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
    "site admin",
    "site administrator",
    "guest author",
    "guest contributor",
    "admin user",
    "newsdesk",
    "news desk",
    "web desk",
    "online desk",
    "editor in chief",
    "press release",
    "sponsored",
    "partner content",
    "newsroom",
    "staff reports",
    "staff report",
    "wire services",
    "agencies",
}
_ROLE = re.compile(
    r"^(?:senior |chief |special |political |foreign |staff |contributing |guest |freie[rn]? |leitende[rn]? )*"
    r"(?:writer|reporter|editor|correspondent|columnist|contributor|photographer|"
    r"korrespondent(?:in)?|redakteur(?:in)?|journalist(?:in)?|reporter(?:in)?|"
    r"correspondante?|journaliste|rédacteur|rédactrice|envoyée? spéciale?|corresponsal|periodista|redactora?)"
    r"(?:e?s|innen)?(?:\s+(?:in|at|from|for|aus|für|à|en|de|in der|im)\s+.+)?$",
    re.IGNORECASE,
)


# Lowercase words inside a name: particles ("Ursula von der Leyen"), or else a phrase
# ("Extension horticulture educators"), not a name.
_PARTICLES = {
    *[
        "van",
        "von",
        "der",
        "den",
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "dei",
        "la",
        "le",
        "y",
        "e",
        "bin",
        "ibn",
        "al",
        "el",
        "ten",
        "ter",
        "zu",
        "dos",
        "das",
        "do",
        "af",
        "av",
    ],
}
# "RN, BSN", "MD, FACP": a list of credentials left over from "Jane Doe, RN, BSN"
_CREDENTIALS = re.compile(r"^[A-Z]{2,5}\.?(?:,?\s+[A-Z]{2,5}\.?)+$")


def _is_phrase(words: list[str]) -> bool:
    """Two or more lowercase words that are no particle: "Extension horticulture educators".

    One is not enough: brands ("FOCUS online") and agencies ("Jörg Soldwisch dpa") have one."""
    if not words[0][:1].isupper():
        return False  # all lowercase ("bell hooks") is a choice, not a phrase
    lowercase = [word for word in words[1:] if word[:1].islower() and word not in _PARTICLES]
    return len(lowercase) >= 2


def _clean_one(raw: str, *, lowercase: bool = False) -> str | None:
    name = unicodedata.normalize("NFKC", raw).strip()
    name = _PAREN.sub("", name)
    name = _PREFIX.sub("", name)
    name = _TAIL.sub("", name)
    name = _DANGLING.sub("", name)
    name = _strip_title(name.strip(" \t\n.,:;-–—'\"()[]"))
    if _PREFIX.match(name + " ") or _NOT_A_NAME.search(name):
        return None
    if not name or "@" in name or "://" in name or "www." in name.lower():
        return None
    lowered = name.lower()
    if lowered in _PLACEHOLDERS or _ROLE.match(name) or lowered.strip(".") in _CALENDAR_WORDS:
        return None
    words = name.split()
    if len(words) > 5 or len(name) > 60 or not any(ch.isalpha() for ch in name):
        return None
    if _is_phrase(words) or _CREDENTIALS.match(name):
        return None
    if len(words) == 1 and name.islower() and not lowercase:
        # a lone lowercase token is a user handle or a CMS login, not a byline (unless the
        # markup says it is an organisation's name: "dpa")
        return None
    return " ".join(words)


def clean_authors(candidates: Iterable[str], *, lowercase: bool = False) -> list[str]:
    """Split, clean and de-duplicate raw author strings, keeping their order; ``lowercase``
    keeps a name of one lowercase word (an organisation's, "dpa")."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in candidates:
        if not raw or _URL.match(raw):
            continue  # article:author may hold a profile's address: a link, no name
        head = _PREFIX.sub("", _GLUED_BY.sub("", _PAREN.sub("", unicodedata.normalize("NFKC", raw).strip())))
        if _JOB_TITLE.match(head) and _NOT_A_NAME.search(head.split()[-1]):
            continue
        for chunk in _HARD_SPLIT.split(head):
            # the date or role glued to the end goes before splitting, or it would become a "name"
            chunk = _strip_calendar_tail(_TAIL.sub("", chunk))
            inverted = _SURNAME_FIRST.match(chunk)
            if inverted and not _ROLE.match(inverted.group(2)):
                chunk = (
                    f"{inverted.group(2)} {inverted.group(1)}"  # "Lenharo, Mariana" as a catalogue writes it
                )
            for part in _soft_split(chunk):
                name = _clean_one(part, lowercase=lowercase)
                if name and name.casefold() not in seen:
                    seen.add(name.casefold())
                    names.append(name)
    # an avatar's initials beside the name they stand for ("NB", "Nicole Burke") are no author
    initials = {"".join(word[0] for word in name.split()) for name in names if " " in name}
    return [name for name in names if not (name.isupper() and 2 <= len(name) <= 3 and name in initials)]


# "Surname, Given": one capitalised word, a comma, then one given name and initials, nothing else;
# "Jane Smith, John Doe" (a full name before the comma) and "Nature, Mariana Lenharo" are two
_SURNAME_FIRST = re.compile(
    r"^\s*((?:[A-Z][a-z]+[-'’])?[A-Z][a-z][\w'’-]*),\s+([A-Z][a-z][\w'’-]*(?:\s+[A-Z]\.)*)\s*$"
)


def _strip_calendar_tail(chunk: str) -> str:
    """Remove month and weekday words left at the end once the digits of a date are cut."""
    words = chunk.split()
    while words and words[-1].strip(",.;:").casefold() in _CALENDAR_WORDS:
        words.pop()
    return " ".join(words).rstrip(" ,;:")


def _soft_split(chunk: str) -> list[str]:
    """Split on commas and conjunctions only where a name of two or more words follows."""
    parts: list[str] = []
    rest = chunk
    while True:
        for match in _SOFT_SPLIT.finditer(rest):
            after = rest[match.end() :]
            following = _SOFT_SPLIT.split(after, maxsplit=1)[0].strip()
            is_role = bool(_ROLE.match(following)) or following.casefold() in _PLACEHOLDERS
            if (len(following.split()) >= 2 or is_role) and len(rest[: match.start()].split()) >= 1:
                parts.append(rest[: match.start()])
                rest = after
                break
        else:
            parts.append(rest)
            return parts
