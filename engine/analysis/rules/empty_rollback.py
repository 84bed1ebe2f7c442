"""empty-rollback: the `-- ROLLBACK:` section has no SQL, so rolling back would undo nothing.

A marker with nothing (or only comments) below it looks reversible but is not. A migration whose statements
change no definition (only `VALIDATE CONSTRAINT`, `SET`) has nothing to undo: an empty section is right there.

Instead of:

    CREATE TABLE orders (id bigint PRIMARY KEY);
    -- ROLLBACK:

Use:

    CREATE TABLE orders (id bigint PRIMARY KEY);
    -- ROLLBACK:
    -- DROP TABLE orders;
"""

from __future__ import annotations

from engine.analysis.files import MigrationFile
from engine.analysis.findings import DeferredFix, Edit, LineIndex, Position, Severity, Span
from engine.analysis.rules import FILE, rule
from engine.analysis.rules._support import Context, Report


_NOTHING_TO_UNDO = frozenset({"VariableSetStmt"})


def _only_validates(node: dict) -> bool:
    commands = [c.get("AlterTableCmd", {}).get("subtype") for c in node.get("cmds", [])]
    return bool(commands) and all(c == "AT_ValidateConstraint" for c in commands)


@rule("empty-rollback", Severity.WARNING, scope=FILE)
def check(ctx: Context):
    migration = ctx.migration
    if migration.marker_line is None or migration.has_rollback:
        return
    if any(f.code == "rollback-not-commented" for f in migration.findings):
        return
    if ctx.script.statements and not ctx.script.errors and all(
            s.kind in _NOTHING_TO_UNDO or (s.kind == "AlterTableStmt" and _only_validates(s.node))
            for s in ctx.script.statements):
        return
    fix = None
    if ctx.script.statements and not ctx.script.errors:
        # Inferring the rollback parses the file into pglast's AST: done only when an editor asks for the fix.
        index = ctx.index
        fix = DeferredFix("Fill in an inferred rollback", make=lambda: _inferred_rollback(migration, index))
    yield Report("the ROLLBACK section is empty: rolling back would change nothing",
                 "write the undo SQL below '-- ROLLBACK:', each line commented out with '-- '",
                 span=ctx.index.line_span(migration.marker_line), fix=fix)


def _inferred_rollback(migration: MigrationFile, index: LineIndex) -> tuple[Edit, ...]:
    from engine.analysis.inference import infer_rollback, rollback_block
    body = rollback_block(infer_rollback(migration.forward_sql)).split("\n", 1)[1]
    line = migration.marker_line + 1
    if line < len(index.line_starts):
        at = Span(Position(line, 0), Position(line, 0))
        new = body
    else:
        end = index.position(len(migration.text))
        at, new = Span(end, end), "\n" + body.rstrip("\n")
    return (Edit(at, new),)
