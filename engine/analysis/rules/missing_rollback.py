"""missing-rollback: there is no `-- ROLLBACK:` section, so `pgshift rollback` cannot undo the migration.

Every migration should say how to undo it: below a `-- ROLLBACK:` line, the rollback SQL commented out
with `-- `. The fix writes one inferred from the forward SQL (check its TODO lines).

Instead of:

    CREATE TABLE orders (id bigint PRIMARY KEY);

Use:

    CREATE TABLE orders (id bigint PRIMARY KEY);

    -- ROLLBACK:
    -- DROP TABLE orders;
"""

from __future__ import annotations

from engine.analysis.findings import Edit, Fix, Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report


@rule("missing-rollback", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    migration = ctx.migration
    if migration.marker_line is not None or not ctx.script.statements:
        return
    fix = None
    if not ctx.script.errors:
        from engine.analysis.inference import infer_rollback, rollback_block
        text = migration.text
        lead = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        end = ctx.index.position(len(text))
        fix = Fix("Add an inferred ROLLBACK section",
                  (Edit(type(ctx.index.span(0, 0))(end, end), lead + rollback_block(infer_rollback(migration.forward_sql))),))
    last = ctx.script.statements[-1]
    yield Report("no '-- ROLLBACK:' section: `pgshift rollback` cannot undo this migration",
                 "add '-- ROLLBACK:' at the end followed by the undo SQL, each line commented out with '-- '",
                 start=last.start, end=last.end, fix=fix)
