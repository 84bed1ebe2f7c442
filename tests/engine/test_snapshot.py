"""engine.database.snapshot against real servers: every object kind read, rendered for a reader, stable run to run."""

from __future__ import annotations

import difflib

import psycopg

from engine.database.snapshot import read_schema, render_database_md, snapshot

EVERY_KIND = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'Application data';
CREATE TYPE app.order_status AS ENUM ('new', 'paid', 'shipped');
ALTER TYPE app.order_status ADD VALUE 'draft' BEFORE 'new';
CREATE DOMAIN app.email AS citext NOT NULL CHECK (VALUE LIKE '%@%');
CREATE TYPE app.money_pair AS (amount numeric(12,2), currency char(3));
CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.email UNIQUE,
    name text NOT NULL DEFAULT 'anonymous',
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED
);
COMMENT ON TABLE app.customers IS 'People who buy things';
COMMENT ON COLUMN app.customers.email IS 'Login | contact address';
CREATE TABLE app.orders (
    id serial PRIMARY KEY,
    customer_id bigint REFERENCES app.customers (id) ON DELETE CASCADE,
    status app.order_status NOT NULL DEFAULT 'new',
    total numeric(12,2) CONSTRAINT total_not_negative CHECK (total >= 0),
    during tstzrange,
    CONSTRAINT no_overlap EXCLUDE USING gist (customer_id WITH =, during WITH &&)
);
CREATE INDEX orders_open_idx ON app.orders (status) WHERE status <> 'shipped';
CREATE SEQUENCE app.invoice_numbers START 1000 INCREMENT 5;
CREATE VIEW app.paid_orders AS SELECT id, total FROM app.orders WHERE status = 'paid';
CREATE MATERIALIZED VIEW app.order_totals AS
    SELECT customer_id, sum(total) AS total FROM app.orders GROUP BY customer_id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE FUNCTION public.add(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
"""


def _run(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _schema(url: str, **kwargs):
    with psycopg.connect(url, autocommit=True) as conn:
        return read_schema(conn, **kwargs)


def test_every_object_kind_is_read(database_url):
    _run(database_url, EVERY_KIND)
    schema = _schema(database_url)

    assert [s.name for s in schema.schemas] == ["app", "public"]
    assert {x.name for x in schema.extensions} == {"citext", "btree_gist"}
    orders = schema.table("app.orders")
    assert [c.name for c in orders.columns] == ["id", "customer_id", "status", "total", "during"]
    assert orders.primary_key.columns == ("id",)
    fk = orders.constraints_of("foreign key")[0]
    assert (fk.columns, fk.references, fk.referenced_columns) == (("customer_id",), "app.customers", ("id",))
    assert "ON DELETE CASCADE" in fk.definition
    assert [c.name for c in orders.constraints_of("check")] == ["total_not_negative"]
    assert [c.name for c in orders.constraints_of("exclusion")] == ["no_overlap"]
    assert "orders_open_idx" in {i.name for i in orders.indexes}
    assert [t.name for t in orders.triggers] == ["orders_touch"]
    customers = schema.table("app.customers")
    assert customers.comment == "People who buy things"
    by_name = {c.name: c for c in customers.columns}
    assert by_name["id"].identity == "always" and not by_name["id"].nullable
    assert by_name["name"].default == "'anonymous'::text"
    assert by_name["name_upper"].generated.startswith("upper(name)")
    assert by_name["email"].comment == "Login | contact address"
    assert schema.enums[0].values == ("draft", "new", "paid", "shipped")  # sort order, not creation order
    assert [(v.name, v.materialized) for v in schema.views] == [("order_totals", True), ("paid_orders", False)]
    assert [s.name for s in schema.sequences] == ["invoice_numbers", "orders_id_seq"]  # not the identity one
    assert schema.sequences[1].owned_by == "app.orders.id"
    assert [d.name for d in schema.domains] == ["email"]
    assert [c.name for c in schema.composite_types] == ["money_pair"]
    assert [f.signature for f in schema.functions] == ["app.touch()", "public.add(a integer, b integer)"]
    # Objects that belong to extensions (citext's functions and types, btree_gist's operator support) stay out.
    assert not any(f.name.startswith(("citext", "gbt_")) for f in schema.functions)


def test_not_null_is_a_column_fact_only(database_url):
    # PostgreSQL 18 catalogues NOT NULL in pg_constraint too; it must not show up as a second constraint.
    _run(database_url, "CREATE TABLE t (a integer NOT NULL, b integer CONSTRAINT b_set NOT NULL)")
    table = _schema(database_url).table("public.t")
    assert table.constraints == ()
    assert [c.nullable for c in table.columns] == [False, False]
    text = render_database_md(_schema(database_url))
    assert "| `b` | integer | not null |" in text
    assert "b_set" not in text


def test_rendered_markdown_has_what_a_reader_needs(database_url):
    _run(database_url, EVERY_KIND)
    text = render_database_md(_schema(database_url))

    assert text.startswith("# Database schema\n")
    assert "### Table `app.orders`" in text
    assert "| `customer_id` | bigint |  |  | FK |  |" in text
    assert "| `email` | app.email |  |  | UK | Login \\| contact address |" in text  # pipe escaped
    assert "| `id` | bigint | not null | `generated always as identity` | PK |  |" in text
    assert "- **Foreign key** `orders_customer_id_fkey`: `FOREIGN KEY (customer_id) REFERENCES " \
           "app.customers(id) ON DELETE CASCADE`" in text
    assert "- **Index** `orders_open_idx`: `CREATE INDEX orders_open_idx ON app.orders USING btree (status)" in text
    assert "- **Exclusion** `no_overlap`" in text
    assert "> People who buy things" in text
    assert "| `app.order_status` | `draft`, `new`, `paid`, `shipped` |  |" in text
    assert "### Materialized view `app.order_totals`" in text
    assert "### View `app.paid_orders`" in text
    assert "| `public.add(a integer, b integer)` | integer | function | sql |  |" in text
    assert "```mermaid\nerDiagram\n" in text
    assert '"app.customers" |o--o{ "app.orders" : "customer_id"' in text
    assert "citext" in text and "gbt_" not in text


def test_two_runs_are_identical_and_a_new_column_is_a_small_diff(database_url):
    _run(database_url, EVERY_KIND)
    first = render_database_md(_schema(database_url))
    assert render_database_md(_schema(database_url)) == first

    _run(database_url, "ALTER TABLE app.orders ADD COLUMN note text")
    second = render_database_md(_schema(database_url))
    changed = [line for line in difflib.unified_diff(first.splitlines(), second.splitlines(), lineterm="", n=0)
               if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert sorted(changed) == ["+        text note", "+| `note` | text |  |  |  |  |"]


def test_tracking_table_is_left_out_with_its_schema(database_url):
    _run(database_url, "CREATE SCHEMA system; CREATE TABLE system.schema_migrations (version text PRIMARY KEY);"
                       "CREATE TABLE public.t (id int)")
    schema = _schema(database_url, tracking_table="system.schema_migrations")
    assert [s.name for s in schema.schemas] == ["public"]
    assert [t.qualified_name for t in schema.tables] == ["public.t"]
    assert "system" not in render_database_md(schema)


def test_user_tables_in_the_tracking_schema_are_kept(database_url):
    _run(database_url, "CREATE SCHEMA system; CREATE TABLE system.schema_migrations (version text PRIMARY KEY);"
                       "CREATE TABLE system.settings (key text PRIMARY KEY)")
    schema = _schema(database_url, tracking_table="system.schema_migrations")
    assert "system" in [s.name for s in schema.schemas]
    assert [t.qualified_name for t in schema.tables] == ["system.settings"]


def test_snapshot_writes_the_file_and_reports_changes(project):
    _run(project.database_url, "CREATE TABLE public.things (id bigint PRIMARY KEY)")
    first = snapshot(project)
    assert first.changed and first.path == project.snapshot_path
    assert project.snapshot_path.read_text(encoding="utf-8") == first.text
    assert "### Table `public.things`" in first.text
    assert not snapshot(project).changed

    _run(project.database_url, "ALTER TABLE public.things ADD COLUMN name text")
    checked = snapshot(project, write=False)
    assert checked.changed
    assert "`name`" not in project.snapshot_path.read_text(encoding="utf-8")


def test_partitions_read_the_same_on_every_version(database_url):
    # PostgreSQL 17+ copies an identity column onto each partition; 15 and 16 do not. The identity is the
    # partitioned table's (inserts go through it), so partitions show none on any version.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY, at date NOT NULL) "
                     "PARTITION BY RANGE (at)")
        conn.execute("CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
        conn.execute("CREATE TABLE events_2026 (LIKE events)")
        conn.execute("ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
        schema = read_schema(conn)
    assert schema.table("public.events").columns[0].identity == "by default"
    assert schema.table("public.events_2025").columns[0].identity is None
    assert schema.table("public.events_2026").columns[0].identity is None


def test_markdown_cells_keep_backslashes_and_odd_names_stay_readable(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(r"CREATE DOMAIN email AS text CHECK (VALUE ~ '^\S+@\S+$')")
        conn.execute('CREATE TABLE "odd`name | x" (id int PRIMARY KEY, "a""b" text DEFAULT \'C:\\dir\')')
        conn.execute('CREATE TABLE "q""t" (id int REFERENCES "odd`name | x")')
        conn.execute("COMMENT ON TABLE \"q\"\"t\" IS 'a \\* b'")
        text = render_database_md(read_schema(conn))
    # Backslash escapes do not work inside code spans: a doubled backslash would show as two.
    assert r"| `email_check: CHECK (VALUE ~ '^\S+@\S+$'::text)` |" in text
    assert r"| `'C:\dir'::text` |" in text
    # A name with a backtick keeps its heading in one code span.
    assert "### Table `` public.odd`name \\| x ``" in text or "### Table `` public.odd`name | x ``" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert "    \"public.q't\" {" in mermaid
    assert "    \"public.odd`name | x\" |o--o{ \"public.q't\" : \"id\"" in mermaid


def test_comments_on_indexes_constraints_and_triggers_and_their_states_are_rendered(database_url):
    _run(database_url, EVERY_KIND)
    plain = render_database_md(_schema(database_url))
    assert " — " not in plain and "disabled" not in plain and "Row level security" not in plain
    _run(database_url, """
        COMMENT ON INDEX app.orders_open_idx IS 'open orders
        only';
        COMMENT ON CONSTRAINT total_not_negative ON app.orders IS 'no refunds here';
        COMMENT ON CONSTRAINT orders_pkey ON app.orders IS 'surrogate';
        COMMENT ON TRIGGER orders_touch ON app.orders IS 'stamps rows';
        ALTER TABLE app.orders DISABLE TRIGGER orders_touch;
        ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        REVOKE USAGE ON TYPE app.order_status FROM PUBLIC;
    """)
    schema = _schema(database_url)
    text = render_database_md(schema)
    assert "- **Index** `orders_open_idx`: `CREATE INDEX orders_open_idx ON app.orders USING btree (status) " \
           "WHERE (status <> 'shipped'::app.order_status)` — open orders only" in text
    assert "- **Check** `total_not_negative`: `CHECK (total >= 0::numeric)` — no refunds here" in text
    assert "- **Primary key** `orders_pkey`: (id) — surrogate" in text
    assert "- **Trigger** `orders_touch`: `CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW " \
           "EXECUTE FUNCTION app.touch()` (disabled) — stamps rows" in text
    assert "- **Row level security** enabled, forced for the table owner" in text
    # Privileges are compared by verify but never rendered: role names differ between servers.
    assert schema.enums[0].privileges and "=U/" not in text
