"""Text that was UTF-8 read as Latin-1 or cp1252 and encoded again: put back as it was written.

A CMS that stores UTF-8 bytes as Latin-1 and serves them as UTF-8 turns "Investor\u2019s" into
"Investor\u00e2\x80\x99s" (or "Investorâ€™s" through cp1252): the page is valid UTF-8 and says so,
so no charset rule sees it. No language writes a lead letter such as "â" or "Ã" followed by
C1 control characters or by cp1252's punctuation, so such a run is read back as the UTF-8
it was.
"""

from __future__ import annotations

import re

# what cp1252 shows for the bytes 0x80-0x9F, besides the C1 controls Latin-1 shows
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_TO_BYTE = {
    ch: bytes([byte]) for byte in range(0x80, 0xA0) for ch in [bytes([byte]).decode("cp1252", "ignore")] if ch
}
_CONTINUATION = f"[\x80-\xbf{re.escape(_CP1252_HIGH)}]"
# A UTF-8 lead byte read as a letter, then its continuation bytes. Through Latin-1 at least one
# of them is a C1 control, which no text holds: any lead. Through cp1252 they are punctuation
# that real text puts after a letter ("Spaß“"), so only the leads of the usual victims count:
# "Ã"/"Â" (Latin-1's letters and signs) and "â" (quotes, dashes, ellipsis, "€", "™").
_RUN = re.compile(
    f"[\xc2-\xf4](?={_CONTINUATION}{{0,2}}[\x80-\x9f]){_CONTINUATION}{{1,3}}"
    f"|[\xc2\xc3\xe2](?={_CONTINUATION}{{0,2}}[{re.escape(_CP1252_HIGH)}]){_CONTINUATION}{{1,3}}"
)

# what every run holds, looked for in the UTF-8 bytes: a C1 control (Latin-1's reading), or
# "\u00e2\u20ac", cp1252's reading of the lead of U+2000-U+203F (quotes, dashes, ellipsis)
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")
_CP1252_LEAD = "\u00e2\u20ac".encode()


def _as_bytes(run: str) -> bytes | None:
    out = bytearray()
    for ch in run:
        code = ord(ch)
        if code < 0x100:
            out.append(code)
        elif ch in _TO_BYTE:
            out += _TO_BYTE[ch]
        else:
            return None
    return bytes(out)


def _repair(match: re.Match[str]) -> str:
    raw = _as_bytes(match.group(0))
    try:
        return raw.decode("utf-8") if raw is not None else match.group(0)
    except UnicodeDecodeError:
        return match.group(0)


def undo_double_encoding(text: str, utf8: bytes) -> str:
    """``text``, decoded from the UTF-8 bytes ``utf8``, with its runs of double-encoded UTF-8
    decoded when it has two or more: one can be chance, a page that was double encoded has
    them in every paragraph."""
    # a scan of the bytes first: the pattern on the text costs a millisecond on a large page
    if _C1_UTF8.search(utf8) is None and _CP1252_LEAD not in utf8:
        return text
    first = _RUN.search(text)
    if first is None or _RUN.search(text, first.end()) is None:
        return text
    return _RUN.sub(_repair, text)
