"""one-change-per-migration: a migration that changes several tables is harder to review, roll back and retry.

A hint, not a danger: small migrations fail alone, roll back cleanly and read well in history. A table
created in the migration and its indexes, comments and grants count as one change, and so does a partitioned
table with the partitions created (`PARTITION OF`) or attached in the same migration.

Instead of:

    ALTER TABLE orders ADD COLUMN note text;
    ALTER TABLE customers ADD COLUMN vip boolean;

Use:

    ALTER TABLE orders ADD COLUMN note text;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report

_TARGETS = {"CreateStmt": "relation", "AlterTableStmt": "relation", "IndexStmt": "relation",
            "RenameStmt": "relation", "CreateTrigStmt": "relation"}


@rule("one-change-per-migration", Severity.HINT, scope=FILE)
def check(ctx: Context):
    parent_of = _partition_parents(ctx)
    seen: list[str] = []
    for statement in ctx.statements:
        field = _TARGETS.get(statement.kind)
        relation = statement.node.get(field) if field else None
        if not relation:
            continue
        name = relation.get("relname", "")
        name = parent_of.get(name, name)
        if name in seen:
            continue
        seen.append(name)
        if len(seen) == 2:
            yield Report(f"this migration changes both '{seen[0]}' and '{name}': one change per migration is "
                         "easier to review, roll back and retry", "split it into one migration per table",
                         start=statement.start, end=statement.end)
            return


def _partition_parents(ctx: Context) -> dict[str, str]:
    """Partition -> partitioned table, for partitions this migration creates or attaches: one change."""
    parents: dict[str, str] = {}
    for statement in ctx.statements:
        if statement.kind not in ("CreateStmt", "AlterTableStmt"):
            continue  # no parse tree needed for the others
        node = statement.node
        if statement.kind == "CreateStmt" and node.get("partbound") and node.get("inhRelations"):
            parent = node["inhRelations"][0].get("RangeVar", {}).get("relname")
            if parent:
                parents[(node.get("relation") or {}).get("relname", "")] = parent
        elif statement.kind == "AlterTableStmt":
            for command in node.get("cmds", []):
                command = command.get("AlterTableCmd", {})
                if command.get("subtype") == "AT_AttachPartition":
                    child = command.get("def", {}).get("PartitionCmd", {}).get("name", {}).get("relname")
                    if child:
                        parents[child] = (node.get("relation") or {}).get("relname", "")
    return parents
