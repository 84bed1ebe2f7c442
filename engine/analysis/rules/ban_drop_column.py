"""ban-drop-column: dropping a column deletes its data and breaks code that still reads or writes it.

Application versions still running during and after the deploy (and ORMs that list every column) fail as
soon as the column is gone; a rollback brings the column back empty.

Instead of:

    ALTER TABLE users DROP COLUMN legacy_flag;

Use:

    -- first stop using the column in the code, deploy, then:
    -- pgshift-ignore ban-drop-column: unused since release 42
    ALTER TABLE users DROP COLUMN legacy_flag;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, alter_commands, relation_name


@rule("ban-drop-column", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    if ctx.is_new_table(statement.node.get("relation")):
        return
    for command in alter_commands(statement.node):
        if command.get("subtype") == "AT_DropColumn":
            yield Report(f"dropping column '{command.get('name')}' of '{relation_name(statement.node.get('relation'))}'"
                         " deletes its data, and running code that still uses it will fail",
                         "stop using the column in the application first, deploy, then drop it in a later "
                         "migration (a rollback brings it back empty)",
                         start=statement.start, end=statement.end)
