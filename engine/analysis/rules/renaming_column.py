"""renaming-column: renaming a column breaks running queries and deployed code that use the old name.

Instead of:

    ALTER TABLE users RENAME COLUMN mail TO email;

Use:

    ALTER TABLE users ADD COLUMN email text;
    -- backfill and write both columns from the code, then drop "mail" in a later release
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, relation_name


@rule("renaming-column", Severity.WARNING, kinds={"RenameStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("renameType") != "OBJECT_COLUMN" or ctx.is_new_table(node.get("relation")):
        return
    yield Report(f"renaming column '{node.get('subname')}' of '{relation_name(node.get('relation'))}' to "
                 f"'{node.get('newname')}' breaks running code that still uses the old name",
                 "add the new column, write both from the code, backfill, then drop the old one later",
                 start=statement.start, end=statement.end)
