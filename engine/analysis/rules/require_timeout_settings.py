"""require-timeout-settings: without lock_timeout, a statement waiting for its lock stalls every query behind it.

An ALTER TABLE that waits behind a long-running query holds its place in the lock queue, and every later
read and write of the table queues behind it: a short migration becomes an outage. pgshift's runner
already runs `SET LOCAL lock_timeout` from the project's `lock_timeout` setting (default 5s) for every
migration, so this rule only fires when that setting is `0` and the file does not set lock_timeout itself.

Instead of:

    ALTER TABLE orders ADD COLUMN note text;

Use:

    SET lock_timeout = '5s';
    ALTER TABLE orders ADD COLUMN note text;
"""

from __future__ import annotations

from engine.analysis.findings import Severity
from engine.analysis.rules import rule
from engine.analysis.rules._support import Context, Report, alter_commands, lock_timeout_in_effect

# Statements whose lock conflicts with ordinary writes (or reads) of an existing table.
_KINDS = {"AlterTableStmt", "DropStmt", "TruncateStmt", "RenameStmt", "VacuumStmt", "ClusterStmt", "IndexStmt",
          "CreateTrigStmt"}


def _blocking_relation(statement) -> dict | None | bool:
    node, kind = statement.node, statement.kind
    if kind == "AlterTableStmt":
        subtypes = {c.get("subtype") for c in alter_commands(node)}
        return None if subtypes <= {"AT_ValidateConstraint", "AT_SetStatistics"} else node.get("relation")
    if kind == "DropStmt":
        return True if node.get("removeType") in ("OBJECT_TABLE", "OBJECT_INDEX") and not node.get("concurrent") else None
    if kind == "TruncateStmt":
        relations = node.get("relations", [])
        return relations[0].get("RangeVar") if relations else None
    if kind == "RenameStmt":
        return node.get("relation") if node.get("renameType") in ("OBJECT_TABLE", "OBJECT_COLUMN") else None
    if kind == "VacuumStmt":
        full = any(o.get("DefElem", {}).get("defname") == "full" for o in node.get("options", []))
        return True if full else None
    if kind == "IndexStmt":
        return None if node.get("concurrent") else node.get("relation")
    return node.get("relation")


@rule("require-timeout-settings", Severity.WARNING, kinds=_KINDS)
def check(statement, ctx: Context):
    if lock_timeout_in_effect(ctx):
        return
    relation = _blocking_relation(statement)
    if relation is None or (isinstance(relation, dict) and ctx.is_new_table(relation)):
        return
    if statement.kind == "DropStmt" and ctx.is_new_index((statement.node.get("objects") or [{}])[0]
                                                        .get("List", {}).get("items", [])):
        return
    yield Report("no lock_timeout: if this statement waits for its lock, every query on the table queues "
                 "behind it", "set lock_timeout in the project settings (pgshift sets it per migration), or "
                 "run SET lock_timeout = '5s' before this statement", start=statement.start, end=statement.end)
