"""ban-vacuum-full: VACUUM FULL rewrites the table while every read and write waits.

It takes an ACCESS EXCLUSIVE lock for the whole rewrite, needs room for a full copy of the table, and
cannot run in a transaction. Plain VACUUM (or pg_repack) reclaims space without blocking.

Instead of:

    VACUUM FULL orders;

Use:

    -- pgshift: no-transaction
    VACUUM (ANALYZE) orders;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report


@rule("ban-vacuum-full", Severity.WARNING, kinds={"VacuumStmt"})
def check(statement, ctx: Context):
    options = {o.get("DefElem", {}).get("defname") for o in statement.node.get("options", [])}
    if "full" in options:
        yield Report("VACUUM FULL rewrites the table while every read and write waits",
                     "use plain VACUUM, or pg_repack to reclaim space online", start=statement.start,
                     end=statement.end)
