"""changing-column-type: ALTER COLUMN ... TYPE usually rewrites the table and its indexes under an ACCESS EXCLUSIVE lock.

Only a few changes are metadata-only (e.g. varchar(n) to a longer varchar or to text); most rewrite every
row while all reads and writes wait, and running code may break on the new type.

Instead of:

    ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 2);

Use:

    ALTER TABLE orders ADD COLUMN amount_numeric numeric(12, 2);
    -- then backfill in batches, switch the code over, and drop the old column in a later migration
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, alter_commands, relation_name


@rule("changing-column-type", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    for command in alter_commands(statement.node):
        if command.get("subtype") == "AT_AlterColumnType":
            yield Report(f"changing the type of '{command.get('name')}' may rewrite '{relation_name(relation)}' and "
                         "its indexes while all reads and writes wait",
                         "add a new column, backfill it in batches, move the code over, then drop the old one",
                         start=statement.start, end=statement.end)
