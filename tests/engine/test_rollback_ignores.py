"""Ignore comments in the ROLLBACK block: written as above the marker, or as a comment of the rollback SQL."""

from __future__ import annotations

import pytest

from engine.analysis.files import parse_migration
from engine.analysis.lint import check_text
from tests.engine.rules.lintkit import PATH

FORWARD = "CREATE TABLE t (id int);\n-- ROLLBACK:\n"


def _codes(text: str) -> list[str]:
    return [f.code for f in check_text(PATH, text)]


@pytest.mark.parametrize("ignore", ["-- pgshift-ignore psql-meta-command: run by hand",
                                    "-- -- pgshift-ignore psql-meta-command: run by hand"])
def test_an_ignore_comment_above_a_rollback_statement_silences_it(ignore):
    assert _codes(FORWARD + "-- \\i undo.sql\n-- DROP TABLE t;\n") == ["psql-meta-command"]
    assert _codes(FORWARD + f"{ignore}\n-- \\i undo.sql\n-- DROP TABLE t;\n") == []


def test_the_ignore_comment_stays_a_comment_of_the_rollback_sql():
    migration = parse_migration(PATH, FORWARD + "-- pgshift-ignore syntax-error: x\n-- DROP TABLEE t;\n")
    assert migration.rollback_sql.split("\n")[0] == "-- pgshift-ignore syntax-error: x"
    assert _codes(migration.text) == []


def test_an_ignore_comment_applies_only_to_the_rollback_statement_below_it():
    text = FORWARD + "-- -- pgshift-ignore syntax-error: x\n-- DROP TABLE t;\n-- DROP TABLEE t;\n"
    [finding] = check_text(PATH, text)
    assert (finding.code, finding.span.start.line) == ("syntax-error", 4)


def test_ignore_file_in_the_rollback_block_and_unknown_rules_there():
    assert _codes(FORWARD + "-- -- pgshift-ignore-file syntax-error: x\n-- DROP TABLE t;\n-- DROP TABLEE t;\n") == []
    [finding] = check_text(PATH, FORWARD + "-- -- pgshift-ignore no-such-rule: x\n-- DROP TABLE t;\n")
    assert (finding.code, finding.span.start.line) == ("unknown-rule", 2)
