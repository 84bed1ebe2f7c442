"""adding-not-nullable-field: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.

PostgreSQL checks every row while reads and writes wait. From PostgreSQL 12 it skips the scan when a
validated `CHECK (column IS NOT NULL)` constraint already proves it: add that constraint NOT VALID,
validate it (which only blocks schema changes), then SET NOT NULL.

Instead of:

    ALTER TABLE orders ALTER COLUMN status SET NOT NULL;

Use:

    -- an earlier migration added: CHECK (status IS NOT NULL) NOT VALID
    ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
    ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
    ALTER TABLE orders DROP CONSTRAINT orders_status_not_null;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, alter_commands, relation_name


@rule("adding-not-nullable-field", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    table = relation_name(relation)
    if ctx.target_version >= 12 and (relation or {}).get("relname") in ctx.state.validated_tables:
        return
    for command in alter_commands(statement.node):
        if command.get("subtype") == "AT_SetNotNull":
            yield Report(f"SET NOT NULL on '{command.get('name')}' scans all of '{table}' while reads and writes wait",
                         "first add CHECK (column IS NOT NULL) NOT VALID and VALIDATE it; then SET NOT NULL "
                         "needs no scan (PostgreSQL 12+)", start=statement.start, end=statement.end)
