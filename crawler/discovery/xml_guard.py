"""Entity declarations in feeds and sitemaps, wherever they hide.

Feeds and sitemaps have no use for XML entities; declaring them is how entity
bombs ("billion laughs") start. libxml2 stops such a bomb on its own, but then the
document is silently empty; refusing it here makes it a counted discovery error.
A bomb can hide its declaration behind a long comment (past any fixed prefix) or
in UTF-16, where ``<!ENTITY`` has a NUL byte after each letter.
"""

from __future__ import annotations

import re

_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DECLARATION_TEXT = re.compile(r"<!ENTITY", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def declares_entities(body: bytes) -> bool:
    """Whether the document declares an entity anywhere, in UTF-8/ASCII or UTF-16."""
    if _DECLARATION.search(body):
        return True
    head = body[:512]
    if head.startswith(_UTF16_BOMS) or b"\x00" in head:
        for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
            text = body.decode(encoding, errors="ignore")
            if _DECLARATION_TEXT.search(text):
                return True
    return False
