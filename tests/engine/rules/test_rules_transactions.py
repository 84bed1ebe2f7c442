"""Transaction rules: statements PostgreSQL refuses in a transaction, BEGIN/COMMIT, and the no-transaction directive."""

from __future__ import annotations

import pytest

from tests.engine.rules.lintkit import apply_fix, assert_ok, codes, fired, lint

NT = "-- pgshift: no-transaction\n"


@pytest.mark.parametrize("sql", [
    "CREATE INDEX CONCURRENTLY i ON t (a);",
    "DROP INDEX CONCURRENTLY i;",
    "REINDEX INDEX CONCURRENTLY i;",
    "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
])
def test_concurrently_in_a_transaction_fails(sql):
    [finding] = fired("ban-concurrent-index-creation-in-transaction", sql)
    assert finding.severity.label == "error" and "will fail" in finding.message


@pytest.mark.parametrize("sql", [
    "VACUUM t;", "VACUUM ANALYZE t;", "REINDEX SCHEMA app;", "REINDEX DATABASE app;", "ALTER SYSTEM SET work_mem = '64MB';",
    "CREATE DATABASE x;", "CREATE TABLESPACE fast LOCATION '/ssd';", "DROP TABLESPACE fast;",
])
def test_non_transactional_statement_in_a_transaction_fails(sql):
    assert fired("ban-non-transactional-statement-in-transaction", sql)


def test_alter_type_add_value_is_transactional_from_12():
    sql = "ALTER TYPE mood ADD VALUE 'meh';"
    assert_ok("ban-non-transactional-statement-in-transaction", sql)
    assert fired("ban-non-transactional-statement-in-transaction", sql, target_version=11)


@pytest.mark.parametrize("sql", ["ANALYZE t;", "REINDEX TABLE t;", "CREATE INDEX i ON t (a);"])
def test_transactional_statements_are_fine(sql):
    assert_ok("ban-non-transactional-statement-in-transaction", sql)
    assert_ok("ban-concurrent-index-creation-in-transaction", sql)


def test_fix_adds_the_directive_line_and_relints_clean():
    text = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n-- ROLLBACK:\n-- DROP INDEX CONCURRENTLY i;\n"
    [finding] = fired("ban-concurrent-index-creation-in-transaction", text, with_rollback=False)
    fixed = apply_fix(text, finding.fix)
    assert fixed.startswith(NT + "CREATE INDEX CONCURRENTLY")
    assert codes(fixed, with_rollback=False) == []


def test_mixed_statements_in_a_no_transaction_migration():
    sql = NT + "CREATE INDEX CONCURRENTLY i ON t (a);\nALTER TABLE t ADD COLUMN b int;"
    [finding] = fired("ban-mixed-no-transaction-statements", sql)
    assert finding.span.start.line == 2
    assert_ok("ban-mixed-no-transaction-statements", NT + "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON t (a);")
    assert_ok("ban-mixed-no-transaction-statements",
              NT + "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\nDROP INDEX CONCURRENTLY IF EXISTS j;")


def test_unneeded_directive_and_its_fix():
    text = NT + "ALTER TABLE t ADD COLUMN b int;\n-- ROLLBACK:\n-- ALTER TABLE t DROP COLUMN b;\n"
    [finding] = fired("unneeded-no-transaction", text, with_rollback=False)
    assert (finding.span.start.line, finding.span.start.column) == (0, 0)
    fixed = apply_fix(text, finding.fix)
    assert fixed.startswith("ALTER TABLE t ADD COLUMN b int;")
    assert codes(fixed, with_rollback=False) == []
    assert_ok("unneeded-no-transaction", NT + "VACUUM t;")


@pytest.mark.parametrize("sql,word", [("BEGIN;", "BEGIN"), ("COMMIT;", "COMMIT"), ("START TRANSACTION;", "START"),
                                      ("END;", "COMMIT"), ("ROLLBACK;", "ROLLBACK")])
def test_transaction_control_inside_a_migration(sql, word):
    [finding] = fired("transaction-nesting", "ALTER TABLE t ADD COLUMN b int;\n" + sql)
    assert finding.message.startswith(word) and finding.span.start.line == 1


def test_savepoints_are_fine_inside_the_migration_transaction():
    assert_ok("transaction-nesting", "SAVEPOINT a;\nALTER TABLE t ADD COLUMN b int;\nRELEASE SAVEPOINT a;")


def test_removing_begin_and_commit_relints_clean():
    text = "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n-- ROLLBACK:\n-- ALTER TABLE t DROP COLUMN b;\n"
    for _ in range(2):
        finding = next(f for f in lint(text, with_rollback=False) if f.code == "transaction-nesting")
        text = apply_fix(text, finding.fix)
    assert text == "ALTER TABLE t ADD COLUMN b int;\n-- ROLLBACK:\n-- ALTER TABLE t DROP COLUMN b;\n"
    assert codes(text, with_rollback=False) == []
