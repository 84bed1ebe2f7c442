"""What rules share: the per-statement context, the report type, and parse-tree helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.config import Settings
from engine.analysis.files import MigrationFile
from engine.analysis.findings import Fix, LineIndex, Span
from engine.analysis.sql import LocatedStatement, Script

NO_TRANSACTION_DIRECTIVE = "-- pgshift: no-transaction\n"


@dataclass(frozen=True)
class Report:
    """What a rule yields: the lint turns it into a Finding with the rule's id and configured severity.

    The place is `span` if given, else the character offsets `start`/`end` of the forward SQL.
    """

    message: str
    help: str | None = None
    start: int | None = None
    end: int | None = None
    span: Span | None = None
    fix: Fix | None = None


class NameSet:
    """(schema, name) pairs where an unqualified name matches any schema; O(1) look-ups by name."""

    def __init__(self) -> None:
        self._schemas: dict[str, set[str | None]] = {}

    def add(self, key: tuple[str | None, str]) -> None:
        self._schemas.setdefault(key[1], set()).add(key[0])

    def __contains__(self, key: tuple[str | None, str]) -> bool:
        schemas = self._schemas.get(key[1])
        if not schemas:
            return False
        return key[0] is None or None in schemas or key[0] in schemas


@dataclass
class State:
    """What earlier statements of the same migration did: tables they created, constraints, timeouts."""

    created_tables: NameSet = field(default_factory=NameSet)
    created_indexes: NameSet = field(default_factory=NameSet)
    not_valid_constraints: set[tuple[str, str]] = field(default_factory=set)
    validated_tables: set[str] = field(default_factory=set)
    lock_timeout_set: bool = False


@dataclass
class Context:
    migration: MigrationFile
    settings: Settings | None
    script: Script
    rollback_script: Script | None
    index: LineIndex
    state: State = field(default_factory=State)

    @property
    def target_version(self) -> int:
        return self.settings.target_version if self.settings else 18

    @property
    def statements(self) -> tuple[LocatedStatement, ...]:
        return self.script.statements

    def is_new_table(self, relation: dict | None) -> bool:
        """True when this migration created the table earlier: nobody else can hold a lock on it yet."""
        if not relation:
            return False
        return name_in(relation_key(relation), self.state.created_tables)

    def is_new_index(self, names: list) -> bool:
        return name_in(qualified_key(names), self.state.created_indexes)


def name_in(key: tuple[str | None, str], created: NameSet) -> bool:
    return key in created


def relation_key(relation: dict) -> tuple[str | None, str]:
    return relation.get("schemaname"), relation.get("relname", "")


def qualified_key(names: list) -> tuple[str | None, str]:
    parts = [string_value(n) for n in names]
    if not parts:
        return None, ""
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def string_value(node: Any) -> str:
    if isinstance(node, dict):
        if "String" in node:
            return node["String"].get("sval", "")
        if "sval" in node:
            return node["sval"]
    return str(node)


def relation_name(relation: dict | None) -> str:
    if not relation:
        return "?"
    schema = relation.get("schemaname")
    return f"{schema}.{relation.get('relname', '')}" if schema else relation.get("relname", "")


def dotted(names: list) -> str:
    return ".".join(string_value(n) for n in names)


def alter_commands(node: dict) -> list[dict]:
    """The AlterTableCmd nodes of an ALTER TABLE."""
    return [c["AlterTableCmd"] for c in node.get("cmds", []) if "AlterTableCmd" in c]


def is_table_alter(node: dict) -> bool:
    return node.get("objtype") in ("OBJECT_TABLE", None)


def column_constraints(column: dict) -> list[dict]:
    return [c["Constraint"] for c in column.get("constraints", []) if "Constraint" in c]


def added_columns(node: dict) -> list[tuple[dict, dict]]:
    """(command, ColumnDef) for each ADD COLUMN of an ALTER TABLE."""
    out = []
    for command in alter_commands(node):
        if command.get("subtype") == "AT_AddColumn" and "ColumnDef" in command.get("def", {}):
            out.append((command, command["def"]["ColumnDef"]))
    return out


def index_building_constraints(statement: LocatedStatement, ctx: Context, contype: str):
    """(added column's name, or None for ADD CONSTRAINT; the Constraint) for each constraint of `contype` that an
    ALTER TABLE adds to a table older than this migration, building a new index (USING INDEX builds none)."""
    if ctx.is_new_table(statement.node.get("relation")):
        return
    for _command, constraint in added_constraints(statement.node):
        if constraint.get("contype") == contype and not constraint.get("indexname"):
            yield None, constraint
    for _command, column in added_columns(statement.node):
        for constraint in column_constraints(column):
            if constraint.get("contype") == contype:
                yield column.get("colname"), constraint


def added_constraints(node: dict) -> list[tuple[dict, dict]]:
    """(command, Constraint) for each ADD CONSTRAINT of an ALTER TABLE."""
    out = []
    for command in alter_commands(node):
        if command.get("subtype") == "AT_AddConstraint" and "Constraint" in command.get("def", {}):
            out.append((command, command["def"]["Constraint"]))
    return out


def type_name(column: dict) -> str:
    names = [string_value(n) for n in column.get("typeName", {}).get("names", [])]
    return names[-1] if names else ""


def validated_constraints(statement: LocatedStatement, ctx: Context, contype: str):
    """(constraint, fix) for each constraint of `contype` added with validation to a table that already existed.

    The fix appends NOT VALID where the statement adds just that one constraint.
    """
    relation = statement.node.get("relation")
    if ctx.is_new_table(relation):
        return
    constraints = added_constraints(statement.node)
    single = len(constraints) == 1 and len(statement.node.get("cmds", [])) == 1
    for _command, constraint in constraints:
        if constraint.get("contype") == contype and not constraint.get("skip_validation"):
            fix = Fix("Add NOT VALID", (edit(ctx, statement.end, statement.end, " NOT VALID"),)) if single else None
            yield constraint, fix


def fix_no_transaction(title: str = "Run this migration outside a transaction (add '-- pgshift: no-transaction')") -> Fix:
    from engine.analysis.findings import Edit
    return Fix(title, (Edit(Span.at(0, 0), NO_TRANSACTION_DIRECTIVE),))


def statement_span(ctx: Context, statement: LocatedStatement) -> tuple[int, int]:
    return statement.start, statement.end


def lock_timeout_in_effect(ctx: Context) -> bool:
    """The runner sets `lock_timeout` from the project settings for each migration (0 turns that off)."""
    if ctx.state.lock_timeout_set:
        return True
    if ctx.settings is None:
        return True
    value = ctx.settings.lock_timeout.strip().lower()
    return value not in ("0", "0ms", "0s", "0min", "0h", "")


def edit(ctx: Context, start: int, end: int, text: str):
    """An Edit replacing forward-SQL characters start..end (file offsets) with `text`."""
    from engine.analysis.findings import Edit
    return Edit(ctx.index.span(start, end), text)


def end_with_semicolon(ctx: Context, statement: LocatedStatement) -> int:
    """The offset just past the statement's `;` (and the rest of its line if that is blank)."""
    text = ctx.migration.text
    i = statement.end
    while i < len(text) and text[i] in " \t":
        i += 1
    if i < len(text) and text[i] == ";":
        i += 1
    j = i
    while j < len(text) and text[j] in " \t":
        j += 1
    if j < len(text) and text[j] == "\n":
        return j + 1
    return i


# Every statement kind `needs_no_transaction` can say yes to: the two rules built on it declare these, so
# they never run for other statements and `migrate` can rule them out from the parse alone.
NON_TRANSACTIONAL_KINDS = frozenset({
    "IndexStmt", "DropStmt", "ReindexStmt", "AlterTableStmt", "VacuumStmt", "AlterSystemStmt", "CreatedbStmt",
    "DropdbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt", "AlterEnumStmt"})


def in_transaction_failures(statement: LocatedStatement, ctx: Context, *, concurrently: bool):
    """The report of the two no-transaction rules: this statement fails in the migration's transaction.

    `concurrently` picks the rule's half of `needs_no_transaction`: the CONCURRENTLY forms, or the rest.
    """
    if ctx.migration.no_transaction:
        return
    reason = needs_no_transaction(statement, ctx.target_version)
    if reason and reason[1] == concurrently:
        yield Report(f"{reason[0]} cannot run inside a transaction block: this migration will fail when applied",
                     "add '-- pgshift: no-transaction' at the top of the file, and keep this statement in a "
                     "migration of its own", start=statement.start, end=statement.end, fix=fix_no_transaction())


_MAYBE_NO_TRANSACTION = frozenset({"IndexStmt", "DropStmt", "ReindexStmt", "AlterTableStmt", "VacuumStmt",
                                   "AlterSystemStmt", "CreatedbStmt", "DropdbStmt", "CreateTableSpaceStmt",
                                   "DropTableSpaceStmt", "AlterEnumStmt"})


def needs_no_transaction(statement: LocatedStatement, target_version: int) -> tuple[str, bool] | None:
    """Why PostgreSQL refuses to run this statement in a transaction block, and whether it is CONCURRENTLY.

    See https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY and the
    "cannot be executed inside a transaction block" notes of each command's page.
    """
    kind = statement.kind
    if kind not in _MAYBE_NO_TRANSACTION:
        return None  # without looking at the parse tree: most statements run anywhere
    node = statement.node
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY", True
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY", True
    if kind == "ReindexStmt":
        if any(p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", [])):
            return "REINDEX CONCURRENTLY", True
        if node.get("kind") in ("REINDEX_OBJECT_SCHEMA", "REINDEX_OBJECT_DATABASE", "REINDEX_OBJECT_SYSTEM"):
            return "REINDEX " + node["kind"].rsplit("_", 1)[1], False
    if kind == "AlterTableStmt":
        for command in alter_commands(node):
            if command.get("subtype") == "AT_DetachPartition" and command.get("def", {}).get(
                    "PartitionCmd", {}).get("concurrent"):
                return "DETACH PARTITION CONCURRENTLY", True
    if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
        return "VACUUM", False
    simple = {"AlterSystemStmt": "ALTER SYSTEM", "CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE",
              "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE"}
    if kind in simple:
        return simple[kind], False
    if kind == "AlterEnumStmt" and node.get("newVal") and target_version < 12:
        return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)", False
    return None


def is_robust(statement: LocatedStatement) -> bool:
    """IF [NOT] EXISTS statements can simply be run again after a partial failure."""
    node = statement.node
    return bool(node.get("if_not_exists") or node.get("missing_ok")) or statement.kind == "VariableSetStmt"
