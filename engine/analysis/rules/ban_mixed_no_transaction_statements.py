"""ban-mixed-no-transaction-statements: a no-transaction migration with several changes can half-apply.

Under `-- pgshift: no-transaction` each statement commits on its own. If the second one fails, the first
stays applied but the migration is not recorded, and running it again fails on the first. Keep a
no-transaction migration to one change, or make every statement re-runnable (IF [NOT] EXISTS).

Instead of:

    -- pgshift: no-transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ALTER TABLE orders ADD COLUMN note text;

Use:

    -- pgshift: no-transaction
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report, is_robust


@rule("ban-mixed-no-transaction-statements", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    if not ctx.migration.no_transaction:
        return
    fragile = [s for s in ctx.statements if not is_robust(s)]
    changes = [s for s in ctx.statements if s.kind != "VariableSetStmt"]
    if len(changes) < 2 or not fragile:
        return
    second = changes[1]
    yield Report(f"{len(changes)} statements in a no-transaction migration: each commits on its own, so a "
                 "failure part-way leaves the earlier ones applied and the migration recorded as failed",
                 "move each statement that needs no transaction into a migration of its own, or make every "
                 "statement re-runnable with IF [NOT] EXISTS",
                 start=second.start, end=second.end)
