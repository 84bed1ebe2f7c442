"""ban-drop-table: DROP TABLE deletes the table and all its rows, and breaks code that still uses it.

Once applied, the data is gone (a rollback can recreate the table, not its rows), and any running
application version that still reads the table starts failing. Drop a table only after the code no longer
uses it, and say so with an ignore comment.

Instead of:

    DROP TABLE legacy_orders;

Use:

    -- pgshift-ignore ban-drop-table: unused since release 42, backed up to s3://backups/legacy_orders
    DROP TABLE legacy_orders;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, dotted, qualified_key, name_in


@rule("ban-drop-table", Severity.WARNING, kinds={"DropStmt"})
def check(statement, ctx: Context):
    if statement.node.get("removeType") != "OBJECT_TABLE":
        return
    for item in statement.node.get("objects", []):
        names = item.get("List", {}).get("items", [])
        if name_in(qualified_key(names), ctx.state.created_tables):
            continue
        yield Report(f"dropping table '{dotted(names)}' deletes all its rows for good and breaks any code "
                     "still using it", "first deploy code that no longer uses the table; keep a backup; then "
                     "drop it with '-- pgshift-ignore ban-drop-table: <why it is safe>'",
                     start=statement.start, end=statement.end)
        return
