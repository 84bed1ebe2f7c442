"""`pgshift trace` for people: a table per migration in the terminal, or Markdown for a pull request comment."""

from __future__ import annotations

from pathlib import Path

from engine.analysis.findings import relative_path
from engine.shadow.locks import BLOCKS_WRITES, sql_name
from engine.shadow.trace import MigrationTrace, StatementTrace, TraceResult

_SQL_WIDTH = 48


def _sql(statement: StatementTrace, width: int = _SQL_WIDTH) -> str:
    text = " ".join(statement.sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _locks(statement: StatementTrace) -> list[str]:
    return [f"{lock.relation} {lock.mode} ({sql_name(lock.mode)}: {lock.blocks})" for lock in statement.locks]


def _held(migration: MigrationTrace, number: int) -> list[str]:
    """A statement that took no new lock may still run under one an earlier statement took (held to COMMIT)."""
    earlier = any(s.locks for s in migration.statements[:number])
    statement = migration.statements[number]
    return ["no new lock on an existing relation (those taken above are held until COMMIT)"] if (
        earlier and statement.error is None and statement.reason is None) else []


def _outcome(statement: StatementTrace) -> str:
    if statement.error is not None:
        first = statement.error.finding.message.splitlines()[0]
        return f"ERROR {statement.error.finding.span.start.line + 1}:{statement.error.finding.span.start.column + 1} {first}"
    if statement.rewrites:
        return "rewrites " + ", ".join(statement.rewrites)
    if statement.scans:
        return "reads all of " + ", ".join(statement.scans)
    return statement.reason or ""


def _rollback(migration: MigrationTrace) -> str:
    rollback = migration.rollback
    if rollback.error is not None:
        return "rollback: FAILS: " + rollback.error.finding.message.splitlines()[0]
    if rollback.restores_schema is None:
        return "rollback: not run" + (" (no ROLLBACK block)" if not migration.error and all(
            s.error is None for s in migration.statements) else "")
    if rollback.restores_schema:
        return "rollback: restores the schema"
    return "rollback: does NOT restore the schema: " + "; ".join(rollback.leftovers)


def text(result: TraceResult, root: Path | None) -> str:
    out: list[str] = []
    for migration in result.migrations:
        out.append(f"{relative_path(migration.path, root)}")
        if migration.error is not None:
            out.append(f"  {migration.error.finding.message.splitlines()[0]}")
            out.append("")
            continue
        out.append(f"  {'line':>4}  {'class':<10}  {'statement':<{_SQL_WIDTH}}  locks / result")
        for number, statement in enumerate(migration.statements):
            details = _locks(statement) or _held(migration, number)
            details += [_outcome(statement)] if _outcome(statement) else []
            first, *rest = details or [""]
            out.append(f"  {statement.line:>4}  {statement.kind:<10}  {_sql(statement):<{_SQL_WIDTH}}  {first}".rstrip())
            out.extend(f"  {'':>4}  {'':<10}  {'':<{_SQL_WIDTH}}  {more}" for more in rest)
        out.append(f"  {_rollback(migration)}")
        out.append("")
    traced = len(result.migrations)
    failing = sum(1 for m in result.migrations if not m.ok)
    out.append(f"traced {traced} migration{'s' if traced != 1 else ''}: "
               + (f"{failing} with problems" if failing else "no errors, every rollback restores the schema"
                  if all(m.rollback.restores_schema for m in result.migrations) else "no errors"))
    return "\n".join(out)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(result: TraceResult, root: Path | None) -> str:
    out = ["## pgshift trace", ""]
    for migration in result.migrations:
        out.append(f"### `{relative_path(migration.path, root)}`")
        out.append("")
        if migration.error is not None:
            out.append(f"> {_cell(migration.error.finding.message)}")
            out.append("")
            continue
        out.append("| line | statement | class | locks | result |")
        out.append("|---:|---|---|---|---|")
        for number, s in enumerate(migration.statements):
            locks = "<br>".join(("**" if x.mode in BLOCKS_WRITES else "") + f"`{x.relation}` {x.mode}"
                                + ("**" if x.mode in BLOCKS_WRITES else "") + f" ({x.blocks})" for x in s.locks)
            locks = locks or "; ".join(_held(migration, number))
            out.append(f"| {s.line} | `{_cell(_sql(s, 120))}` | {s.kind} | {_cell(locks)} | {_cell(_outcome(s))} |")
        out.append("")
        out.append(_rollback(migration).replace("rollback:", "**Rollback:**", 1))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
