"""Passwords out of connection strings and any text that quotes one: nothing pgshift prints carries them.

Two layers. `redact(text)` removes what *looks like* a password in a URL or key=value string. `Redactor` knows
the actual passwords of the configured connection strings — found in the raw text as the user wrote it, not
through URL parsing, because the strings that leak are exactly the ones a parser rejects or misreads
(`S3cr3t%zz`, an unencoded `/` or `@`, no scheme) — and scrubs them, as written and percent-decoded, from
anything. Each front end applies one `Redactor` where its output leaves the process (issue 10, item 9).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote

_URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)(?P<tail>@)", re.I)
_KV_PASSWORD_RE = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD_RE = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&\s]*)", re.I)
_SCHEME_RE = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.I)
_KEYWORD_FORM_RE = re.compile(r"^\s*[A-Za-z_]+\s*=")
_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
# Environment variables whose whole value is a password (libpq's PGPASSWORD) or a connection string.
PASSWORD_VARIABLES = ("PGPASSWORD",)
CONNECTION_VARIABLES = ("DATABASE_URL",)
_MASKS = ("***", "###", "~~~", "<redacted>", "[redacted]", "\u2022\u2022\u2022")


def redact(text: str) -> str:
    """Replace every password in a connection string (URL or key=value form), or in text quoting one.

    Each pattern is tried only on text holding the literal it cannot match without (`://`, `=`): `check`
    scrubs a listing of hundreds of findings, which rarely holds either.
    """
    if "://" in text:
        text = _URL_PASSWORD_RE.sub(lambda m: m["head"] + "***" + m["tail"], text)
    if "=" in text:
        text = _QUERY_PASSWORD_RE.sub(lambda m: m["head"] + "***", text)
        text = _KV_PASSWORD_RE.sub(lambda m: m["head"] + "***", text)
    return text


def url_password(dsn: str) -> str | None:
    """The password of a URL-form connection string exactly as written, or None; no URL parsing.

    The scheme is optional (`user:pass@host/db` is a common slip). The user information ends at the *last*
    `@`, since host, port and database never hold one while generated passwords often do; the password is
    everything after the first `:` in it, so `/`, `?`, `#`, `:` and bad percent-encoding stay inside.
    """
    if _KEYWORD_FORM_RE.match(dsn) and not _SCHEME_RE.match(dsn):
        return None
    rest = _SCHEME_RE.sub("", dsn, count=1)
    at = rest.rfind("@")
    if at < 0 or ":" not in rest[:at]:
        return None
    return rest[rest.index(":") + 1:at] or None


def _keyword_passwords(dsn: str) -> Iterable[str]:
    """`password=…` values of the key=value form as written and unquoted as libpq reads them."""
    for match in _KV_PASSWORD_RE.finditer(dsn):
        written = match["secret"]
        yield written
        body = written[1:-1] if written.startswith("'") and written.endswith("'") and len(written) > 1 else written
        yield re.sub(r"\\(.)", r"\1", body)


def _query_passwords(dsn: str) -> Iterable[str]:
    for match in _QUERY_PASSWORD_RE.finditer(dsn):
        yield match["secret"]


def _decoded_forms(secret: str) -> Iterable[str]:
    yield secret
    if _PERCENT_RE.search(secret):
        yield unquote(secret, errors="strict") if _decodes(secret) else secret
        # A half-valid one (`ab%20c%zz`): what a lenient decoder would show of it.
        yield unquote(secret, errors="replace")


def _decodes(secret: str) -> bool:
    try:
        unquote(secret, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def secrets_in(dsn: str | None) -> frozenset[str]:
    """Every form in which the password of `dsn` (either connection-string form) may be quoted back."""
    if not dsn:
        return frozenset()
    found: set[str] = set()
    written = url_password(dsn)
    if written:
        found.update(_decoded_forms(written))
    for secret in (*_keyword_passwords(dsn), *_query_passwords(dsn)):
        found.update(_decoded_forms(secret))
    parsed = (libpq_reading(dsn) or {}).get("password")
    if parsed:
        found.add(parsed)
    return frozenset(s for s in found if s)


def libpq_reading(dsn: str) -> dict[str, str] | None:
    """libpq's reading of `dsn`, or None when it cannot read it or misreads a password's characters.

    `u:pa/ss@h` reads as host "u", port "pa", database "ss@h"; `u:p@ss@h` as password "p", host "ss@h": no
    host, port or database holds an `@`, so one that does is a password split in two.
    """
    try:
        from psycopg import conninfo
        params = conninfo.conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 — psycopg raises ProgrammingError; anything else is as unreadable
        return None
    if any("@" in str(params.get(key) or "") for key in ("host", "port", "dbname")):
        return None
    return {key: str(value) for key, value in params.items() if value is not None}


@dataclass(frozen=True)
class Redactor:
    """The known passwords, scrubbed from text and from JSON-like data (values, not keys)."""

    secrets: frozenset[str] = frozenset()

    @classmethod
    def of(cls, dsns: Iterable[str | None] = (), environ: Mapping[str, str] | None = None) -> "Redactor":
        """The passwords of these connection strings and of the environment's (PGPASSWORD, DATABASE_URL)."""
        env = os.environ if environ is None else environ
        return _redactor(tuple(dsns), tuple(env.get(name) for name in (*CONNECTION_VARIABLES, *PASSWORD_VARIABLES)))

    def __or__(self, other: "Redactor") -> "Redactor":
        return Redactor(self.secrets | other.secrets)

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.secrets:
            return None
        ordered = sorted(self.secrets, key=len, reverse=True)  # the longest form first: no half-masked tail
        return re.compile("|".join(map(re.escape, ordered)))

    @functools.cached_property
    def mask(self) -> str:
        """A mask sharing no character with any secret, so that masking can never spell one out again."""
        used = set("".join(self.secrets))
        for mask in _MASKS:
            if not used & set(mask):
                return mask
        return next(ch for ch in map(chr, range(0x2400, 0x10000)) if ch not in used) * 3

    def text(self, text: str) -> str:
        text = redact(text)
        return self._pattern.sub(self.mask, text) if self._pattern is not None else text

    def tree(self, data: Any) -> Any:
        """Strings inside dicts, lists and tuples scrubbed; keys and other values kept as they are."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.tree(value) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return type(data)(self.tree(value) for value in data)
        return data


class RedactingLogFilter:
    """On a log handler: the record's final text (message, arguments, traceback) scrubbed before it is written.

    The servers' logs go to standard error, which editors and assistants keep in their logs. A handler takes
    any object with `filter(record)`; not subclassing logging.Filter keeps `logging` out of every CLI command.
    """

    def __init__(self, redactor: Callable[[], Redactor]) -> None:
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info:
            import logging
            text += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = self._redactor().text(text), None
        return True


def redact_logs(handlers: Iterable[logging.Handler], redactor: Callable[[], Redactor]) -> None:
    for handler in handlers:
        handler.addFilter(RedactingLogFilter(redactor))


@functools.lru_cache(maxsize=32)
def _redactor(dsns: tuple[str | None, ...], environment: tuple[str | None, ...]) -> Redactor:
    """Cached: front ends ask for one per line they print, and its pattern is compiled once."""
    connections, passwords = environment[:len(CONNECTION_VARIABLES)], environment[len(CONNECTION_VARIABLES):]
    found: set[str] = set()
    for dsn in (*dsns, *connections):
        found |= secrets_in(dsn)
    found.update(p for p in passwords if p)
    return Redactor(frozenset(found))
