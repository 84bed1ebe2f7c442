"""Schema snapshot: read the catalog into plain dataclasses and render DATABASE.md from them.

Read from the system catalog with psycopg rather than with pg_dump: pg_dump's text changes between versions
and carries SET lines and OIDs-in-order noise; the catalog functions used here (format_type, pg_get_*def)
give the same text on PostgreSQL 15 and 18, with one exception left as the server prints it: from PostgreSQL 16,
pg_get_viewdef no longer qualifies columns of a single-table view (`orders.total` becomes `total`). Everything is sorted and nothing depends on OIDs or the clock,
so that `git diff DATABASE.md` shows exactly the schema change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import psycopg

from engine.config import Settings, split_table_name
from engine.database.er_diagram import MERMAID_MAX_TEXT_SIZE, key_marks as _key_marks, render_diagrams
from engine.errors import PgshiftError

# Temp and toast schemas are per-session or internal; they are never part of a project's schema.
_SYSTEM_SCHEMA_FILTER = """
    n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
    AND n.nspname <> ALL(%(exclude)s::text[])
"""


def _privileges(acl: str, kind: str, owner: str) -> str:
    """SQL: the privileges on an object as sorted text, with PostgreSQL's defaults filled in for NULL.

    A GRANT followed by its REVOKE leaves the explicit default list where there was NULL; filling NULL with
    acldefault() makes the two compare equal. Only compared (by verify), never rendered: role names differ
    between the databases one project runs on.
    """
    return (f"(SELECT string_agg(x::text, ',' ORDER BY x::text COLLATE \"C\") "
            f"FROM unnest(coalesce({acl}, acldefault('{kind}', {owner}))) x)")


def _not_extension_member(catalog: str, oid_expr: str) -> str:
    """SQL: the object is not a member of an extension (CREATE EXTENSION made it; the extension owns it)."""
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass "
            f"AND e.objid = {oid_expr} AND e.deptype = 'e')")


class _SchemaObject:
    """Objects that live in a schema: `schema.name` is how DATABASE.md and the diff name them."""

    schema: str
    name: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None = None
    identity: str | None = None  # 'always' / 'by default'
    generated: str | None = None  # the expression of a generated column
    collation: str | None = None  # only when it differs from the type's default
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # column GRANTs; compared by verify, not rendered
    # ALTER COLUMN SET STATISTICS / SET STORAGE, only when not the default; compared by verify, not rendered.
    statistics: int | None = field(default=None, repr=False)
    storage: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # primary key, foreign key, unique, check, exclusion
    definition: str
    columns: tuple[str, ...] = ()
    references: str | None = None  # qualified table a foreign key points at
    referenced_columns: tuple[str, ...] = ()
    comment: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    definition: str
    constraint: str | None = None  # the constraint this index implements, if any
    comment: str | None = None


@dataclass(frozen=True)
class Trigger:
    name: str
    definition: str
    enabled: str = "origin"  # ALTER TABLE ... ENABLE/DISABLE [REPLICA | ALWAYS] TRIGGER: origin, disabled, ...
    comment: str | None = None


@dataclass(frozen=True)
class Policy:
    name: str
    command: str
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class Table(_SchemaObject):
    schema: str
    name: str
    kind: str = "table"  # table, partitioned table, foreign table
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    policies: tuple[Policy, ...] = ()
    row_security: bool = False
    force_row_security: bool = False  # ALTER TABLE ... FORCE ROW LEVEL SECURITY (applies to the owner too)
    partition_key: str | None = None
    partition_of: str | None = None
    partition_bound: str | None = None
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "primary key"), None)

    def constraints_of(self, kind: str) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == kind]


@dataclass(frozen=True)
class View(_SchemaObject):
    schema: str
    name: str
    materialized: bool
    definition: str
    columns: tuple[Column, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class EnumType(_SchemaObject):
    schema: str
    name: str
    values: tuple[str, ...]
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class Domain(_SchemaObject):
    schema: str
    name: str
    base_type: str
    nullable: bool
    default: str | None
    constraints: tuple[str, ...]
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class CompositeType(_SchemaObject):
    schema: str
    name: str
    attributes: tuple[tuple[str, str], ...]
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class Sequence(_SchemaObject):
    schema: str
    name: str
    type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    owned_by: str | None = None  # table.column of a serial column
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class Function(_SchemaObject):
    schema: str
    name: str
    arguments: str
    returns: str | None
    kind: str  # function, procedure, aggregate, window
    language: str
    definition: str | None = field(default=None, repr=False)  # full text: compared by verify, not rendered
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered

    @property
    def signature(self) -> str:
        return f"{self.qualified_name}({self.arguments})"


@dataclass(frozen=True)
class Extension:
    name: str
    version: str
    schema: str


@dataclass(frozen=True)
class SchemaInfo:
    name: str
    comment: str | None = None
    privileges: str | None = field(default=None, repr=False)  # compared by verify, not rendered


@dataclass(frozen=True)
class Schema:
    """Everything a migration can change that a reader of DATABASE.md needs, sorted by name."""

    schemas: tuple[SchemaInfo, ...] = ()
    extensions: tuple[Extension, ...] = ()
    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    enums: tuple[EnumType, ...] = ()
    domains: tuple[Domain, ...] = ()
    composite_types: tuple[CompositeType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    functions: tuple[Function, ...] = ()

    def table(self, qualified_name: str) -> Table | None:
        return next((t for t in self.tables if t.qualified_name == qualified_name), None)

    def objects_in(self, schema: str) -> int:
        groups = (self.tables, self.views, self.enums, self.domains, self.composite_types, self.sequences,
                  self.functions)
        return sum(1 for group in groups for item in group if item.schema == schema)


@dataclass(frozen=True)
class SnapshotResult:
    path: Path
    text: str
    changed: bool


class SnapshotError(PgshiftError):
    code = "snapshot-failed"


# --------------------------------------------------------------------------------------------- reading

def read_schema(conn: psycopg.Connection, exclude_schemas: Iterable[str] = (),
                tracking_table: str | None = None) -> Schema:
    """The schema of the connected database, without system and extension objects.

    `exclude_schemas` are left out entirely. `tracking_table` (schema.table) is left out, and its schema
    too when nothing else lives there, so that the snapshot shows the user's schema only.
    """
    params = {"exclude": list(exclude_schemas)}
    # One repeatable-read snapshot so that every query sees the same catalog state.
    with conn.transaction() if not conn.autocommit else _read_only_tx(conn):
        schema = Schema(
            schemas=_read_schemas(conn, params),
            extensions=_read_extensions(conn, params),
            tables=_read_tables(conn, params),
            views=_read_views(conn, params),
            enums=_read_enums(conn, params),
            domains=_read_domains(conn, params),
            composite_types=_read_composites(conn, params),
            sequences=_read_sequences(conn, params),
            functions=_read_functions(conn, params),
        )
    if tracking_table:
        schema = _without_tracking_table(schema, tracking_table)
    return schema


class _read_only_tx:
    """BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY on an autocommit connection; COMMIT afterwards."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def __exit__(self, *exc) -> None:
        self.conn.execute("ROLLBACK")


def _without_tracking_table(schema: Schema, tracking_table: str) -> Schema:
    """Drop the tracking table (and a serial sequence it owns); drop its schema too if that leaves it empty."""
    tschema, tname = split_table_name(tracking_table)
    qualified = f"{tschema}.{tname}"
    if schema.table(qualified) is None:
        return schema
    trimmed = replace(
        schema,
        tables=tuple(t for t in schema.tables if t.qualified_name != qualified),
        sequences=tuple(s for s in schema.sequences
                        if not (s.owned_by and s.owned_by.rsplit(".", 1)[0] == qualified)))
    if tschema != "public" and trimmed.objects_in(tschema) == 0:
        trimmed = replace(trimmed, schemas=tuple(s for s in schema.schemas if s.name != tschema))
    return trimmed


def _rows(conn: psycopg.Connection, sql: str, params: dict) -> list[tuple]:
    return conn.execute(sql, params).fetchall()


def _read_schemas(conn, params) -> tuple[SchemaInfo, ...]:
    rows = _rows(conn, f"""
        SELECT n.nspname, obj_description(n.oid, 'pg_namespace'), {_privileges('n.nspacl', 'n', 'n.nspowner')}
        FROM pg_namespace n
        WHERE {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_namespace', 'n.oid')}
        ORDER BY n.nspname COLLATE "C"
    """, params)
    return tuple(SchemaInfo(name, comment, privileges) for name, comment, privileges in rows)


def _read_extensions(conn, params) -> tuple[Extension, ...]:
    # plpgsql is installed in every database by initdb; listing it would only be noise.
    rows = _rows(conn, """
        SELECT x.extname, x.extversion, n.nspname
        FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
        WHERE x.extname <> 'plpgsql'
        ORDER BY x.extname COLLATE "C"
    """, params)
    return tuple(Extension(*row) for row in rows)


def _read_columns(conn, params) -> dict[tuple[str, str], list[Column]]:
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid),
               -- From PostgreSQL 17 partitions carry their parent's identity; 15 and 16 show it on the parent
               -- only. The parent's is the one inserts use, so partitions show none on every version.
               CASE WHEN NOT c.relispartition THEN a.attidentity::text END, a.attgenerated::text,
               CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
               col_description(c.oid, a.attnum), nullif(array_to_string(a.attacl, ','), ''),
               -- The default statistics target is -1 up to PostgreSQL 16 and NULL from 17.
               nullif(a.attstattarget::integer, -1),
               CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
          AND {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", a.attnum
    """, params)
    columns: dict[tuple[str, str], list[Column]] = {}
    storages = {"p": "plain", "e": "external", "m": "main", "x": "extended"}
    for (schema, table, name, type_, notnull, default, identity, generated, collation, comment, privileges,
         statistics, storage) in rows:
        identity_text = {"a": "always", "d": "by default"}.get(identity or "")
        generated_expr = default if generated in ("s", "v") else None
        if generated_expr is not None:
            default = None
            generated_expr += " (virtual)" if generated == "v" else " (stored)"
        columns.setdefault((schema, table), []).append(Column(
            name, type_, not notnull, default, identity_text, generated_expr, collation, comment, privileges,
            statistics, storages.get(storage or "")))
    return columns


def _read_constraints(conn, params) -> dict[tuple[str, str], list[Constraint]]:
    # contype 'n' (NOT NULL, catalogued here from PostgreSQL 18) is left out: nullability is a column fact.
    # Constraints cloned onto partitions (conparentid <> 0) and purely inherited ones repeat their parent's.
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid, true),
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, ord)
                     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.ord),
               rn.nspname || '.' || rc.relname,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, ord)
                     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.ord),
               obj_description(k.oid, 'pg_constraint')
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_class rc ON rc.oid = k.confrelid
        LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE k.contype IN ('p', 'f', 'u', 'c', 'x') AND k.conparentid = 0 AND k.conislocal
          AND {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", k.conname COLLATE "C"
    """, params)
    kinds = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion"}
    result: dict[tuple[str, str], list[Constraint]] = {}
    for schema, table, name, kind, definition, columns, references, ref_columns, comment in rows:
        result.setdefault((schema, table), []).append(Constraint(
            name, kinds[kind], definition, tuple(columns or ()), references if kind == "f" else None,
            tuple(ref_columns or ()) if kind == "f" else (), comment))
    return result


def _read_indexes(conn, params) -> dict[tuple[str, str], list[Index]]:
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, ic.relname, pg_get_indexdef(i.indexrelid),
               (SELECT k.conname FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid
                  AND k.contype IN ('p', 'u', 'x') LIMIT 1),
               obj_description(i.indexrelid, 'pg_class')
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND {_SYSTEM_SCHEMA_FILTER}
          AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", ic.relname COLLATE "C"
    """, params)
    result: dict[tuple[str, str], list[Index]] = {}
    for schema, table, name, definition, constraint, comment in rows:
        result.setdefault((schema, table), []).append(Index(name, definition, constraint, comment))
    return result


def _read_triggers(conn, params) -> dict[tuple[str, str], list[Trigger]]:
    # Internal triggers implement foreign keys; clones on partitions (tgparentid <> 0) repeat their parent.
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled::text,
               obj_description(t.oid, 'pg_trigger')
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {_SYSTEM_SCHEMA_FILTER}
          AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", t.tgname COLLATE "C"
    """, params)
    result: dict[tuple[str, str], list[Trigger]] = {}
    states = {"O": "origin", "D": "disabled", "R": "replica", "A": "always"}
    for schema, table, name, definition, enabled, comment in rows:
        result.setdefault((schema, table), []).append(Trigger(name, definition, states[enabled], comment))
    return result


def _read_policies(conn, params) -> dict[tuple[str, str], list[Policy]]:
    rows = _rows(conn, """
        SELECT p.schemaname, p.tablename, p.policyname, p.cmd, p.permissive = 'PERMISSIVE',
               ARRAY(SELECT r FROM unnest(p.roles) r ORDER BY r COLLATE "C"), p.qual, p.with_check
        FROM pg_policies p
        WHERE p.schemaname <> ALL(%(exclude)s::text[])
        ORDER BY p.schemaname COLLATE "C", p.tablename COLLATE "C", p.policyname COLLATE "C"
    """, params)
    result: dict[tuple[str, str], list[Policy]] = {}
    for schema, table, name, cmd, permissive, roles, using, check in rows:
        result.setdefault((schema, table), []).append(Policy(name, cmd, permissive, tuple(roles), using, check))
    return result


def _read_tables(conn, params) -> tuple[Table, ...]:
    columns = _read_columns(conn, params)
    constraints = _read_constraints(conn, params)
    indexes = _read_indexes(conn, params)
    triggers = _read_triggers(conn, params)
    policies = _read_policies(conn, params)
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
               (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits h JOIN pg_class pc ON pc.oid = h.inhparent
                  JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE h.inhrelid = c.oid AND c.relispartition),
               CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
               obj_description(c.oid, 'pg_class'), {_privileges('c.relacl', 'r', 'c.relowner')}
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f') AND {_SYSTEM_SCHEMA_FILTER}
          AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
    """, params)
    kinds = {"r": "table", "p": "partitioned table", "f": "foreign table"}
    tables = []
    for schema, name, kind, rls, force_rls, partkey, parent, bound, comment, privileges in rows:
        key = (schema, name)
        tables.append(Table(schema, name, kinds[kind], tuple(columns.get(key, ())),
                            tuple(constraints.get(key, ())), tuple(indexes.get(key, ())),
                            tuple(triggers.get(key, ())), tuple(policies.get(key, ())), rls, force_rls, partkey,
                            parent, bound, comment, privileges))
    return tuple(tables)


def _read_views(conn, params) -> tuple[View, ...]:
    columns = _read_columns(conn, params)
    indexes = _read_indexes(conn, params)
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid, true), obj_description(c.oid, 'pg_class'),
               {_privileges('c.relacl', 'r', 'c.relowner')}
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND {_SYSTEM_SCHEMA_FILTER}
          AND {_not_extension_member('pg_class', 'c.oid')}
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
    """, params)
    return tuple(View(schema, name, materialized, (definition or "").strip(),
                      tuple(columns.get((schema, name), ())), tuple(indexes.get((schema, name), ())), comment,
                      privileges)
                 for schema, name, materialized, definition, comment, privileges in rows)


def _read_enums(conn, params) -> tuple[EnumType, ...]:
    rows = _rows(conn, f"""
        SELECT n.nspname, t.typname,
               ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
               obj_description(t.oid, 'pg_type'), {_privileges('t.typacl', 'T', 't.typowner')}
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype = 'e' AND {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_type', 't.oid')}
        ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"
    """, params)
    return tuple(EnumType(schema, name, tuple(values), comment, privileges)
                 for schema, name, values, comment, privileges in rows)


def _read_domains(conn, params) -> tuple[Domain, ...]:
    rows = _rows(conn, f"""
        SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), NOT t.typnotnull, t.typdefault,
               ARRAY(SELECT k.conname || ': ' || pg_get_constraintdef(k.oid, true) FROM pg_constraint k
                     WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname COLLATE "C"),
               obj_description(t.oid, 'pg_type'), {_privileges('t.typacl', 'T', 't.typowner')}
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype = 'd' AND {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_type', 't.oid')}
        ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"
    """, params)
    return tuple(Domain(schema, name, base, nullable, default, tuple(checks), comment, privileges)
                 for schema, name, base, nullable, default, checks, comment, privileges in rows)


def _read_composites(conn, params) -> tuple[CompositeType, ...]:
    rows = _rows(conn, f"""
        SELECT n.nspname, t.typname,
               ARRAY(SELECT ARRAY[a.attname::text, format_type(a.atttypid, a.atttypmod)] FROM pg_attribute a
                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
               obj_description(t.oid, 'pg_type'), {_privileges('t.typacl', 'T', 't.typowner')}
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
        WHERE t.typtype = 'c' AND c.relkind = 'c' AND {_SYSTEM_SCHEMA_FILTER}
          AND {_not_extension_member('pg_type', 't.oid')}
        ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"
    """, params)
    return tuple(CompositeType(schema, name, tuple((a, b) for a, b in attributes), comment, privileges)
                 for schema, name, attributes, comment, privileges in rows)


def _read_sequences(conn, params) -> tuple[Sequence, ...]:
    # Identity columns' sequences (dependency 'i') belong to the column and are shown there.
    rows = _rows(conn, f"""
        SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
               s.seqmax, s.seqcycle,
               (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname FROM pg_depend d
                  JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
                    AND d.refclassid = 'pg_class'::regclass LIMIT 1),
               {_privileges('c.relacl', 's', 'c.relowner')}
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
        WHERE c.relkind = 'S' AND {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_class', 'c.oid')}
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'i')
        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"
    """, params)
    return tuple(Sequence(*row) for row in rows)


def _read_functions(conn, params) -> tuple[Function, ...]:
    rows = _rows(conn, f"""
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
               CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END, p.prokind::text, l.lanname,
               CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid) END,
               obj_description(p.oid, 'pg_proc'), {_privileges('p.proacl', 'f', 'p.proowner')}
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE {_SYSTEM_SCHEMA_FILTER} AND {_not_extension_member('pg_proc', 'p.oid')}
        ORDER BY n.nspname COLLATE "C", p.proname COLLATE "C",
                 pg_get_function_identity_arguments(p.oid) COLLATE "C"
    """, params)
    kinds = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
    return tuple(Function(schema, name, args, result, kinds[kind], language, definition, comment, privileges)
                 for schema, name, args, result, kind, language, definition, comment, privileges in rows)


# --------------------------------------------------------------------------------------------- rendering

HEADER = ("<!-- Generated by `pgshift snapshot` from the database's catalog. Do not edit by hand: "
          "run `pgshift snapshot` after migrating. -->")


_CODE_SPAN_RE = re.compile(r"(`+)[\s\S]*?\1")


def _cell(text: object | None) -> str:
    """A markdown table cell: pipes escaped, line breaks kept visible, empty for nothing.

    Backslashes are doubled only outside code spans: inside one, markdown shows them as they are (a doubled
    one would show twice), and GFM's `\\|` is the one escape a code span in a table cell understands.
    """
    if text is None or text == "":
        return ""
    value = str(text)
    pieces, last = [], 0
    for span in _CODE_SPAN_RE.finditer(value):
        pieces.append(value[last:span.start()].replace("\\", "\\\\"))
        pieces.append(span.group())
        last = span.end()
    pieces.append(value[last:].replace("\\", "\\\\"))
    value = "".join(pieces).replace("|", "\\|")
    return "<br>".join(part.strip() for part in value.splitlines()) if "\n" in value else value


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _table(header: list[str], rows: list[list[object | None]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def _column_default(column: Column) -> str | None:
    if column.identity:
        return f"generated {column.identity} as identity"
    if column.generated:
        return f"generated always as {column.generated}"
    return column.default


def _column_rows(columns: Iterable[Column], keys: dict[str, str] | None = None) -> list[list[object | None]]:
    rows = []
    for column in columns:
        type_ = column.type + (f" collate {column.collation}" if column.collation else "")
        rows.append([_code(column.name), type_, "" if column.nullable else "not null",
                     _code(_column_default(column)) if _column_default(column) else "",
                     (keys or {}).get(column.name, ""), column.comment])
    return rows


def render_database_md(schema: Schema, title: str = "Database schema") -> str:
    """DATABASE.md: an overview, a Mermaid ER diagram and one section per object, all in a stable order."""
    out: list[str] = [f"# {title}", "", HEADER, ""]

    counts = [(len(schema.tables), "table"), (len(schema.views), "view"), (len(schema.enums), "enum"),
              (len(schema.functions), "function"), (len(schema.sequences), "sequence")]
    summary = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts if n)
    out += [f"{summary or 'No objects'} in {len(schema.schemas)} schema{'' if len(schema.schemas) == 1 else 's'}: "
            + ", ".join(_code(s.name) for s in schema.schemas) + ".", ""]

    if schema.extensions:
        out += ["## Extensions", ""]
        out += _table(["Extension", "Version", "Schema"],
                      [[_code(x.name), x.version, _code(x.schema)] for x in schema.extensions])
        out.append("")

    if schema.tables:
        out += _render_diagrams(schema)

    for info in schema.schemas:
        out += _render_schema_section(schema, info)
    return "\n".join(out).rstrip("\n") + "\n"


def _render_diagrams(schema: Schema) -> list[str]:
    diagrams = render_diagrams(schema)
    out = ["## Diagram", ""]
    if len(diagrams) > 1 or diagrams[0].caption:
        out += [f"One diagram would exceed Mermaid's {MERMAID_MAX_TEXT_SIZE:,}-character limit, so there is one per "
                "schema; a schema too large for that shows its key columns only (PK, FK, UK), in parts if "
                "needed. Every column is listed in the sections below.", ""]
    for diagram in diagrams:
        if diagram.caption:
            out += [f"{diagram.caption}:", ""]
        out += ["```mermaid", *diagram.lines, "```", ""]
    return out


def _render_schema_section(schema: Schema, info: SchemaInfo) -> list[str]:
    name = info.name
    tables = [t for t in schema.tables if t.schema == name]
    views = [v for v in schema.views if v.schema == name]
    enums = [e for e in schema.enums if e.schema == name]
    domains = [d for d in schema.domains if d.schema == name]
    composites = [c for c in schema.composite_types if c.schema == name]
    sequences = [s for s in schema.sequences if s.schema == name]
    functions = [f for f in schema.functions if f.schema == name]

    out = [f"## Schema {_code(name)}", ""]
    if info.comment:
        out += [f"> {_oneline(info.comment)}", ""]
    if not (tables or views or enums or domains or composites or sequences or functions):
        out += ["_Empty._", ""]
        return out
    for table in tables:
        out += _render_table(table)
    for view in views:
        out += _render_view(view)
    if enums:
        out += ["### Enums", ""]
        out += _table(["Type", "Values", "Comment"],
                      [[_code(e.qualified_name), ", ".join(_code(v) for v in e.values), e.comment] for e in enums])
        out.append("")
    if domains:
        out += ["### Domains", ""]
        out += _table(["Domain", "Base type", "Nullable", "Default", "Checks", "Comment"],
                      [[_code(d.qualified_name), d.base_type, "" if d.nullable else "not null",
                        _code(d.default) if d.default else "", "<br>".join(_code(c) for c in d.constraints),
                        d.comment] for d in domains])
        out.append("")
    if composites:
        out += ["### Composite types", ""]
        out += _table(["Type", "Attributes", "Comment"],
                      [[_code(c.qualified_name), ", ".join(f"{_code(a)} {t}" for a, t in c.attributes), c.comment]
                       for c in composites])
        out.append("")
    if sequences:
        out += ["### Sequences", ""]
        out += _table(["Sequence", "Type", "Start", "Increment", "Min", "Max", "Cycle", "Owned by"],
                      [[_code(s.qualified_name), s.type, s.start, s.increment, s.minimum, s.maximum,
                        "yes" if s.cycle else "no", _code(s.owned_by) if s.owned_by else ""] for s in sequences])
        out.append("")
    if functions:
        out += ["### Functions", ""]
        out += _table(["Function", "Returns", "Kind", "Language", "Comment"],
                      [[_code(f.signature), f.returns or "", f.kind, f.language, f.comment] for f in functions])
        out.append("")
    return out


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _remark(comment: str | None) -> str:
    """A comment on an index, constraint or trigger, after its line; nothing when there is none."""
    return f" — {_oneline(comment)}" if comment else ""


_TRIGGER_STATES = {"disabled": "disabled", "replica": "enabled on replicas only", "always": "enabled always"}


def _render_table(table: Table) -> list[str]:
    label = {"table": "Table", "partitioned table": "Partitioned table", "foreign table": "Foreign table"}
    out = [f"### {label[table.kind]} {_code(table.qualified_name)}", ""]
    if table.comment:
        out += [f"> {_oneline(table.comment)}", ""]
    if table.partition_of:
        out += [f"Partition of {_code(table.partition_of)}: {_code(table.partition_bound or '')}", ""]
    if table.partition_key:
        out += [f"Partitioned by {_code(table.partition_key)}", ""]
    if table.columns:
        out += _table(["Column", "Type", "Nullable", "Default", "Key", "Comment"],
                      _column_rows(table.columns, _key_marks(table)))
        out.append("")
    facts: list[str] = []
    pk = table.primary_key
    if pk:
        facts.append(f"- **Primary key** {_code(pk.name)}: ({', '.join(pk.columns)})" + _remark(pk.comment))
    for fk in table.constraints_of("foreign key"):
        facts.append(f"- **Foreign key** {_code(fk.name)}: {_code(fk.definition)}" + _remark(fk.comment))
    for kind in ("unique", "check", "exclusion"):
        for constraint in table.constraints_of(kind):
            facts.append(f"- **{kind.capitalize()}** {_code(constraint.name)}: {_code(constraint.definition)}"
                         + _remark(constraint.comment))
    # Indexes that implement a primary key, unique or exclusion constraint are shown by the constraint.
    for index in table.indexes:
        if not index.constraint:
            facts.append(f"- **Index** {_code(index.name)}: {_code(index.definition)}" + _remark(index.comment))
    for trigger in table.triggers:
        state = "" if trigger.enabled == "origin" else f" ({_TRIGGER_STATES[trigger.enabled]})"
        facts.append(f"- **Trigger** {_code(trigger.name)}: {_code(trigger.definition)}{state}"
                     + _remark(trigger.comment))
    if table.row_security or table.force_row_security:
        states = (["enabled"] if table.row_security else ["not enabled"]) + (
            ["forced for the table owner"] if table.force_row_security else [])
        facts.append("- **Row level security** " + ", ".join(states))
    for policy in table.policies:
        detail = f"{'permissive' if policy.permissive else 'restrictive'} {policy.command} to {', '.join(policy.roles)}"
        if policy.using:
            detail += f" using {_code(_oneline(policy.using))}"
        if policy.with_check:
            detail += f" with check {_code(_oneline(policy.with_check))}"
        facts.append(f"- **Policy** {_code(policy.name)}: {detail}")
    if facts:
        out += facts + [""]
    return out


def _render_view(view: View) -> list[str]:
    out = [f"### {'Materialized view' if view.materialized else 'View'} {_code(view.qualified_name)}", ""]
    if view.comment:
        out += [f"> {_oneline(view.comment)}", ""]
    if view.columns:
        out += _table(["Column", "Type", "Comment"],
                      [[_code(c.name), c.type, c.comment] for c in view.columns])
        out.append("")
    out += ["```sql", view.definition, "```", ""]
    for index in view.indexes:
        out += [f"- **Index** {_code(index.name)}: {_code(index.definition)}" + _remark(index.comment)]
    if view.indexes:
        out.append("")
    return out


# --------------------------------------------------------------------------------------------- the verb

def snapshot(settings: Settings, *, write: bool = True) -> SnapshotResult:
    """Read the configured database's schema and write it to `settings.snapshot_path` (DATABASE.md).

    `changed` says whether the file's content differs from what was there; with `write=False` nothing is
    written (for a CI check that the committed snapshot is current).
    """
    from engine.database.db import session

    path = settings.snapshot_path or settings.project_root / "DATABASE.md"
    with session(settings) as (conn, _target):
        try:
            schema = read_schema(conn, tracking_table=settings.tracking_table)
        except psycopg.Error as exc:
            from engine.database.db import redact
            raise SnapshotError(f"could not read the schema: {redact(str(exc).strip())}") from exc
    text = render_database_md(schema)
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError):
        old = None
    changed = old != text
    if write and changed:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SnapshotError(f"cannot write {path}: {exc.strerror}",
                                help="check the folder's permissions or set snapshot_path") from exc
    return SnapshotResult(path, text, changed)
