"""engine.analysis.lint: exact positions (non-ASCII, ROLLBACK block), syntax errors, ignores, settings, paths, fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError, UsageError
from engine.analysis.files import parse_migration
from engine.analysis.lint import check, check_migration, check_paths, check_text
from tests.engine.rules.lintkit import PATH, apply_fix, settings

GOOD_ROLLBACK = "\n-- ROLLBACK:\n-- SELECT 1;\n"


def where(finding) -> tuple[int, int]:
    return finding.span.start.line, finding.span.start.column


def only(code: str, findings):
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, [f.render() for f in findings]
    return matching[0]


def test_syntax_error_is_placed_at_the_offending_token_after_non_ascii_text():
    text = "COMMENT ON TABLE t IS 'Übersicht – naïve';\nSELECT 1 FORM t;" + GOOD_ROLLBACK
    finding = only("syntax-error", check_text(PATH, text))
    assert where(finding) == (1, 14)
    assert finding.render().startswith(f"{PATH}:2:15: error[syntax-error]: PostgreSQL will reject this migration: "
                                       'syntax error at or near "t"')


def test_syntax_error_in_the_rollback_block_maps_back_through_the_comment_prefix():
    text = "CREATE TABLE t (a int);\n-- ROLLBACK:\n--   DROP TABLE t;\n-- DROP TABEL ü;\n"
    finding = only("syntax-error", check_text(PATH, text))
    # "-- " prefix is three characters: "TABEL" starts at column 3 + 5.
    assert where(finding) == (3, 8)
    assert "rollback" in finding.message


def test_rule_finding_positions_count_characters_not_bytes():
    text = "-- Ärger mit Ümlauten\nCOMMENT ON TABLE t IS 'ßßß'; DROP TABLE legacy;" + GOOD_ROLLBACK
    finding = only("ban-drop-table", check_text(PATH, text))
    assert where(finding) == (1, 29)
    assert (finding.span.end.line, finding.span.end.column) == (1, 46)


def test_findings_are_sorted_by_position():
    text = "DROP TABLE a;\nTRUNCATE b;\nDROP TABLE c;"
    found = check_text(PATH, text)
    assert [f.span.start for f in found] == sorted(f.span.start for f in found)


def test_every_syntax_error_in_separate_statements_is_reported_once():
    found = check_text(PATH, "SELEC 1;\nSELECT 2;" + GOOD_ROLLBACK)
    assert [(f.code, where(f)) for f in found] == [("syntax-error", (0, 0))]


def test_function_bodies_in_dollar_quotes_and_begin_atomic_parse():
    text = ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;\n"
            "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n" + GOOD_ROLLBACK)
    assert [f.code for f in check_text(PATH, text)] == []


def test_psql_meta_command_is_reported_at_its_line_and_the_rest_is_still_checked():
    text = "\\set ON_ERROR_STOP on\nDROP TABLE legacy;\n  \\i other.sql\n" + GOOD_ROLLBACK
    found = check_text(PATH, text)
    assert [(f.code, where(f)) for f in found] == [("psql-meta-command", (0, 0)), ("ban-drop-table", (1, 0)),
                                                   ("psql-meta-command", (2, 2))]
    assert "'\\i' is a psql command" in found[2].message


def test_copy_from_stdin_data_is_not_parsed_as_sql():
    text = "COPY countries (code, name) FROM stdin;\nNO\tNorway\nSE\tSweden\n\\.\nSELECT 1;" + GOOD_ROLLBACK
    found = check_text(PATH, text)
    assert [(f.code, where(f)) for f in found] == [("ban-copy-from-stdin", (0, 0))]
    assert "INSERT" in found[0].help


@pytest.mark.parametrize("text", ["", "\n\n", "-- nothing here yet\n"])
def test_empty_migration(text):
    assert [f.code for f in check_text(PATH, text)] == ["empty-migration"]


def test_missing_rollback_fix_inserts_the_inferred_block_at_the_end():
    text = "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE INDEX orders_idx ON orders (id);\n"
    finding = only("missing-rollback", check_text(PATH, text))
    fixed = apply_fix(text, finding.fix)
    assert fixed == text + "\n-- ROLLBACK:\n-- DROP INDEX orders_idx;\n-- DROP TABLE orders;\n"
    assert check_text(PATH, fixed) == []


def test_missing_rollback_fix_without_a_final_newline():
    text = "ALTER TABLE orders ADD COLUMN note text"
    fixed = apply_fix(text, only("missing-rollback", check_text(PATH, text)).fix)
    assert fixed == text + "\n\n-- ROLLBACK:\n-- ALTER TABLE orders DROP COLUMN note;\n"
    assert check_text(PATH, fixed) == []


def test_empty_rollback_is_reported_on_the_marker_and_filled_by_its_fix():
    text = "CREATE TABLE orders (id int);\n-- ROLLBACK:\n"
    finding = only("empty-rollback", check_text(PATH, text))
    assert where(finding) == (1, 0)
    fixed = apply_fix(text, finding.fix)
    assert fixed == "CREATE TABLE orders (id int);\n-- ROLLBACK:\n-- DROP TABLE orders;\n"
    assert check_text(PATH, fixed) == []


def test_ignore_comment_directly_above_the_statement():
    text = ("-- pgshift-ignore ban-drop-table, ban-truncate: unused since 2023\n-- another comment\n"
            "DROP TABLE legacy;\nTRUNCATE x;\n-- pgshift-ignore ban-truncate: fine\nTRUNCATE y;\n\nTRUNCATE z;"
            + GOOD_ROLLBACK)
    found = check_text(PATH, text)
    assert [(f.code, where(f)) for f in found] == [("ban-truncate", (3, 0)), ("ban-truncate", (7, 0))]


def test_ignore_does_not_reach_past_a_blank_line_or_code():
    text = "-- pgshift-ignore ban-drop-table: no\n\nDROP TABLE legacy;" + GOOD_ROLLBACK
    assert [f.code for f in check_text(PATH, text)] == ["ban-drop-table"]


def test_ignore_file_and_unknown_rule_ids():
    text = "-- pgshift-ignore-file missing-rollback: data migration, cannot be undone\nDROP TABLE a;\n" \
           "-- pgshift-ignore ban-dorp-table: typo\nDROP TABLE b;"
    found = check_text(PATH, text)
    assert [(f.code, where(f)) for f in found] == [("ban-drop-table", (1, 0)), ("unknown-rule", (2, 0)),
                                                   ("ban-drop-table", (3, 0))]


def test_settings_change_severity_and_turn_rules_off():
    text = "DROP TABLE legacy;\nTRUNCATE x;" + GOOD_ROLLBACK
    found = check_text(PATH, text, settings(rules={"ban-drop-table": "error", "ban-truncate": "off"}))
    assert [(f.code, f.severity.label) for f in found] == [("ban-drop-table", "error")]


def test_format_findings_are_configurable_too():
    found = check_text(Path("migrations/add stuff.sql"), "SELECT 1;" + GOOD_ROLLBACK, settings(rules={"file-name": "off"}))
    assert found == []


@pytest.mark.parametrize("rules", [{"no-such-rule": "error"}, {"ban-drop-table": "loud"}])
def test_bad_rule_settings_are_configuration_errors(rules):
    with pytest.raises(ConfigError):
        check_text(PATH, "SELECT 1;", settings(rules=rules))


def test_format_findings_of_the_file_are_included():
    text = "CREATE TABLE t (a int);\n-- ROLLBACK:\nDROP TABLE t;\n"
    found = check_migration(parse_migration(Path("migrations/bad name.sql"), text))
    assert {f.code for f in found} == {"file-name", "rollback-not-commented"}


def test_check_paths_and_the_check_verb(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "2024-01-01_1200_a.sql").write_text("CREATE TABLE a (id int);\n-- ROLLBACK:\n-- DROP TABLE a;\n")
    (folder / "2024-01-02_1200_b.sql").write_text("DROP TABLE a;\n-- ROLLBACK:\n-- SELECT 1;\n")
    (folder / "2024-01-03_1200_c.sql").write_text("SELEC 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
    project = settings().with_overrides(project_root=tmp_path, migrations_dir=folder)
    result = check(project)
    assert result.files_checked == 3 and result.has_errors
    assert [(f.path.name, f.code) for f in result.findings] == [("2024-01-02_1200_b.sql", "ban-drop-table"),
                                                                ("2024-01-03_1200_c.sql", "syntax-error")]
    single = check_paths([folder / "2024-01-01_1200_a.sql"], project)
    assert single.files_checked == 1 and single.findings == [] and not single.has_errors
    with pytest.raises(UsageError):
        check_paths([tmp_path / "missing.sql"], project)


def test_check_without_a_migrations_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        check(settings().with_overrides(project_root=tmp_path, migrations_dir=tmp_path / "nope"))


def test_crlf_and_bom_files_keep_positions():
    text = "\ufeffSELECT 1;\r\nDROP TABLE legacy;\r\n-- ROLLBACK:\r\n-- SELECT 1;\r\n"
    finding = only("ban-drop-table", check_text(PATH, text))
    assert where(finding) == (1, 0)


def test_an_edit_reuses_the_parse_of_unchanged_statements():
    from engine.analysis import sql as engine_sql
    body = "".join(f"ALTER TABLE t{i} ADD COLUMN c int;\n" for i in range(50))
    check_text(PATH, body + GOOD_ROLLBACK)
    before = len(engine_sql._chunk_cache)
    found = check_text(PATH, body + "DROP TABLE legacy;\n" + GOOD_ROLLBACK)
    assert len(engine_sql._chunk_cache) - before <= 2  # only the new statement (and the rollback) were parsed
    assert "ban-drop-table" in [f.code for f in found]


def test_a_syntax_error_after_a_begin_atomic_body_does_not_make_its_end_a_commit():
    # The lexer splits the BEGIN ATOMIC body at its `;`: alone, its `END;` parses as COMMIT.
    text = ("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
            "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid();\nSELECT (;\n" + GOOD_ROLLBACK)
    found = check_text(PATH, text)
    assert sorted(f.code for f in found) == ["adding-field-with-default", "syntax-error"], \
        [f.render() for f in found]
    assert where(only("syntax-error", found)) == (2, 8)
    assert where(only("adding-field-with-default", found)) == (1, 25)


def test_an_empty_rollback_is_right_when_nothing_can_be_undone():
    text = "SET lock_timeout = '2s';\nALTER TABLE audit_log VALIDATE CONSTRAINT audit_log_user_fk;\n\n-- ROLLBACK:\n-- -- nothing to undo\n"
    assert [f.code for f in check_text(PATH, text)] == []
    # A SELECT may call a function that changes something: it still needs a rollback.
    assert "empty-rollback" in [f.code for f in check_text(PATH, "SELECT setval('s', 10);\n-- ROLLBACK:\n")]
