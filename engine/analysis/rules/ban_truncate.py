"""ban-truncate: TRUNCATE deletes every row and takes an ACCESS EXCLUSIVE lock; with CASCADE, in other tables too.

Data deleted by a migration cannot be brought back by its rollback.

Instead of:

    TRUNCATE sessions;

Use:

    -- pgshift-ignore ban-truncate: sessions are disposable; users just sign in again
    TRUNCATE sessions;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, relation_name


@rule("ban-truncate", Severity.WARNING, kinds={"TruncateStmt"})
def check(statement, ctx: Context):
    relations = [r.get("RangeVar", {}) for r in statement.node.get("relations", [])]
    old = [r for r in relations if not ctx.is_new_table(r)]
    if not old:
        return
    cascade = statement.node.get("behavior") == "DROP_CASCADE"
    names = ", ".join(relation_name(r) for r in old)
    yield Report(f"TRUNCATE deletes every row of {names}" + (" and of every table referencing it (CASCADE)"
                                                              if cascade else "")
                 + ", and no rollback can bring them back",
                 "delete data deliberately (DELETE ... WHERE, in batches), or confirm with "
                 "'-- pgshift-ignore ban-truncate: <why it is safe>'",
                 start=statement.start, end=statement.end)
