"""ban-drop-database: DROP DATABASE deletes a whole database; it does not belong in a migration.

Migrations change one database's schema. Dropping a database from one is almost always a mistake (and it
cannot run in a transaction anyway).

Instead of:

    DROP DATABASE analytics;

Use:

    -- nothing: drop databases by hand, outside the migrations, after a backup
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report


@rule("ban-drop-database", Severity.ERROR, kinds={"DropdbStmt"})
def check(statement, ctx: Context):
    yield Report(f"DROP DATABASE deletes the whole database '{statement.node.get('dbname')}' and everything in it",
                 "drop databases by hand, outside the migrations, after taking a backup",
                 start=statement.start, end=statement.end)
