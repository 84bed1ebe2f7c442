"""syntax-error: PostgreSQL's parser rejects the SQL, so the migration (or its rollback) fails when run.

pgshift parses each migration with PostgreSQL's own parser (libpg_query), so the error and its position
are the ones the server would report. Errors in the commented-out ROLLBACK block are found too: they would
only surface on the day you need the rollback.

Instead of:

    ALTER TABLE orders ADD COLUMN note text DEFALT '';

Use:

    ALTER TABLE orders ADD COLUMN note text DEFAULT '';
"""

from __future__ import annotations

import re

from engine.analysis.findings import Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report

_TOKEN_RE = re.compile(r"[^\s;,()]+")
HELP = "correct the SQL at this position; PostgreSQL reports the same error"


def _visible(message: str) -> str:
    """The parser quotes the offending text; a control byte or a no-break space there is shown escaped."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
                   for c in message)


@rule("syntax-error", Severity.ERROR, scope=FILE)
def check(ctx: Context):
    for problem in ctx.script.errors:
        yield Report(f"PostgreSQL will reject this migration: {_visible(problem.message)}", HELP,
                     start=problem.offset, end=_token_end(ctx.script.sql, problem.offset))
    if ctx.rollback_script is not None:
        for problem in ctx.rollback_script.errors:
            end = _token_end(ctx.rollback_script.sql, problem.offset)
            yield Report(f"the rollback will be rejected: {_visible(problem.message)}", HELP,
                         span=ctx.migration.rollback_span(problem.offset, end))


def _token_end(sql: str, offset: int) -> int:
    match = _TOKEN_RE.match(sql, offset)
    return match.end() if match else min(offset + 1, len(sql))
