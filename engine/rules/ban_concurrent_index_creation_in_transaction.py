"""ban-concurrent-index-creation-in-transaction: CONCURRENTLY cannot run inside a transaction block.

`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ... CONCURRENTLY` and `DETACH PARTITION
... CONCURRENTLY` fail with "cannot run inside a transaction block", and pgshift runs every migration in a
transaction unless its header says `-- pgshift: no-transaction`.

Instead of:

    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);

Use:

    -- pgshift: no-transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
"""

from __future__ import annotations

from engine.findings import Severity
from engine.rules import rule
from engine.rules._support import (NON_TRANSACTIONAL_KINDS, Context, Report, fix_no_transaction,
                                    needs_no_transaction)


@rule("ban-concurrent-index-creation-in-transaction", Severity.ERROR, kinds=NON_TRANSACTIONAL_KINDS)
def check(statement, ctx: Context):
    if ctx.migration.no_transaction:
        return
    reason = needs_no_transaction(statement, ctx.target_version)
    if reason and reason[1]:
        yield Report(f"{reason[0]} cannot run inside a transaction block: this migration will fail when applied",
                     "add '-- pgshift: no-transaction' at the top of the file, and keep this statement in a "
                     "migration of its own", start=statement.start, end=statement.end, fix=fix_no_transaction())
