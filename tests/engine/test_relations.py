"""A relation's history across migrations: where it is created, mentioned and dropped, names matched as
PostgreSQL resolves them (unquoted names fold to lower case; no schema means public)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import UsageError
from engine.analysis.files import parse_migration
from engine.analysis.findings import Position
from engine.analysis.relations import ALTERS, CREATES, DROPS, MENTIONS, Relation, definition, references, relation_at, relation_refs


def migration(version: str, text: str):
    return parse_migration(Path(f"migrations/{version}.sql"), text)


def test_names_are_placed_and_matched_as_postgresql_resolves_them():
    m = migration("2025-01-01_1000_a", 'CREATE TABLE Public.Orders (id int);\nINSERT INTO "Orders" VALUES (1);\n'
                                       "DROP TABLE public.orders;\n")
    refs = [(str(r.relation), r.role, r.span.start.column, r.span.end.column) for r in relation_refs(m)]
    assert refs == [("orders", CREATES, 13, 26), ("Orders", MENTIONS, 12, 20), ("orders", DROPS, 11, 24)]
    assert relation_at(m, Position(0, 20)) == Relation("public", "orders")
    assert relation_at(m, Position(0, 2)) is None


def test_the_definition_is_the_creation_in_force_at_that_migration():
    first = migration("2025-01-01_1000_create", "CREATE TABLE t (id int);\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    dropped = migration("2025-01-02_1000_drop", "DROP TABLE t;\n")
    again = migration("2025-01-03_1000_recreate", "CREATE TABLE t (id bigint);\n")
    later = migration("2025-01-04_1000_use", "ALTER TABLE t ADD COLUMN x int;\n")
    files = [later, again, dropped, first]
    t = Relation("public", "t")
    assert definition(files, t, later.version).path == again.path
    assert definition(files, t, dropped.version).path == first.path
    assert definition(files, t, "2024-12-31_0000_earlier").path == first.path  # a file before any creation
    roles = [(r.version, r.role, r.in_rollback) for r in references(files, t)]
    assert roles == [(first.version, CREATES, False), (first.version, DROPS, True), (dropped.version, DROPS, False),
                     (again.version, CREATES, False), (later.version, ALTERS, False)]
    assert definition(files, Relation("other", "t"), later.version) is None


def test_a_name_on_the_command_line_is_read_as_postgresql_reads_it():
    assert Relation.parse("Orders") == Relation("public", "orders")
    assert Relation.parse('app."Orders"') == Relation("app", "Orders")
    for bad in ("a.b.c", "", "orders;"):
        with pytest.raises(UsageError):
            Relation.parse(bad)
