"""empty-rollback: the `-- ROLLBACK:` section has no SQL, so rolling back would undo nothing.

A marker with nothing (or only comments) below it looks reversible but is not.

Instead of:

    CREATE TABLE orders (id bigint PRIMARY KEY);
    -- ROLLBACK:

Use:

    CREATE TABLE orders (id bigint PRIMARY KEY);
    -- ROLLBACK:
    -- DROP TABLE orders;
"""

from __future__ import annotations

from engine.findings import Edit, Fix, Position, Severity, Span
from engine.rules import FILE, rule
from engine.rules._support import Context, Report


@rule("empty-rollback", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    migration = ctx.migration
    if migration.marker_line is None or migration.has_rollback:
        return
    if any(f.code == "rollback-not-commented" for f in migration.findings):
        return
    fix = None
    if ctx.script.statements and not ctx.script.errors:
        from engine.inference import infer_rollback, rollback_block
        body = rollback_block(infer_rollback(migration.forward_sql)).split("\n", 1)[1]
        line = migration.marker_line + 1
        if line < len(ctx.index.line_starts):
            at = Span(Position(line, 0), Position(line, 0))
            new = body
        else:
            end = ctx.index.position(len(migration.text))
            at, new = Span(end, end), "\n" + body.rstrip("\n")
        fix = Fix("Fill in an inferred rollback", (Edit(at, new),))
    yield Report("the ROLLBACK section is empty: rolling back would change nothing",
                 "write the undo SQL below '-- ROLLBACK:', each line commented out with '-- '",
                 span=ctx.index.line_span(migration.marker_line), fix=fix)
