"""Where each table, view and sequence is named across the migrations: its history, for go-to-definition
and find-references in the editor ("which migration created `orders`, and which ones changed it since?")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from engine.errors import UsageError
from engine.analysis.files import MigrationFile
from engine.analysis.findings import LineIndex, Position, Span, relative_path
from engine.analysis.sql import LocatedStatement, analyse

CREATES, ALTERS, DROPS, MENTIONS = "creates", "alters", "drops", "mentions"
DEFAULT_SCHEMA = "public"  # what an unqualified name means in the usual search_path
_PART = r'(?:"(?:[^"]|"")*"|[^\W\d][\w$]*)'
_QUALIFIED_RE = re.compile(rf"{_PART}(?:\s*\.\s*{_PART}){{0,2}}")
_DROPPED_TYPES = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"}
# The field of each CREATE statement that holds the relation it creates.
_CREATED_BY = {"CreateStmt": ("relation",), "ViewStmt": ("view",), "CreateTableAsStmt": ("into", "rel"),
               "CreateSeqStmt": ("sequence",), "CreateForeignTableStmt": ("base", "relation")}
# ... and of each statement that changes a relation (its columns, constraints, name, indexes, triggers, policies).
_ALTERED_BY = {"AlterTableStmt": ("relation",), "RenameStmt": ("relation",), "IndexStmt": ("relation",),
               "CreateTrigStmt": ("relation",), "CreatePolicyStmt": ("table",), "AlterPolicyStmt": ("table",),
               "AlterSeqStmt": ("sequence",)}


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str

    @classmethod
    def of(cls, schema: str | None, name: str) -> "Relation":
        return cls(schema or DEFAULT_SCHEMA, name)

    @classmethod
    def parse(cls, text: str) -> "Relation":
        """`orders`, `app.orders` or `"Orders"` as PostgreSQL reads the name: unquoted parts fold to lower case."""
        match = _QUALIFIED_RE.fullmatch(text.strip())
        names = [_identifier(p) for p in re.findall(_PART, text)] if match else []
        if not 1 <= len(names) <= 2:
            raise UsageError(f"{text!r} is not a table name", help="give NAME or SCHEMA.NAME, e.g. app.orders")
        return cls.of(names[0] if len(names) == 2 else None, names[-1])

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def __str__(self) -> str:
        return self.name if self.schema == DEFAULT_SCHEMA else self.qualified


@dataclass(frozen=True)
class RelationRef:
    """One place a migration names a relation; `role` is CREATES, ALTERS, DROPS or MENTIONS."""

    relation: Relation
    path: Path
    version: str
    span: Span
    role: str
    in_rollback: bool = False

    def to_dict(self, root: Path | None = None) -> dict:
        """1-based line and column, as `path:line:col` prints them (the CLI's --json and the MCP tool)."""
        return {"version": self.version, "role": self.role, "rollback": self.in_rollback,
                "path": relative_path(self.path, root), "line": self.span.start.line + 1,
                "column": self.span.start.column + 1}

    def location(self, root: Path | None = None) -> str:
        return f"{relative_path(self.path, root)}:{self.span.start.line + 1}:{self.span.start.column + 1}"


def relation_refs(migration: MigrationFile) -> list[RelationRef]:
    """Every relation named in the forward SQL and in the ROLLBACK block, in file order."""
    index = LineIndex(migration.text)
    refs = list(_refs(migration, analyse(migration.forward_sql).statements, migration.forward_sql, index.span, False))
    if migration.rollback_sql:
        refs += _refs(migration, analyse(migration.rollback_sql).statements, migration.rollback_sql,
                      migration.rollback_span, True)
    return refs


def relation_at(migration: MigrationFile, position: Position) -> Relation | None:
    """The relation whose name is under `position`, if any."""
    return next((r.relation for r in relation_refs(migration) if r.span.start <= position <= r.span.end), None)


def references(migrations: Iterable[MigrationFile], relation: Relation) -> list[RelationRef]:
    """Every place any migration names `relation`, in version order."""
    return [r for m in sorted(migrations, key=lambda m: m.version) for r in relation_refs(m) if r.relation == relation]


def definition(migrations: Iterable[MigrationFile], relation: Relation, version: str) -> RelationRef | None:
    """The CREATE that made `relation` as of `version`: the last one in a migration at or before it, else the
    first one after it (a pending file can name a table that a later file creates)."""
    created = [r for r in references(migrations, relation) if r.role == CREATES and not r.in_rollback]
    earlier = [r for r in created if r.version <= version]
    return earlier[-1] if earlier else (created[0] if created else None)


def _refs(migration: MigrationFile, statements: Iterable[LocatedStatement], sql: str, to_span,
          in_rollback: bool) -> Iterator[RelationRef]:
    for statement in statements:
        created, altered = _node_at(statement, _CREATED_BY), _node_at(statement, _ALTERED_BY)
        for node in _range_vars(statement.node):
            start = statement.offset(node.get("location"))
            match = _QUALIFIED_RE.match(sql, start)
            end = match.end() if match else start
            role = CREATES if node is created else ALTERS if node is altered else MENTIONS
            yield RelationRef(Relation.of(node.get("schemaname"), node["relname"]), migration.path,
                              migration.version, to_span(start, end), role, in_rollback)
        if statement.kind == "DropStmt" and statement.node.get("removeType") in _DROPPED_TYPES:
            for relation in _dropped(statement.node):
                start, end = _find_name(sql, statement, relation)
                yield RelationRef(relation, migration.path, migration.version, to_span(start, end), DROPS,
                                  in_rollback)


def _node_at(statement: LocatedStatement, fields: dict[str, tuple[str, ...]]) -> dict | None:
    """The RangeVar at the statement kind's field path in `fields`, if the kind is there."""
    if statement.kind not in fields:
        return None
    node: Any = statement.node
    for key in fields[statement.kind]:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _range_vars(node: Any) -> Iterator[dict]:
    """Every RangeVar in a parse tree (the one node with `relname`), wrapped or not, in tree order."""
    if isinstance(node, dict):
        if "relname" in node and "location" in node:
            yield node
        for value in node.values():
            yield from _range_vars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _range_vars(value)


def _dropped(node: dict) -> Iterator[Relation]:
    for item in node.get("objects", []):
        names = [part.get("String", {}).get("sval", "") for part in item.get("List", {}).get("items", [])]
        if names:
            yield Relation.of(names[-2] if len(names) > 1 else None, names[-1])


def _find_name(sql: str, statement: LocatedStatement, relation: Relation) -> tuple[int, int]:
    """A DROP's object names carry no position: find the name's text in the statement, else the statement."""
    for match in _QUALIFIED_RE.finditer(sql, statement.start, statement.end):
        if _identifier(re.findall(_PART, match.group())[-1]) == relation.name:
            return match.start(), match.end()
    return statement.start, statement.end


def _identifier(part: str) -> str:
    return part[1:-1].replace('""', '"') if part.startswith('"') else part.lower()
