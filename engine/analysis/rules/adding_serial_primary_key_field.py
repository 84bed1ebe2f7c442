"""adding-serial-primary-key-field: ADD PRIMARY KEY builds its index while reads and writes wait.

Adding a primary key (or a column with PRIMARY KEY) creates a unique index under an ACCESS EXCLUSIVE lock,
and a serial column on top rewrites the table. Build the unique index concurrently first, then attach it
with `ADD CONSTRAINT ... PRIMARY KEY USING INDEX`.

Instead of:

    ALTER TABLE events ADD PRIMARY KEY (id);

Use:

    -- an earlier no-transaction migration ran:
    -- CREATE UNIQUE INDEX CONCURRENTLY events_pkey_idx ON events (id);
    ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey_idx;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, index_building_constraints, relation_name


@rule("adding-serial-primary-key-field", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    table = relation_name(statement.node.get("relation"))
    for column, constraint in index_building_constraints(statement, ctx, "CONSTR_PRIMARY"):
        start = statement.offset(constraint.get("location"))
        if column is None:
            yield Report(f"adding a primary key builds its index on '{table}' while reads and writes wait",
                         "CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction migration, then "
                         "ADD CONSTRAINT ... PRIMARY KEY USING INDEX", start=start, end=statement.end)
        else:
            yield Report(f"adding PRIMARY KEY column '{column}' builds an index on '{table}' "
                         "while reads and writes wait", "add the column, fill it, CREATE UNIQUE INDEX "
                         "CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX", start=start,
                         end=statement.end)
