"""ban-cluster: CLUSTER rewrites the table in index order while every read and write waits.

Instead of:

    CLUSTER orders USING orders_created_at_idx;

Use:

    -- nothing in a migration: use pg_repack --order-by to reorder a table online
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report


@rule("ban-cluster", Severity.WARNING, kinds={"ClusterStmt"})
def check(statement, ctx: Context):
    if ctx.is_new_table(statement.node.get("relation")):
        return
    yield Report("CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock: every read and write waits",
                 "reorder online with pg_repack --order-by instead", start=statement.start, end=statement.end)
