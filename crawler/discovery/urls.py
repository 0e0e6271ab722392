"""URL normalisation and identity: one spelling per article."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that identify a campaign or a click, never the content.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "ga_")
# Session ids make every visit a new URL: a classic crawler trap.
_SESSION_NAMES = {
    "sid",
    "sessionid",
    "session_id",
    "jsessionid",
    "phpsessid",
    "aspsessionid",
    "cfid",
    "cftoken",
}
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid)=[^/?#]*", re.IGNORECASE)
_TRACKING_NAMES = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "ito",
}


def normalize_url(url: str) -> str:
    """Canonical spelling: w3lib canonicalisation without tracking or session parameters or fragment."""
    parts = urlsplit(url.strip())
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING_PREFIXES)
        and key.lower() not in _TRACKING_NAMES
        and key.lower() not in _SESSION_NAMES
    ]
    netloc = parts.netloc.lower()
    if (parts.scheme == "http" and netloc.endswith(":80")) or (
        parts.scheme == "https" and netloc.endswith(":443")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    path = _PATH_SESSION.sub("", parts.path) or "/"
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def url_id(url: str) -> str:
    """Stable record id: a 128-bit BLAKE2b hash of the canonical URL, in hex."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=16).hexdigest()


def absolute_http_url(value: str | None, base: str) -> str | None:
    """``value`` made absolute against ``base``, or ``None`` unless it is http(s)."""
    if not value or not value.strip():
        return None
    joined = urljoin(base, value.strip())
    parts = urlsplit(joined)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return joined


def registered_host(url: str) -> str:
    """Host without a leading ``www.``, for same-site comparisons."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host or one host is a subdomain of the other."""
    host_a, host_b = registered_host(a), registered_host(b)
    if not host_a or not host_b:
        return False
    return host_a == host_b or host_a.endswith("." + host_b) or host_b.endswith("." + host_a)


def is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query
