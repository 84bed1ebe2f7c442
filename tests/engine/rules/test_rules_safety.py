"""Locking and data-loss rules: each fires on the risky form, stays quiet on the safe form and on new tables."""

from __future__ import annotations

import pytest

from tests.engine.rules.lintkit import PATH, apply_fix, assert_ok, codes, fired, lint, render

FIRES = [
    ("ban-drop-table", "DROP TABLE legacy;"),
    ("ban-drop-column", "ALTER TABLE users DROP COLUMN flag;"),
    ("ban-drop-database", "DROP DATABASE analytics;"),
    ("ban-drop-schema", "DROP SCHEMA reporting CASCADE;"),
    ("ban-truncate", "TRUNCATE sessions;"),
    ("require-where", "UPDATE users SET active = false;"),
    ("require-where", "DELETE FROM users;"),
    ("adding-required-field", "ALTER TABLE orders ADD COLUMN status text NOT NULL;"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN u uuid DEFAULT gen_random_uuid();"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN n bigserial;"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN d int GENERATED ALWAYS AS (a * 2) STORED;"),
    ("changing-column-type", "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;"),
    ("adding-not-nullable-field", "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;"),
    ("adding-foreign-key-constraint",
     "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id);"),
    ("adding-foreign-key-constraint", "ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);"),
    ("constraint-missing-not-valid", "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0);"),
    ("constraint-missing-not-valid", "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
                                     "ALTER TABLE orders VALIDATE CONSTRAINT positive;"),
    ("disallowed-unique-constraint", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);"),
    ("disallowed-unique-constraint", "ALTER TABLE users ADD COLUMN handle text UNIQUE;"),
    ("adding-serial-primary-key-field", "ALTER TABLE events ADD PRIMARY KEY (id);"),
    ("adding-serial-primary-key-field", "ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;"),
    ("require-concurrent-index-creation", "CREATE INDEX orders_idx ON orders (customer_id);"),
    ("require-concurrent-index-deletion", "DROP INDEX orders_idx;"),
    ("renaming-table", "ALTER TABLE customers RENAME TO clients;"),
    ("renaming-column", "ALTER TABLE users RENAME COLUMN mail TO email;"),
    ("ban-vacuum-full", "-- pgshift: no-transaction\nVACUUM FULL orders;"),
    ("ban-cluster", "CLUSTER orders USING orders_idx;"),
    ("identifier-too-long", "ALTER TABLE orders ADD COLUMN " + "x" * 64 + " int;"),
    ("identifier-too-long", 'CREATE TABLE "' + "é" * 32 + '" (id int);'),
    ("ban-copy-from-stdin", "COPY countries (code) FROM stdin;\nNO\n\\.\n"),
]

QUIET = [
    ("ban-drop-table", "CREATE TABLE scratch (id int);\nDROP TABLE scratch;"),
    ("ban-drop-column", "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;"),
    ("ban-truncate", "CREATE TABLE t (a int);\nTRUNCATE t;"),
    ("require-where", "UPDATE users SET active = false WHERE id = 1;"),
    ("require-where", "CREATE TABLE t (a int);\nDELETE FROM t;"),
    ("adding-required-field", "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';"),
    ("adding-required-field", "ALTER TABLE orders ADD COLUMN status text;"),
    ("adding-required-field", "ALTER TABLE orders ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL;"),
    ("adding-required-field", "CREATE TABLE orders (id int);\nALTER TABLE orders ADD COLUMN s text NOT NULL;"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN n int DEFAULT 0;"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN at timestamptz DEFAULT now();"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN at timestamptz DEFAULT CURRENT_TIMESTAMP;"),
    ("adding-field-with-default", "ALTER TABLE orders ADD COLUMN n int DEFAULT 5::int;"),
    ("changing-column-type", "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;"),
    ("adding-not-nullable-field", "ALTER TABLE orders VALIDATE CONSTRAINT status_nn;\n"
                                  "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;"),
    ("adding-foreign-key-constraint",
     "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;"),
    ("adding-foreign-key-constraint",
     "CREATE TABLE orders (id int, c int);\nALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id);"),
    ("constraint-missing-not-valid", "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;"),
    ("constraint-missing-not-valid", "ALTER TABLE orders VALIDATE CONSTRAINT positive;"),
    ("disallowed-unique-constraint", "ALTER TABLE users ADD CONSTRAINT k UNIQUE USING INDEX users_email_idx;"),
    ("adding-serial-primary-key-field", "ALTER TABLE events ADD CONSTRAINT pk PRIMARY KEY USING INDEX events_idx;"),
    ("require-concurrent-index-creation", "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY i ON orders (c);"),
    ("require-concurrent-index-creation", "CREATE TABLE orders (c int);\nCREATE INDEX i ON orders (c);"),
    ("require-concurrent-index-deletion", "-- pgshift: no-transaction\nDROP INDEX CONCURRENTLY orders_idx;"),
    ("require-concurrent-index-deletion", "CREATE TABLE t (c int);\nCREATE INDEX t_c ON t (c);\nDROP INDEX t_c;"),
    ("renaming-table", "CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;"),
    ("renaming-column", "CREATE TABLE a (x int);\nALTER TABLE a RENAME COLUMN x TO y;"),
    ("ban-vacuum-full", "-- pgshift: no-transaction\nVACUUM orders;"),
    ("identifier-too-long", "ALTER TABLE orders ADD COLUMN " + "x" * 63 + " int;"),
    ("identifier-too-long", "SELECT '" + "x" * 80 + "';"),
    ("ban-copy-from-stdin", "COPY countries (code) FROM '/srv/countries.csv';"),
    ("ban-copy-from-stdin", "COPY countries TO stdout;"),
]


@pytest.mark.parametrize("rule,sql", FIRES)
def test_rule_fires(rule, sql):
    assert fired(rule, sql), f"{rule} did not fire on:\n{sql}\n(found {codes(sql)})"


@pytest.mark.parametrize("rule,sql", QUIET)
def test_rule_stays_quiet(rule, sql):
    assert_ok(rule, sql)


def test_volatile_default_is_fine_from_11_but_any_default_rewrites_before():
    sql = "ALTER TABLE orders ADD COLUMN n int DEFAULT 0;"
    assert_ok("adding-field-with-default", sql, target_version=11)
    assert fired("adding-field-with-default", sql, target_version=10)


def test_set_not_null_after_validation_needs_postgres_12():
    sql = "ALTER TABLE orders VALIDATE CONSTRAINT nn;\nALTER TABLE orders ALTER COLUMN s SET NOT NULL;"
    assert fired("adding-not-nullable-field", sql, target_version=11)


def test_validate_in_a_later_no_transaction_step_is_not_flagged():
    sql = ("-- pgshift: no-transaction\nALTER TABLE orders ADD CONSTRAINT p CHECK (a > 0) NOT VALID;\n"
           "ALTER TABLE orders VALIDATE CONSTRAINT p;")
    assert_ok("constraint-missing-not-valid", sql)


def test_rendered_message_points_at_the_added_column():
    assert render("adding-required-field", "SELECT 1;\nALTER TABLE orders ADD COLUMN status text NOT NULL;") == (
        f"{PATH}:2:31: warning[adding-required-field]: adding NOT NULL column 'status' without a default fails "
        "on 'orders' as soon as it has rows\n"
        "  help: add a DEFAULT (a constant is instant from PostgreSQL 11), or add the column nullable, backfill "
        "it, then SET NOT NULL")


def test_long_non_ascii_identifier_is_measured_in_bytes_and_located_in_characters():
    name = "名前" * 11  # 22 characters, 66 bytes
    [finding] = fired("identifier-too-long", f"SELECT 1; CREATE TABLE {name} (id int);")
    assert (finding.span.start.line, finding.span.start.column) == (0, 23)
    assert (finding.span.end.line, finding.span.end.column) == (0, 23 + 22)
    assert "66 bytes" in finding.message


def test_table_created_in_same_migration_is_never_a_locking_risk():
    sql = ("CREATE TABLE invoices (id bigint, total int);\n"
           "ALTER TABLE invoices ADD COLUMN status text NOT NULL;\n"
           "ALTER TABLE invoices ALTER COLUMN total TYPE bigint;\n"
           "ALTER TABLE invoices ADD CONSTRAINT positive CHECK (total > 0);\n"
           "ALTER TABLE invoices ADD PRIMARY KEY (id);\n"
           "CREATE INDEX invoices_total ON invoices (total);\n")
    assert codes(sql) == []


def test_schema_qualified_new_table_matches_unqualified_use():
    assert_ok("require-concurrent-index-creation", "CREATE TABLE app.t (a int);\nCREATE INDEX i ON app.t (a);")
    assert fired("require-concurrent-index-creation", "CREATE TABLE app.t (a int);\nCREATE INDEX i ON other.t (a);")


@pytest.mark.parametrize("sql", [
    "CREATE INDEX orders_idx ON orders (customer_id);",
    "create unique index orders_idx on orders (customer_id);",
    "DROP INDEX orders_idx;",
    "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0);",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id);",
])
def test_fix_relints_clean(sql):
    text = sql + "\n-- ROLLBACK:\n-- SELECT 1;\n"
    [finding] = [f for f in lint(text, with_rollback=False) if f.fix]
    fixed = apply_fix(text, finding.fix)
    assert [f.code for f in lint(fixed, with_rollback=False)] == []


def test_concurrent_index_fix_adds_the_directive_and_the_keyword():
    text = "CREATE INDEX orders_idx ON orders (c);\n-- ROLLBACK:\n-- DROP INDEX orders_idx;\n"
    [finding] = fired("require-concurrent-index-creation", text, with_rollback=False)
    assert apply_fix(text, finding.fix).startswith(
        "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY orders_idx ON orders (c);\n")


def test_require_timeout_settings_is_quiet_while_the_runner_sets_lock_timeout():
    sql = "ALTER TABLE orders ADD COLUMN note text;"
    assert_ok("require-timeout-settings", sql)  # default settings: lock_timeout 5s per migration
    assert_ok("require-timeout-settings", sql, lock_timeout="5s")
    assert fired("require-timeout-settings", sql, lock_timeout="0")
    assert_ok("require-timeout-settings", "SET lock_timeout = '2s';\n" + sql, lock_timeout="0")
    assert fired("require-timeout-settings", "SET lock_timeout = 0;\n" + sql, lock_timeout="0")
    assert_ok("require-timeout-settings", "CREATE TABLE orders (a int);\n" + sql, lock_timeout="0")
