"""identifier-too-long: PostgreSQL silently cuts names longer than 63 bytes, so two names can collide.

`NAMEDATALEN` is 64: a longer identifier is truncated with only a NOTICE, so the object gets a different
name than the one written (and later migrations referring to the full name may hit the wrong object).
Non-ASCII letters count two to four bytes each.

Instead of:

    CREATE INDEX orders_customer_id_created_at_status_shipping_country_and_region_covering_idx ON orders (customer_id);

Use:

    CREATE INDEX orders_customer_created_status_idx ON orders (customer_id);
"""

from __future__ import annotations

import bisect
import re

from engine.analysis.findings import Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report

# A name of more than 63 bytes has at least 16 characters (four bytes each at most): cheap pre-filter.
_CANDIDATE_RE = re.compile(r'"(?:[^"]|"")+"|(?<![\w$])[^\W\d][\w$]{15,}')  # words tried at their start only
_NAME_KEYS = frozenset({"relname", "idxname", "colname", "conname", "newname", "trigname", "schemaname",
                        "subname", "indexname", "sval", "name", "defname", "dbname", "extname", "policy_name"})


def _names(node) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str):
                    # The parser already truncates identifiers (as the server does), so keep 63-byte names.
                    if key in _NAME_KEYS and len(value.encode("utf-8")) >= 60:
                        found.add(value)
                elif key not in ("A_Const",):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


@rule("identifier-too-long", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    # One scan of the whole text (in the regex engine), then a look at the few statements with candidates.
    sql = ctx.script.sql
    statements = ctx.statements
    starts = [s.start for s in statements]
    names_of: dict[int, set[str]] = {}
    for match in _CANDIDATE_RE.finditer(sql):
        word = match.group()
        name = word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
        size = len(name.encode("utf-8"))
        if size <= 63:
            continue
        position = bisect.bisect_right(starts, match.start()) - 1
        if position < 0 or match.start() >= statements[position].end:
            continue  # in a comment between statements
        cut = name.encode("utf-8")[:63].decode("utf-8", errors="ignore")
        if position not in names_of:  # one walk per statement, however many long words it holds
            names_of[position] = _names(statements[position].node)
        names = names_of[position]
        if name in names or cut in names:
            yield Report(f"'{name}' is {size} bytes: PostgreSQL silently shortens it to '{cut}'",
                         "choose a name of at most 63 bytes", start=match.start(), end=match.end())
