"""require-concurrent-index-creation: CREATE INDEX blocks every write to the table while it builds.

A plain CREATE INDEX holds a SHARE lock: reads go on, but inserts, updates and deletes wait until the
index is built, which takes minutes on a big table. CONCURRENTLY builds it without blocking writes; it
cannot run in a transaction, so the migration needs `-- pgshift: no-transaction` (and should hold only
that statement). Indexes on tables created earlier in the same migration are fine.

Instead of:

    CREATE INDEX orders_customer_idx ON orders (customer_id);

Use:

    -- pgshift: no-transaction
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
"""

from __future__ import annotations

import re

from engine.analysis.findings import Fix, Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, edit, fix_no_transaction, relation_name

_INDEX_RE = re.compile(r"\bINDEX\b", re.IGNORECASE)


@rule("require-concurrent-index-creation", Severity.WARNING, kinds={"IndexStmt"})
def check(statement, ctx: Context):
    node = statement.node
    if node.get("concurrent") or ctx.is_new_table(node.get("relation")):
        return
    fix = None
    keyword = _INDEX_RE.search(statement.text)
    if keyword:
        at = statement.start + keyword.end()
        edits = (edit(ctx, at, at, " CONCURRENTLY"),)
        if not ctx.migration.no_transaction:
            edits = fix_no_transaction().edits + edits
        fix = Fix("Create the index CONCURRENTLY (outside a transaction)", edits)
    yield Report(f"building this index blocks all writes to '{relation_name(node.get('relation'))}' until it is done",
                 "use CREATE INDEX CONCURRENTLY in a migration of its own with '-- pgshift: no-transaction'",
                 start=statement.start, end=statement.end, fix=fix)
