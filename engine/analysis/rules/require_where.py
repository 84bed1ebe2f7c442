"""require-where: UPDATE or DELETE without WHERE changes every row of the table.

Often intended in a backfill, but a missing WHERE is also the classic accident; on a big table it locks
every row and bloats the table in one transaction.

Instead of:

    DELETE FROM sessions;

Use:

    DELETE FROM sessions WHERE expires_at < now();
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, relation_name


@rule("require-where", Severity.WARNING, kinds={"UpdateStmt", "DeleteStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("whereClause") is not None or ctx.is_new_table(node.get("relation")):
        return
    verb = "UPDATE" if statement.kind == "UpdateStmt" else "DELETE"
    yield Report(f"{verb} without WHERE {'changes' if verb == 'UPDATE' else 'deletes'} every row of "
                 f"'{relation_name(node.get('relation'))}'",
                 "add a WHERE clause; if every row is meant, say so with 'WHERE true'",
                 start=statement.start, end=statement.end)
