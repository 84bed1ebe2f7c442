"""A trace as findings for `check --trace` (and later the editor): its errors, and what production traffic will feel.

A rewrite, or a full read under a lock that blocks writes, is a warning at the statement: the shadow has no
data, so how long traffic waits depends on the table's size in production, but that it waits is certain.
"""

from __future__ import annotations

from engine.analysis.findings import Finding, Severity, Span
from engine.shadow import locks as lock_words
from engine.shadow.trace import REWRITE, SCAN, MigrationTrace, StatementTrace


def _strongest(statement: StatementTrace, relations: tuple[str, ...], held: dict[str, list[str]]) -> str | None:
    """The strongest lock on those relations: taken by this statement or held from an earlier one."""
    modes = [x.mode for x in statement.locks if x.relation in relations]
    modes += [mode for relation in relations for mode in held.get(relation, [])]
    return max(modes, key=lock_words.strength) if modes else None


def trace_findings(migration: MigrationTrace) -> list[Finding]:
    """The trace's problems (errors, incomplete rollback) and a warning per statement that makes traffic wait."""
    found = list(migration.findings)
    held: dict[str, list[str]] = {}  # locks taken by earlier statements stay until COMMIT
    for statement in migration.statements:
        mode = _strongest(statement, statement.rewrites or statement.scans, held)
        span = statement.span or Span.at(statement.line - 1, 0)
        if statement.kind == REWRITE and mode is not None:
            found.append(Finding(
                "trace-rewrite", Severity.WARNING,
                f"rewrites {', '.join(statement.rewrites)} under {lock_words.sql_name(mode)} "
                f"({lock_words.blocks(mode)}): traffic waits for the whole copy",
                migration.path, span,
                help="avoid the copy (e.g. a new column filled in batches), or run it when the table is small"))
        elif statement.kind == SCAN and mode in lock_words.BLOCKS_WRITES:
            found.append(Finding(
                "trace-scan", Severity.WARNING,
                f"reads all of {', '.join(statement.scans)} under {lock_words.sql_name(mode)} "
                f"({lock_words.blocks(mode)}): traffic waits for the whole read",
                migration.path, span,
                help="add constraints NOT VALID and VALIDATE them in a migration of their own; build indexes "
                     "CONCURRENTLY in a no-transaction migration"))
        for lock in statement.locks:
            held.setdefault(lock.relation, []).append(lock.mode)
    return found
