"""Passwords out of connection strings and any text that quotes one: nothing pgshift prints carries them."""

from __future__ import annotations

import re

_URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)(?P<tail>@)", re.I)
_KV_PASSWORD_RE = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD_RE = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&\s]*)", re.I)


def redact(text: str) -> str:
    """Replace every password in a connection string (URL or key=value form), or in text quoting one."""
    text = _URL_PASSWORD_RE.sub(lambda m: m["head"] + "***" + m["tail"], text)
    text = _QUERY_PASSWORD_RE.sub(lambda m: m["head"] + "***", text)
    return _KV_PASSWORD_RE.sub(lambda m: m["head"] + "***", text)
