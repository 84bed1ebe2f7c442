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

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import NON_TRANSACTIONAL_KINDS, Context, in_transaction_failures


@rule("ban-concurrent-index-creation-in-transaction", Severity.ERROR, kinds=NON_TRANSACTIONAL_KINDS)
def check(statement, ctx: Context):
    yield from in_transaction_failures(statement, ctx, concurrently=True)
