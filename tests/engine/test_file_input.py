"""Text PostgreSQL cannot receive, folder entries that are no files, and the checksum's idea of white space."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.analysis import files
from engine.config import Settings
from engine.errors import ConfigError
from engine.analysis.lint import check_migration, check_text, error_findings, rule_levels
from engine.database.records import APPLIED, AppliedMigration
from engine.database.status import State, drift_findings, merge

PATH = Path("migrations/2025-01-17_1430_add_note.sql")


def _encoding_errors(findings):
    return [(f.span.start.line + 1, f.span.start.column + 1) for f in findings if f.code == "file-encoding"]


@pytest.mark.parametrize("text, where", [
    ("ALTER TABLE t ADD note text;\n-- a\x00b\nSELECT 2;\n-- ROLLBACK:\n-- ALTER TABLE t DROP note;\n", (2, 5)),
    ("ALTER TABLE t ADD note text;\n-- ROLLBACK:\n-- ALTER TABLE t DROP note;\x00\n", (3, 28)),
    ("SELECT '\x00';\n", (1, 9)),
])
def test_a_nul_byte_anywhere_is_a_file_error_at_its_position(text, where):
    migration = files.parse_migration(PATH, text)
    assert _encoding_errors(check_migration(migration)) == [where]
    assert _encoding_errors(error_findings(migration)) == [where]  # what migrate checks: its fast path too
    assert _encoding_errors(check_text(PATH, text)) == [where]     # what the editor shows


def test_everything_after_a_nul_byte_is_still_checked():
    text = "SELECT 1;\n-- \x00\nSELEC 2;\n-- ROLLBACK:\n"
    codes = [f.code for f in check_text(PATH, text)]
    assert "syntax-error" in codes and "file-encoding" in codes


def test_a_lone_surrogate_in_editor_text_is_a_finding_not_a_crash():
    findings = check_text(PATH, "SELECT '\ud800';\n-- ROLLBACK:\n")
    assert _encoding_errors(findings) == [(1, 9)]


def test_unsendable_text_cannot_be_turned_off_or_ignored():
    with pytest.raises(ConfigError, match="file-encoding is always an error"):
        rule_levels(Settings(project_root=Path("."), migrations_dir=Path("m"), rules={"file-encoding": "off"}))
    text = "-- pgshift-ignore-file file-encoding: trust me\nSELECT 1; -- \x00\n-- ROLLBACK:\n"
    assert _encoding_errors(check_text(PATH, text)) == [(2, 14)]


def test_other_control_characters_reach_the_server_and_are_checked_by_the_parser():
    # PostgreSQL takes them in strings and comments; elsewhere its parser rejects them, and so does check.
    assert not _encoding_errors(check_text(PATH, "SELECT 'a\x01b'; -- \x07\n-- ROLLBACK:\n"))
    [error] = [f for f in check_text(PATH, "SELECT\x011;\n-- ROLLBACK:\n") if f.code == "syntax-error"]
    assert (error.span.start.line, error.span.start.column) == (0, 6)


def test_a_folder_or_a_dangling_link_named_like_a_migration_is_a_finding(tmp_path):
    (tmp_path / "2025-01-01_1200_real.sql").write_text("SELECT 1;\n")
    (tmp_path / "2025-01-02_1200_folder.sql").mkdir()
    (tmp_path / "2025-01-03_1200_gone.sql").symlink_to(tmp_path / "nowhere.sql")
    (tmp_path / "2025-01-04_1200_linked.sql").symlink_to(tmp_path / "2025-01-01_1200_real.sql")
    (tmp_path / "2025-01-05_1200_to_folder.sql").symlink_to(tmp_path / "2025-01-02_1200_folder.sql")
    found = {m.name: m for m in files.discover(tmp_path)}
    assert sorted(found) == ["2025-01-01_1200_real.sql", "2025-01-02_1200_folder.sql", "2025-01-03_1200_gone.sql",
                             "2025-01-04_1200_linked.sql", "2025-01-05_1200_to_folder.sql"]
    assert found["2025-01-04_1200_linked.sql"].forward_sql == "SELECT 1;\n"  # a link to a file is a migration
    assert found["2025-01-04_1200_linked.sql"].findings == ()
    messages = {name: [f.message for f in m.findings if f.code == "file-unreadable"] for name, m in found.items()}
    assert messages["2025-01-02_1200_folder.sql"] == ["'2025-01-02_1200_folder.sql' is a folder, not a migration file"]
    assert messages["2025-01-03_1200_gone.sql"] == [
        f"'2025-01-03_1200_gone.sql' is a symbolic link to {tmp_path / 'nowhere.sql'}, which does not exist"]
    assert "symbolic link" in messages["2025-01-05_1200_to_folder.sql"][0]
    assert all(f.path == tmp_path / name for name, m in found.items() for f in m.findings)
    assert [f.code for f in error_findings(found["2025-01-02_1200_folder.sql"])] == ["file-unreadable"]


# --- the checksum: only what PostgreSQL ignores is white space -------------------------------------------------

def test_trailing_unicode_space_in_sql_is_a_change_postgresql_sees():
    plain = "ALTER TABLE t ADD note text;\n"
    assert files.checksum("ALTER TABLE t ADD note text\u00a0;\n") != files.checksum(plain)
    assert files.checksum("ALTER TABLE t ADD note text;\u00a0\n") != files.checksum(plain)
    assert files.checksum("ALTER TABLE t ADD note text;\u3000\n") != files.checksum(plain)
    # what every PostgreSQL skips stays invisible: spaces, tabs, CR, form feed, blank lines
    assert files.checksum("ALTER TABLE t ADD note text; \t\f\r\n\n\n") == files.checksum(plain)


def _row(checksum: str) -> AppliedMigration:
    return AppliedMigration(version=PATH.stem, checksum=checksum, state=APPLIED, applied_at=None, execution_ms=1,
                            applied_by="me", rollback_sql=None, statements_run=None, error=None)


def _state(text: str, recorded: str) -> State:
    migration = files.parse_migration(PATH, text)
    [status] = merge([migration], [_row(recorded)])
    assert (status.state is State.APPLIED) == (drift_findings(migration, {PATH.stem: _row(recorded)}) == [])
    return status.state


def test_a_file_applied_under_the_old_checksum_rule_is_not_changed():
    ordinary = "-- add a note\nALTER TABLE t ADD note text;   \n"
    assert files.legacy_checksum(ordinary) == files.checksum(ordinary)  # no odd spaces: both rules agree
    assert _state(ordinary, files.legacy_checksum(ordinary)) is State.APPLIED
    # a comment ending in a non-breaking space (pasted from a web page): PostgreSQL never saw it
    pasted = "-- add a note\u00a0\nALTER TABLE t ADD note text; /* see\u00a0\n the docs */\n"
    assert _state(pasted, files.legacy_checksum(pasted)) is State.APPLIED
    assert _state(pasted, files.checksum(pasted)) is State.APPLIED


def test_a_non_breaking_space_added_to_the_sql_of_an_applied_file_is_a_change():
    applied = "ALTER TABLE t\n  ADD note text;\n"
    edited = "ALTER TABLE t\u00a0\n  ADD note text;\n"  # to PostgreSQL: a table named 't\u00a0'
    assert files.legacy_checksum(edited) == files.checksum(applied)  # the old rule could not tell them apart
    assert _state(edited, files.checksum(applied)) is State.CHANGED
    in_string = "INSERT INTO t VALUES ('a\u00a0\nb');\n"
    assert _state(in_string, files.legacy_checksum(in_string)) is State.CHANGED


def test_a_control_byte_or_no_break_space_in_a_syntax_error_is_shown_escaped():
    [error] = [f for f in check_text(PATH, "SELECT\x011;\n-- ROLLBACK:\n") if f.code == "syntax-error"]
    assert 'at or near "\\x01"' in error.message
    [error] = [f for f in check_text(PATH, "SELECT 1;\u00a0\n-- ROLLBACK:\n") if f.code == "syntax-error"]
    assert 'at or near "\\xa0"' in error.message and (error.span.start.line, error.span.start.column) == (0, 9)
