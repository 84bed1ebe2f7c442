"""Generated passwords and the connection-string shapes that carry them, for the password sweeps (issue 10)."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import strategies as st

# Passwords people and generators write: URL delimiters, percent signs, spaces, quotes, unicode. At least six
# characters: a shorter one would turn up in any text by chance, masked or not.
PASSWORD_CHARS = st.sampled_from(list("%/@:?#&= '\"\\*+$!~") + ["%zz", "%2F", "%4", "é", "ß", "日本", "🔑"])
PASSWORDS = st.lists(st.one_of(PASSWORD_CHARS, st.characters(codec="utf-8", categories=["L", "N", "P", "S"])),
                     min_size=6, max_size=16).map("".join)


def url_forms(password: str) -> list[str]:
    """The shapes in which the password reaches pgshift, right and wrong."""
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return [f"postgresql://app:{password}@127.0.0.1:1/shop",           # as typed, nothing encoded
            f"postgresql://app:{quote(password, safe='')}@127.0.0.1:1/shop",  # correctly encoded
            f"app:{password}@127.0.0.1:1/shop",                          # the scheme forgotten
            f"postgres://app:{password}@127.0.0.1:1/shop?sslmode=disable",
            f"postgresql://app@127.0.0.1:1/shop?password={quote(password, safe='')}",
            f"host=127.0.0.1 port=1 user=app password='{escaped}' dbname=shop"]


def leaks(password: str, *texts: str) -> list[str]:
    """The texts that hold the password: as typed, percent-encoded, or JSON-escaped."""
    forms = {password, quote(password, safe=""), json.dumps(password)[1:-1]}
    return [t for t in texts if any(f in t for f in forms)]
