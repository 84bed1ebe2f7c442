"""require-concurrent-index-deletion: DROP INDEX locks the table against reads and writes.

A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table; behind a long query it queues, and
every query on the table queues behind it. DROP INDEX CONCURRENTLY waits for running queries instead; it
cannot run in a transaction, so the migration needs `-- pgshift: no-transaction`.

Instead of:

    DROP INDEX orders_customer_idx;

Use:

    -- pgshift: no-transaction
    DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;
"""

from __future__ import annotations

import re

from engine.analysis.findings import Fix, Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, dotted, edit, fix_no_transaction

_INDEX_RE = re.compile(r"\bINDEX\b", re.IGNORECASE)


@rule("require-concurrent-index-deletion", Severity.WARNING, kinds={"DropStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
        return
    objects = [o.get("List", {}).get("items", []) for o in node.get("objects", [])]
    old = [names for names in objects if not ctx.is_new_index(names)]
    if not old:
        return
    fix = None
    keyword = _INDEX_RE.search(statement.text)
    # DROP INDEX CONCURRENTLY takes one index and no CASCADE.
    if keyword and len(objects) == 1 and node.get("behavior") != "DROP_CASCADE":
        at = statement.start + keyword.end()
        edits = (edit(ctx, at, at, " CONCURRENTLY"),)
        if not ctx.migration.no_transaction:
            edits = fix_no_transaction().edits + edits
        fix = Fix("Drop the index CONCURRENTLY (outside a transaction)", edits)
    yield Report(f"dropping index '{dotted(old[0])}' locks its table against reads and writes, and queues behind "
                 "running queries", "use DROP INDEX CONCURRENTLY in a migration of its own with "
                 "'-- pgshift: no-transaction'", start=statement.start, end=statement.end, fix=fix)
