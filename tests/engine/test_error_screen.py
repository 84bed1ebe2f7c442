"""`migrate` asks only for error-level findings and gets them by a cheaper route; it must never miss one.

Every rule's documented examples, in the forward SQL and in the ROLLBACK block, plus the awkward cases
(syntax errors, meta-commands, COPY data, SQL-standard function bodies, rules promoted to errors), give the
same errors through `error_findings` as through the full `check_migration`.
"""

from __future__ import annotations

import pytest

from engine.analysis.files import parse_migration
from engine.analysis.findings import Severity
from engine.analysis.lint import check_migration, error_findings
from engine.analysis.rules import all_rules
from engine.analysis.rules.docs import examples
from tests.engine.rules.lintkit import PATH, settings

EXAMPLES = [sql for rule in all_rules().values() for sql in examples(rule) if sql]
AWKWARD = [
    "CREATE TABLE t (id int);\nSELEC 1;\n",
    "CREATE TABLE t (id int);\n\\set ON_ERROR_STOP on\n",
    "COPY t (id) FROM stdin;\n1\n2\n\\.\n",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n",
    "CREATE TABLE t (note text DEFAULT E'a\\\\b');\n",
    "SELECT '\"stmt\":{\"IndexStmt\":';\n",
    "",
    "-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
    "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n",
    "CREATE TABLE t (id int);\n-- a NUL \x00 in a comment\nSELECT 1;\n",
    "SELECT 1;\u00a0\n",
    "SELECT\x011;\n",
]
ROLLBACKS = [None, "DROP TABLE t;", "DROP TABLE t", "DROP TABLEE t;", "\\i other.sql", "VACUUM t;", "DROP TABLE t;\x00"]
CONFIGS = [None, settings(rules={"missing-rollback": "error"}), settings(rules={"syntax-error": "warning"}),
           settings(rules={"require-concurrent-index-creation": "error"}), settings(target_version=11)]


def _migration(forward: str, rollback: str | None):
    text = forward if rollback is None else forward + "\n-- ROLLBACK:\n" + "".join(
        f"-- {line}\n" for line in rollback.splitlines())
    return parse_migration(PATH, text)


def _errors(findings):
    return [(f.code, f.span, f.message) for f in findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "missing-rollback=error", "syntax-error=warning",
                                                 "concurrent=error", "pg11"])
@pytest.mark.parametrize("rollback", ROLLBACKS)
def test_error_findings_match_the_full_check(config, rollback):
    for forward in EXAMPLES + AWKWARD:
        migration = _migration(forward, rollback)
        assert _errors(error_findings(migration, config)) == _errors(check_migration(migration, config)), forward


def test_a_rule_promoted_to_error_is_still_found():
    migration = _migration("CREATE TABLE t (id int);\n", None)
    assert [f.code for f in error_findings(migration, CONFIGS[1])] == ["missing-rollback"]
    assert error_findings(migration, None) == []
