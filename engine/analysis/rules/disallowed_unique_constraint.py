"""disallowed-unique-constraint: ADD UNIQUE builds its index while reads and writes wait.

`ADD CONSTRAINT ... UNIQUE` creates the index under an ACCESS EXCLUSIVE lock. Build the index
concurrently first (its own no-transaction migration), then attach it: `ADD CONSTRAINT ... UNIQUE USING
INDEX` is instant.

Instead of:

    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);

Use:

    -- an earlier no-transaction migration ran:
    -- CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, index_building_constraints, relation_name


@rule("disallowed-unique-constraint", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    table = relation_name(statement.node.get("relation"))
    for column, constraint in index_building_constraints(statement, ctx, "CONSTR_UNIQUE"):
        start = statement.offset(constraint.get("location"))
        if column is None:
            yield Report(f"adding a UNIQUE constraint builds its index on '{table}' while reads and writes wait",
                         "CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction migration, then "
                         "ADD CONSTRAINT ... UNIQUE USING INDEX", start=start, end=statement.end)
        else:
            yield Report(f"adding UNIQUE column '{column}' builds an index on '{table}' while "
                         "reads and writes wait", "add the column, CREATE UNIQUE INDEX CONCURRENTLY, then ADD "
                         "CONSTRAINT ... UNIQUE USING INDEX", start=start, end=statement.end)
