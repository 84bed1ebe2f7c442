"""ban-non-transactional-statement-in-transaction: the statement cannot run inside a transaction block.

VACUUM, REINDEX SCHEMA/DATABASE/SYSTEM, ALTER SYSTEM, CREATE/DROP DATABASE, CREATE/DROP TABLESPACE and (before
PostgreSQL 12) `ALTER TYPE ... ADD VALUE` fail with "cannot run inside a transaction block", and pgshift
runs every migration in a transaction unless its header says `-- pgshift: no-transaction`.

Instead of:

    VACUUM ANALYZE orders;

Use:

    -- pgshift: no-transaction
    VACUUM ANALYZE orders;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import NON_TRANSACTIONAL_KINDS, Context, in_transaction_failures


@rule("ban-non-transactional-statement-in-transaction", Severity.ERROR, kinds=NON_TRANSACTIONAL_KINDS)
def check(statement, ctx: Context):
    yield from in_transaction_failures(statement, ctx, concurrently=False)
