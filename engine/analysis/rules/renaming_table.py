"""renaming-table: renaming a table breaks every running query and deployed code that uses the old name.

During a deploy, old application instances keep using the old name and fail until they are replaced.

Instead of:

    ALTER TABLE customers RENAME TO clients;

Use:

    -- keep the old name; or rename and leave a view for old code, dropped a release later:
    -- pgshift-ignore renaming-table: old code reads through the view below
    ALTER TABLE customers RENAME TO clients;
    CREATE VIEW customers AS SELECT * FROM clients;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, relation_name


@rule("renaming-table", Severity.WARNING, kinds={"RenameStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("renameType") != "OBJECT_TABLE" or ctx.is_new_table(node.get("relation")):
        return
    yield Report(f"renaming '{relation_name(node.get('relation'))}' to '{node.get('newname')}' breaks running code "
                 "that still uses the old name", "deploy code that works with both names first (e.g. through a "
                 "view with the old name), or keep the name", start=statement.start, end=statement.end)
