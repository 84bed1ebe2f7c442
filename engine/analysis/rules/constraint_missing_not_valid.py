"""constraint-missing-not-valid: a new CHECK constraint scans the whole table under an ACCESS EXCLUSIVE lock.

Add it NOT VALID (instant; new rows are checked at once), then VALIDATE CONSTRAINT in a later migration:
validation only takes a SHARE UPDATE EXCLUSIVE lock. Validating in the same transaction keeps the
strong lock of the ADD for the whole scan and gains nothing.

Instead of:

    ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);

Use:

    ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;
    -- in a later migration:
    -- ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, alter_commands, relation_name, validated_constraints


@rule("constraint-missing-not-valid", Severity.WARNING, kinds={"AlterTableStmt"})
def check(statement, ctx: Context):
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    table = relation_name(relation)
    for constraint, fix in validated_constraints(statement, ctx, "CONSTR_CHECK"):
        yield Report(f"adding CHECK constraint to '{table}' scans every row while reads and writes wait",
                     "add it NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                     start=statement.offset(constraint.get("location")), end=statement.end, fix=fix)
    if ctx.migration.no_transaction:
        return
    for command in alter_commands(statement.node):
        if command.get("subtype") == "AT_ValidateConstraint" and \
                ((relation or {}).get("relname"), command.get("name")) in ctx.state.not_valid_constraints:
            yield Report(f"validating '{command.get('name')}' in the same transaction that added it NOT VALID keeps "
                         f"the ADD's lock on '{table}' during the whole scan",
                         "move VALIDATE CONSTRAINT to a later migration", start=statement.start, end=statement.end)
