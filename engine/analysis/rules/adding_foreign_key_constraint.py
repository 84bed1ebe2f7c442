"""adding-foreign-key-constraint: a new foreign key checks every row while both tables are locked.

Adding a foreign key takes SHARE ROW EXCLUSIVE locks on the table and the referenced table and validates
every row, blocking writes to both for the whole scan. Add it NOT VALID (instant), then VALIDATE it in a
later migration, which takes a weaker lock that lets writes continue.

Instead of:

    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);

Use:

    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    -- in a later migration:
    -- ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import (Context, Report, added_columns, column_constraints, relation_name,
                                   validated_constraints)


@rule("adding-foreign-key-constraint", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    table = relation_name(relation)
    for constraint, fix in validated_constraints(statement, ctx, "CONSTR_FOREIGN"):
        yield Report(f"adding foreign key to '{table}' checks every row while writes to '{table}' and "
                     f"'{relation_name(constraint.get('pktable'))}' wait",
                     "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                     start=statement.offset(constraint.get("location")), end=statement.end, fix=fix)
    for _command, column in added_columns(statement.node):
        for constraint in column_constraints(column):
            if constraint.get("contype") == "CONSTR_FOREIGN":
                yield Report(f"adding column '{column.get('colname')}' with REFERENCES locks '{table}' and "
                             f"'{relation_name(constraint.get('pktable'))}' against writes",
                             "add the column without REFERENCES, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID "
                             "and VALIDATE it in a later migration",
                             start=statement.offset(constraint.get("location")), end=statement.end)
