"""adding-required-field: a NOT NULL column without a DEFAULT cannot be added to a table that has rows.

PostgreSQL must fill the new column for existing rows; without a default it uses NULL, which the NOT NULL
constraint rejects, so the migration fails as soon as the table is not empty (as in production).

Instead of:

    ALTER TABLE orders ADD COLUMN status text NOT NULL;

Use:

    ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, added_columns, column_constraints, relation_name


@rule("adding-required-field", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    for _command, column in added_columns(statement.node):
        kinds = {c.get("contype") for c in column_constraints(column)}
        if "CONSTR_NOTNULL" in kinds and not kinds & {"CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"} \
                and not column.get("typeName", {}).get("names", [{}])[-1].get("String", {}).get("sval", "").endswith("serial"):
            yield Report(f"adding NOT NULL column '{column.get('colname')}' without a default fails on "
                         f"'{relation_name(relation)}' as soon as it has rows",
                         "add a DEFAULT (a constant is instant from PostgreSQL 11), or add the column nullable, "
                         "backfill it, then SET NOT NULL",
                         start=statement.offset(column.get("location")), end=statement.end)
