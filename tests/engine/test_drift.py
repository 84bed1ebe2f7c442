"""engine.shadow.drift against real servers: changes made by hand are found and named, with the migration
that defined the object; a database as its migrations left it has no drift; ignores and extensions."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from engine.config import load_settings
from engine.errors import ConfigError, PgshiftError
from engine.database.runner import migrate
from engine.shadow.drift import ADDED, CHANGED, REMOVED, drift
from tests.conftest import write_migration

SHOP = """CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, status text DEFAULT 'new');
CREATE INDEX customers_email_idx ON customers (email);
CREATE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hello ' || who $$;
-- ROLLBACK:
-- DROP FUNCTION greet(text);
-- DROP TABLE customers;
"""
ORDERS = """CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE VIEW big_orders AS SELECT id FROM orders WHERE id > 100;
-- ROLLBACK:
-- DROP VIEW big_orders;
-- DROP TYPE mood;
-- DROP TABLE orders;
"""


def _applied(project) -> None:
    write_migration(project, "2024-01-01_1000_shop.sql", SHOP)
    write_migration(project, "2024-01-02_1000_orders.sql", ORDERS)
    assert len(migrate(project).applied) == 2


def _by_hand(project, *statements: str) -> None:
    with psycopg.connect(project.database_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _scratch_databases(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'pgshift_verify_%'")]


def test_a_database_as_its_migrations_left_it_has_no_drift(project):
    _applied(project)
    result = drift(project)
    assert not result.drifted and result.items == () and result.problems == ()
    assert result.applied == ("2024-01-01_1000_shop", "2024-01-02_1000_orders")
    assert _scratch_databases(project.database_url) == []


def test_changes_made_by_hand_are_found_each_named_with_the_migration_that_defined_it(project):
    _applied(project)
    role = "reader_" + uuid.uuid4().hex[:8]  # roles belong to the whole server, shared with other tests
    _by_hand(project,
             "ALTER TABLE customers ADD COLUMN nickname text",
             "DROP INDEX customers_email_idx",
             "ALTER TABLE customers ALTER COLUMN status SET DEFAULT 'active'",
             "CREATE OR REPLACE FUNCTION greet(who text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || who $$",
             "COMMENT ON TABLE orders IS 'every order'",
             f'CREATE ROLE "{role}"',
             f'GRANT SELECT ON orders TO "{role}"',
             "ALTER TYPE mood ADD VALUE 'meh'",
             "CREATE OR REPLACE VIEW big_orders AS SELECT id FROM orders WHERE id > 1000")
    try:
        result = drift(project)
    finally:
        _by_hand(project, f'REVOKE ALL ON orders FROM "{role}"', f'DROP ROLE "{role}"')
    found = {(i.kind, i.name, i.change, i.attribute): i for i in result.items}
    assert set(found) == {
        ("column", "public.customers.nickname", ADDED, None),
        ("index", "public.customers_email_idx", REMOVED, None),
        ("column", "public.customers.status", CHANGED, "default"),
        ("function", "public.greet(who text)", CHANGED, "definition"),
        ("table", "public.orders", CHANGED, "comment"),
        ("table", "public.orders", CHANGED, "privileges"),
        ("enum", "public.mood", CHANGED, "values"),
        ("view", "public.big_orders", CHANGED, "definition"),
    }
    status = found[("column", "public.customers.status", CHANGED, "default")]
    assert status.message == ("column public.customers.status: default is 'active'::text in the database, "
                              "the applied migrations give 'new'::text")
    assert status.defined_in.version == "2024-01-01_1000_shop" and status.defined_in.span.start.line == 0
    assert found[("index", "public.customers_email_idx", REMOVED, None)].defined_in.version == "2024-01-01_1000_shop"
    function = found[("function", "public.greet(who text)", CHANGED, "definition")]
    assert function.defined_in.version == "2024-01-01_1000_shop" and function.defined_in.span.start.line == 2
    assert "-AS $function$ SELECT 'hello ' || who $function$" in function.detail
    assert "+AS $function$ SELECT 'hi ' || who $function$" in function.detail
    assert found[("table", "public.orders", CHANGED, "comment")].message == (
        "table public.orders: comment is 'every order' in the database, the applied migrations give none")
    assert found[("enum", "public.mood", CHANGED, "values")].defined_in.version == "2024-01-02_1000_orders"
    assert role in str(found[("table", "public.orders", CHANGED, "privileges")].live)
    finding = status.finding()
    assert finding.code == "schema-drift" and finding.path.name == "2024-01-01_1000_shop.sql"
    assert _scratch_databases(project.database_url) == []


def test_drift_ignore_patterns_leave_out_matching_names(project):
    _applied(project)
    _by_hand(project, "CREATE TABLE tmp_import (line text)", "ALTER TABLE customers ADD COLUMN scratch_note text",
             "CREATE TABLE kept (id int)", "CREATE INDEX orders_customer_idx ON orders (customer_id)")
    (project.project_root / "pgshift.toml").write_text(
        'drift_ignore = ["public.tmp_*", "public.customers.scratch_*", "public.orders"]\n', encoding="utf-8")
    settings = load_settings(project.project_root, database_url=project.database_url, environ={})
    result = drift(settings)
    assert [(i.kind, i.name) for i in result.items] == [("table", "public.kept")]
    assert result.ignored == 3  # the table (with its column), the customers column, the index on orders


def test_objects_an_extension_owns_are_not_drift(project):
    _applied(project)
    _by_hand(project, "CREATE EXTENSION IF NOT EXISTS pg_trgm")  # dozens of functions, operators and types
    result = drift(project)
    assert [(i.kind, i.name, i.change) for i in result.items] == [("extension", "pg_trgm", ADDED)]


def test_an_edited_or_missing_applied_file_is_said_and_the_text_on_disk_is_replayed(project):
    _applied(project)
    path = project.migrations_dir / "2024-01-02_1000_orders.sql"
    path.write_text(ORDERS.replace("CREATE VIEW", "CREATE INDEX orders_customer_idx ON orders (customer_id);\n"
                                                  "CREATE VIEW"), encoding="utf-8")
    result = drift(project)
    assert [f.code for f in result.problems] == ["applied-file-changed"]
    assert [(i.kind, i.name, i.change) for i in result.items] == [("index", "public.orders_customer_idx", REMOVED)]
    path.unlink()
    result = drift(project)
    assert [f.code for f in result.problems] == ["applied-file-missing"]
    assert result.applied == ("2024-01-01_1000_shop",)
    assert {(i.kind, i.name, i.change) for i in result.items} >= {("table", "public.orders", ADDED)}


def test_the_live_database_is_only_read(project):
    _applied(project)
    with psycopg.connect(project.database_url) as conn:
        before = conn.execute("SELECT count(*) FROM pg_class").fetchone()
    drift(project)
    with psycopg.connect(project.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class").fetchone() == before


def test_drift_ignore_must_be_a_list_of_strings(tmp_path):
    (tmp_path / "pgshift.toml").write_text('drift_ignore = "public.tmp_*"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"drift_ignore must be a list of glob patterns"):
        load_settings(tmp_path, environ={})
    (tmp_path / "pgshift.toml").write_text('drift_ignore = ["public.tmp_*", 3]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"drift_ignore must list strings, not an integer 3"):
        load_settings(tmp_path, environ={})


def test_a_role_that_may_not_create_databases_compares_on_the_embedded_server(project):
    from engine.database.db import start_embedded, stop_embedded

    _applied(project)
    role = "nocreate_" + uuid.uuid4().hex[:8]
    _by_hand(project, f'CREATE ROLE "{role}" LOGIN NOCREATEDB', f'GRANT USAGE ON SCHEMA system TO "{role}"',
             f'GRANT SELECT ON system.schema_migrations TO "{role}"')
    settings = project.with_overrides(database_url=psycopg.conninfo.make_conninfo(project.database_url, user=role))
    try:
        _by_hand(project, "ALTER TABLE orders ADD COLUMN note text")
        result = drift(settings)
        assert result.scratch_server.startswith("embedded PostgreSQL")
        assert result.fallback_reason.startswith(f'the role "{role}" may not create databases on ')
        found = [(i.kind, i.name, i.change) for i in result.items]
        with psycopg.connect(project.database_url) as conn:
            major = conn.info.server_version // 10000
        if major == 18:  # the embedded server's version: the replay reads exactly as the database does
            assert result.version_warning is None and found == [("column", "public.orders.note", ADDED)]
        else:
            assert ("column", "public.orders.note", ADDED) in found
            assert result.version_warning.startswith(
                f"the replay ran on PostgreSQL 18 and the database is PostgreSQL {major}: ")
        assert _scratch_databases(start_embedded(settings.embedded_dir)) == []
    finally:
        stop_embedded(settings.embedded_dir)
        _by_hand(project, f'REVOKE ALL ON system.schema_migrations FROM "{role}"',
                 f'REVOKE ALL ON SCHEMA system FROM "{role}"', f'DROP ROLE "{role}"')


def test_a_run_recorded_as_failed_is_not_replayed_and_drift_says_why(project):
    _applied(project)
    write_migration(project, "2024-01-03_1000_half.sql", """-- pgshift: no-transaction
CREATE TABLE half_done (id int);
CREATE INDEX CONCURRENTLY half_missing_idx ON no_such_table (id);
-- ROLLBACK:
-- DROP TABLE half_done;
""")
    with pytest.raises(PgshiftError):
        migrate(project)
    result = drift(project)
    assert [(f.code, f.message) for f in result.problems] == [(
        "migration-failed", "2024-01-03_1000_half is recorded as failed, so it was not replayed: what it ran before "
                            "it stopped shows as drift")]
    assert [(i.kind, i.name, i.change) for i in result.items] == [("table", "public.half_done", ADDED)]


def test_maintain_privilege_of_a_newer_replay_server_is_not_drift():
    """A replay on PostgreSQL 17+ grants owners MAINTAIN (`m`); a database on 15 or 16 cannot have it."""
    from engine.shadow.drift import _without_maintain
    import dataclasses

    nested = {"tables": ({"privileges": "app=arwdDxtm/app,ro=r/app"},),
              "kept": "arwdDxtm"}
    assert _without_maintain(nested) == {"tables": ({"privileges": "app=arwdDxtm/app,ro=r/app"},),
                                         "kept": "arwdDxtm"}  # only `privileges` fields of dataclasses change

    @dataclasses.dataclass(frozen=True)
    class Table:
        name: str
        privileges: str | None

    tables = (Table("t", "app=arwdDxtm*/app,ro=rm/app"), Table("u", None))
    assert _without_maintain(tables) == (Table("t", "app=arwdDxt/app,ro=r/app"), Table("u", None))
