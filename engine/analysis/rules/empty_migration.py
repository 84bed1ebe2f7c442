"""empty-migration: the migration has no SQL statements, so applying it changes nothing.

An empty file (or one with only comments) is recorded as applied without doing anything, which usually
means the SQL was forgotten or written below the `-- ROLLBACK:` marker by mistake.

Instead of:

    -- add the orders table (to do)

Use:

    CREATE TABLE orders (id bigint PRIMARY KEY);
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report


@rule("empty-migration", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    script = ctx.script
    if script.statements or script.errors or script.meta_commands:
        return
    yield Report("the migration has no SQL statements: applying it records it as applied and changes nothing",
                 "write the forward SQL above the '-- ROLLBACK:' marker, or delete the file",
                 start=0, end=0)
