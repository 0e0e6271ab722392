"""Connection strings as they may be shown: every display of ``NEWS_STATE`` goes through here.

libpq takes two forms, and both can carry secrets:

- URIs, ``postgresql://[user[:password]@][host][:port][,...][/dbname][?name=value&...]``
  (or ``postgres://``), percent-encoded where a part holds a special character;
- ``keyword=value`` strings, ``host=db password='a b'``, values quoted with ``'`` and
  escaped with ``\\``.

Users write passwords unencoded, ``/``, ``#``, ``?``, ``@`` and ``&`` included. libpq then
reads the URL its own way (the user part ends at the first ``@`` before any ``/``), or
refuses it, and either way the message that says so must not show the password. So the
parse here is libpq's where the string is well formed, and where it is not, it takes the
most that could be secret: a user part running to the last ``@`` that is not inside a
parameter, a secret parameter's value running to the next ``&name=``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# libpq's connection keywords (PQconndefaults): what can follow a '?' or stand in a keyword=value string
KEYWORDS = frozenset({
    "application_name", "channel_binding", "client_encoding", "connect_timeout", "dbname",
    "fallback_application_name", "gssdelegation", "gssencmode", "gsslib", "host", "hostaddr", "keepalives",
    "keepalives_count", "keepalives_idle", "keepalives_interval", "krbsrvname", "load_balance_hosts",
    "max_protocol_version", "min_protocol_version", "oauth_client_id", "oauth_client_secret",
    "oauth_issuer", "oauth_scope", "options", "passfile", "password", "port", "replication",
    "require_auth", "requirepeer", "scram_client_key", "scram_server_key", "service",
    "ssl_max_protocol_version", "ssl_min_protocol_version", "sslcert", "sslcertmode", "sslcompression",
    "sslcrl", "sslcrldir", "sslkey", "sslkeylogfile", "sslmode", "sslnegotiation", "sslpassword",
    "sslrootcert", "sslsni", "target_session_attrs", "tcp_user_timeout", "user",
})  # fmt: skip
# the keywords libpq itself hides (its "*" display flag) or that hold key material
_SECRET_KEYWORDS = frozenset(
    {"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}
)
_SECRET_WORDS = ("password", "secret", "token")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://", re.DOTALL)
_CONNINFO = re.compile(r"^\s*[A-Za-z_]+\s*=")
# one keyword=value pair: a quoted value (with \-escapes; to the end if never closed) or a bare one
_PAIR = re.compile(r"([A-Za-z_]+)(\s*=\s*)('(?:[^'\\]|\\.)*(?:'|$)|(?:\\.|[^\s\\])*)", re.DOTALL)
# a parameter's name as written: libpq percent-decodes names too (``%70assword`` is ``password``)
_PARAM_NAME = re.compile(r"(?:[A-Za-z_]|%[0-9A-Fa-f]{2})+=")


def is_secret(name: str) -> bool:
    """A connection parameter whose value is never shown."""
    name = name.strip().lower()
    return name in _SECRET_KEYWORDS or any(word in name for word in _SECRET_WORDS)


def is_conninfo(text: str) -> bool:
    """A libpq ``keyword=value`` string rather than a URL or a path."""
    return "://" not in text and bool(_CONNINFO.match(text)) and bool(_PAIR.match(text.strip()))


def _userinfo_end(rest: str) -> int:
    """Where the user part of a URI (what follows ``scheme://``) ends: the index of its ``@``, or -1.

    libpq ends it at the first ``@`` before any ``/``; an unencoded ``/`` or ``@`` in a password
    makes libpq read a host or a dbname out of the password (or refuse the URL), and the password
    must not be shown either way: here the user part runs to the last ``@`` that does not sit in
    a parameter's value (``?application_name=a@b``)."""
    for match in reversed(list(re.finditer("@", rest))):
        before = rest[: match.start()]
        query = before.find("?")
        if query >= 0:
            params = before[query + 1 :]
            names = re.findall(r"(?:^|&)((?:[A-Za-z_]|%[0-9A-Fa-f]{2})+)=", params)
            if names and "/" not in params and all(_is_param(name) for name in names):
                continue
        return match.start()
    return -1


def _is_param(name: str) -> bool:
    """A connection keyword (or a secret's name), as written or percent-encoded."""
    name = unquote(name)
    return name.lower() in KEYWORDS or is_secret(name)


def _secret_params(query: str) -> list[tuple[int, int]]:
    """The spans (start, end) in ``query`` (what follows ``?``) of secret parameters' values. A value
    runs to the next ``&`` that starts another parameter: a password may hold ``&`` unencoded."""
    starts = [0] + [
        match.start() + 1 for match in re.finditer("&", query) if _starts_param(query, match.end())
    ]
    spans = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(query)
        name, equals, _ = query[start:end].partition("=")
        if equals and is_secret(unquote(name)):
            spans.append((start + len(name) + 1, end))
    return spans


def _starts_param(query: str, at: int) -> bool:
    match = _PARAM_NAME.match(query, at)
    return bool(match) and _is_param(match.group()[:-1])


def _mask_uri(text: str, scheme: str) -> str:
    rest = text[len(scheme) + 3 :]
    end = _userinfo_end(rest)
    if end >= 0:
        user = rest[:end].split(":", 1)[0]
        rest = rest[end + 1 :]
        prefix = f"{scheme}://{user}@"
    else:
        prefix = f"{scheme}://"
    query_at = rest.find("?")
    if query_at < 0:
        return prefix + rest
    query = rest[query_at + 1 :]
    for start, end in reversed(_secret_params(query)):
        query = query[:start] + MASK + query[end:]
    return prefix + rest[: query_at + 1] + query


def _mask_conninfo(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, equals, value = match.groups()
        return f"{name}{equals}{MASK}" if is_secret(name) and value else match.group()

    return _PAIR.sub(replace, text)


def display(location: str) -> str:
    """``location`` as it may be shown in logs, messages and files: a connection URI or a libpq
    ``keyword=value`` string without its password and other secret parameters; a path as given."""
    scheme = _SCHEME.match(location or "")
    if scheme:
        return _mask_uri(location, scheme.group(1))
    if is_conninfo(location or ""):
        return _mask_conninfo(location)
    return location


def misread_password(location: str) -> str | None:
    """Why libpq would not read the password of a ``postgresql://`` URL as the user wrote it (an
    unencoded ``/`` or ``@`` in it), or None."""
    scheme = _SCHEME.match(location or "")
    if not scheme or scheme.group(1).lower() not in ("postgresql", "postgres"):
        return None
    rest = location[len(scheme.group(1)) + 3 :]
    ours, libpq = _userinfo_end(rest), re.match(r"[^@/]*@", rest)
    if ours < 0 or (libpq is not None and libpq.end() - 1 == ours):
        return None
    return (
        "the part before the host holds a '/' or an '@', which libpq does not read as part of a password: "
        "percent-encode them in the URL ('/' as %2F, '@' as %40)"
    )


def secrets(location: str) -> list[str]:
    """The secret values ``location`` holds, as written and percent-decoded, longest first."""
    found: list[str] = []
    scheme = _SCHEME.match(location or "")
    if scheme:
        rest = location[len(scheme.group(1)) + 3 :]
        end = _userinfo_end(rest)
        if end >= 0 and ":" in rest[:end]:
            found.append(rest[:end].split(":", 1)[1])
        rest = rest[end + 1 :]
        query = rest[rest.find("?") + 1 :] if "?" in rest else ""
        found += [query[start:end] for start, end in _secret_params(query)]
    elif is_conninfo(location or ""):
        for name, _, value in _PAIR.findall(location):
            if is_secret(name) and value:
                found.append(value)
                found.append(_unquoted(value))
    found += [unquote(value) for value in found]
    # libpq splits a malformed URL at these, and its message may quote any piece
    found += [piece for value in found for piece in re.split(r"[/?#&@:=,\s]", value) if len(piece) >= 4]
    return sorted({value for value in found if value}, key=len, reverse=True)


def _unquoted(value: str) -> str:
    """A keyword=value string's value as libpq reads it: without its quotes and escapes."""
    if value.startswith("'"):
        value = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
    return re.sub(r"\\(.)", r"\1", value, flags=re.DOTALL)


def scrub(text: str, location: str) -> str:
    """``text`` (an error message, a log line) without the secrets of ``location``: the location
    itself replaced by its display, then each secret value found anywhere else. A secret of under
    four characters is left where it stands alone (it would mask letters of ordinary words)."""
    if not location or not text:
        return text
    text = text.replace(location, display(location))
    for secret in secrets(location):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text
