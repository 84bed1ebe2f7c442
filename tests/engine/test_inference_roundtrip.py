"""Every inferred rollback, run for real: forward, then the inferred rollback in a new session, same schema."""

from __future__ import annotations

import psycopg
import pytest

from engine.database import execution
from engine.analysis.inference import infer_rollback
from engine.shadow.schema_diff import diff_schemas
from engine.database.snapshot import read_schema

SETUP = """
CREATE SCHEMA app;
CREATE TABLE app.users (id int PRIMARY KEY, email text, org_id int, public_id uuid);
CREATE TABLE app.orgs (id int PRIMARY KEY);
CREATE TABLE public.users (id int PRIMARY KEY);
"""

# Forward migrations the way teams write them; each must round-trip through its inferred rollback.
CORPUS = [
    "SET search_path = app;\nCREATE TABLE things (id int);\nALTER TABLE users ADD COLUMN nick text;",
    "SET search_path TO app, public;\nCREATE INDEX users_email_idx ON users (email);",
    "CREATE UNIQUE INDEX users_public_id_idx ON app.users (public_id);\n"
    "ALTER TABLE app.users ADD CONSTRAINT users_public_id_key UNIQUE USING INDEX users_public_id_idx;",
    "CREATE TABLE app.k (id int NOT NULL);\nCREATE UNIQUE INDEX k_id_idx ON app.k (id);\n"
    "ALTER TABLE app.k ADD CONSTRAINT k_pkey PRIMARY KEY USING INDEX k_id_idx;",
    "ALTER TABLE app.users ADD UNIQUE (email);\nALTER TABLE app.users ADD FOREIGN KEY (org_id) REFERENCES app.orgs (id);",
    "CREATE TYPE app.status AS ENUM ('a', 'b');\nCREATE DOMAIN app.email AS text CHECK (VALUE ~ '^\\S+@\\S+$');\n"
    "CREATE TYPE app.pair AS (a int, b text);\nCREATE SEQUENCE app.invoice_no START 1000;",
    'CREATE TABLE app."Order" ("User" int, "select" int, "a""b" int);\n'
    'CREATE INDEX "Order_idx" ON app."Order" ("User");\nALTER TABLE app."Order" RENAME COLUMN "select" TO "from";\n'
    'ALTER TABLE app."Order" ADD CONSTRAINT "Chk" CHECK ("User" > 0);',
    "CREATE FUNCTION app.f1(a int, b varchar(10) DEFAULT 'x', OUT c double precision) LANGUAGE sql "
    "AS $$ SELECT 1.0 $$;\nCREATE FUNCTION app.f2(VARIADIC xs text[]) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
    "CREATE TABLE app.events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL)\n"
    "    PARTITION BY RANGE (at);\nCREATE TABLE app.events_2025 PARTITION OF app.events\n"
    "    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
    "ALTER TABLE app.users ADD COLUMN plan text NOT NULL DEFAULT 'free', ADD COLUMN n int;\n"
    "ALTER TABLE app.users ALTER COLUMN email SET NOT NULL;",
    "CREATE VIEW app.v AS SELECT id FROM app.users;\nCREATE MATERIALIZED VIEW app.mv AS SELECT 1 AS x;",
    "ALTER TABLE app.users RENAME TO people;\nALTER TABLE app.people RENAME COLUMN email TO mail;",
]


def _run(conn: psycopg.Connection, script: str) -> None:
    conn.execute("BEGIN")
    outcome = execution.run_script(conn, script)
    if outcome.error is not None:
        execution.rollback_if_needed(conn)
        raise AssertionError(f"{script}\nfailed: {outcome.error}")
    conn.execute("COMMIT")


@pytest.mark.parametrize("forward", CORPUS, ids=range(len(CORPUS)))
def test_inferred_rollback_restores_the_schema(database_url, forward):
    inferred = infer_rollback(forward)
    assert inferred.sql and "TODO" not in inferred.sql, inferred.notes
    with psycopg.connect(database_url, autocommit=True) as conn:
        _run(conn, SETUP)
        before = read_schema(conn)
        _run(conn, forward)
    # A new session, as `pgshift rollback` is: nothing the forward SQL SET is still in effect.
    with psycopg.connect(database_url, autocommit=True) as conn:
        _run(conn, inferred.sql)
        assert [str(d) for d in diff_schemas(before, read_schema(conn))] == []
        _run(conn, forward)
