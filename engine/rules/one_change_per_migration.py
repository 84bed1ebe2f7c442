"""one-change-per-migration: a migration that changes several tables is harder to review, roll back and retry.

A hint, not a danger: small migrations fail alone, roll back cleanly and read well in history. A table
created in the migration and its indexes, comments and grants count as one change.

Instead of:

    ALTER TABLE orders ADD COLUMN note text;
    ALTER TABLE customers ADD COLUMN vip boolean;

Use:

    ALTER TABLE orders ADD COLUMN note text;
"""

from __future__ import annotations

from engine.findings import Severity
from engine.rules import FILE, rule
from engine.rules._support import Context, Report

_TARGETS = {"CreateStmt": "relation", "AlterTableStmt": "relation", "IndexStmt": "relation",
            "RenameStmt": "relation", "CreateTrigStmt": "relation"}


@rule("one-change-per-migration", Severity.HINT, scope=FILE)
def check(ctx: Context):
    seen: list[str] = []
    for statement in ctx.statements:
        field = _TARGETS.get(statement.kind)
        relation = statement.node.get(field) if field else None
        if not relation:
            continue
        name = relation.get("relname", "")
        if name in seen:
            continue
        seen.append(name)
        if len(seen) == 2:
            yield Report(f"this migration changes both '{seen[0]}' and '{name}': one change per migration is "
                         "easier to review, roll back and retry", "split it into one migration per table",
                         start=statement.start, end=statement.end)
            return
