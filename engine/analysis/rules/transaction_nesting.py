"""transaction-nesting: BEGIN, COMMIT or ROLLBACK inside a migration breaks pgshift's own transaction.

pgshift runs each migration, and the row that records it as applied, in one transaction. A `COMMIT` in the
file commits half the migration early; if a later statement fails, the first half stays applied but the
migration is not recorded, and running it again fails. A `BEGIN` only draws a warning from PostgreSQL and
misleads the reader.

Instead of:

    BEGIN;
    ALTER TABLE orders ADD COLUMN note text;
    COMMIT;

Use:

    ALTER TABLE orders ADD COLUMN note text;
"""

from __future__ import annotations

from engine.analysis.findings import Fix, Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, edit, end_with_semicolon

_KINDS = {"TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "START TRANSACTION", "TRANS_STMT_COMMIT": "COMMIT",
          "TRANS_STMT_ROLLBACK": "ROLLBACK", "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
          "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED", "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED"}


@rule("transaction-nesting", Severity.ERROR, kinds={"TransactionStmt"})
def check(statement, ctx: Context):
    word = _KINDS.get(statement.node.get("kind", ""))
    if word is None:  # SAVEPOINT, RELEASE and ROLLBACK TO work inside pgshift's transaction
        return
    if ctx.migration.no_transaction:
        message = (f"{word} in a no-transaction migration: pgshift runs each statement on its own and cannot "
                   "record the migration inside your transaction")
    else:
        message = (f"{word} inside a migration: pgshift already runs the migration in a transaction; "
                   "this ends or fakes it, so a later failure leaves the migration half-applied and unrecorded")
    yield Report(message, "remove it: pgshift wraps each migration in a transaction (or none, with "
                 "'-- pgshift: no-transaction')", start=statement.start, end=statement.end,
                 fix=Fix(f"Remove {word}", (edit(ctx, statement.start, end_with_semicolon(ctx, statement), ""),)))
