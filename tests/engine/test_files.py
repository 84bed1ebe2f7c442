"""Migration file format: names, the ROLLBACK split, directives, checksums (with property tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import given, strategies as st

from engine.analysis import files
from engine.analysis.scaffold import new_migration, next_timestamp

GOOD = Path("migrations/2025-01-17_1430_add_instagram_url.sql")


def test_valid_name_has_no_findings_and_gives_version_and_description():
    migration = files.parse_migration(GOOD, "SELECT 1;\n")
    assert migration.findings == ()
    assert migration.version == "2025-01-17_1430_add_instagram_url"
    assert migration.description == "add instagram url"


def test_bad_names_are_reported_with_a_rename_fix():
    cases = {
        "add_users.sql": None,                                   # no timestamp: suggestion uses the clock
        "2025-02-30_1200_feb_thirtieth.sql": "impossible date",
        "2025-01-17_1430_Add-Users.sql": "naming convention",
        "20250117143000_add_users.sql": "naming convention",
    }
    for name, words in cases.items():
        [finding] = files.parse_migration(Path("migrations") / name, "SELECT 1;\n").findings
        assert finding.code == "file-name"
        if words:
            assert words in finding.message
    [finding] = files.parse_migration(Path("migrations/20250117143000_add_users.sql"), "").findings
    assert finding.fix.rename_to.name == "2025-01-17_1430_add_users.sql"


def test_rollback_block_is_uncommented_and_mapped_back_to_the_file():
    text = "ALTER TABLE t ADD c int;\n\n-- ROLLBACK:\n--   ALTER TABLE t DROP c;\n-- SELECT 2;\n"
    migration = files.parse_migration(GOOD, text)
    assert migration.forward_sql == "ALTER TABLE t ADD c int;\n"
    assert migration.rollback_sql.strip() == "ALTER TABLE t DROP c;\nSELECT 2;"
    assert migration.has_rollback
    offset = migration.rollback_sql.index("DROP")
    position = migration.rollback_position(offset)
    assert (position.line, position.column) == (3, text.splitlines()[3].index("DROP"))


def test_uncommented_line_after_marker_is_an_error_with_a_fix():
    migration = files.parse_migration(GOOD, "SELECT 1;\n-- ROLLBACK:\nDROP TABLE t;\n")
    [finding] = migration.findings
    assert finding.code == "rollback-not-commented" and finding.span.start.line == 2
    assert finding.fix.edits[0].new_text == "-- "


def test_placeholder_rollback_does_not_count_as_a_rollback():
    assert not files.parse_migration(GOOD, "SELECT 1;\n-- ROLLBACK:\n-- -- TODO: write it\n").has_rollback
    assert not files.parse_migration(GOOD, "SELECT 1;\n").has_rollback


def test_no_transaction_directive_only_in_the_header():
    assert files.parse_migration(GOOD, "-- note\n-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n").no_transaction
    assert not files.parse_migration(GOOD, "SELECT 1;\n-- pgshift: no-transaction\n").no_transaction


def test_non_utf8_file_is_a_finding_with_a_position(tmp_path):
    path = tmp_path / "2025-01-17_1430_latin1.sql"
    path.write_bytes(b"SELECT 1;\nSELECT 'caf\xe9';\n")
    migration = files.read_migration(path)
    finding = next(f for f in migration.findings if f.code == "file-encoding")
    assert (finding.span.start.line, finding.span.start.column) == (1, 11)


def test_new_migration_goes_after_a_future_file(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "2030-01-01_0000_future.sql").write_text("SELECT 1;\n")
    assert next_timestamp(folder, datetime(2025, 1, 1, 12, 0)) == datetime(2030, 1, 1, 0, 1)
    from engine.config import load_settings
    made = new_migration(load_settings(tmp_path, environ={}), "Add Instagram URL!", now=datetime(2025, 1, 1))
    assert made.path.name == "2030-01-01_0001_add_instagram_url.sql"
    parsed = files.parse_migration(made.path, made.text)
    assert parsed.findings == () and parsed.marker_line is not None


sql_lines = st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\ufeff"),
                             max_size=40), max_size=12)


@given(sql_lines)
def test_checksum_ignores_line_endings_bom_and_trailing_space(lines):
    text = "\n".join(lines)
    variants = [text.replace("\n", "\r\n"), "\ufeff" + text, "\n".join(l + "  " for l in lines) + "\n\n"]
    assert {files.checksum(v) for v in variants} == {files.checksum(text)}


@given(sql_lines, sql_lines)
def test_checksum_sees_real_changes(lines, other):
    a, b = "\n".join(lines), "\n".join(other)
    normal = lambda s: "\n".join(l.rstrip() for l in s.split("\n")).rstrip()
    if normal(a) != normal(b):
        assert files.checksum(a) != files.checksum(b)


@given(sql_lines, sql_lines)
def test_parse_splits_any_text_and_never_raises(forward, rollback):
    forward_text = "\n".join(l for l in forward if not files.MARKER_RE.match(l))
    text = forward_text + "\n-- ROLLBACK:\n" + "\n".join("-- " + l for l in rollback)
    migration = files.parse_migration(GOOD, text)
    assert migration.forward_sql == forward_text
    assert migration.text.startswith(migration.forward_sql)
    assert not any(f.code == "rollback-not-commented" for f in migration.findings)
    # every rollback line maps back onto the file line it came from
    file_lines = text.split("\n")
    for index, line in enumerate(migration.rollback_sql.split("\n")):
        mapped = migration.rollback_lines[index]
        assert file_lines[mapped.file_line][mapped.prefix_length:].rstrip("\r") == line


@given(st.text(max_size=60))
def test_slugify_gives_a_valid_description_or_nothing(description):
    slug = files.slugify(description)
    if slug:
        assert files.NAME_RE.match(f"2025-01-01_0000_{slug}.sql")


def test_control_characters_in_a_description_cannot_smuggle_sql_into_the_file(tmp_path):
    from engine.config import load_settings
    from engine.analysis.sql import parse
    (tmp_path / "migrations").mkdir()
    made = new_migration(load_settings(tmp_path, environ={}), "x\rDROP TABLE users;\u2028DELETE FROM t;",
                         sql="SELECT 1;")
    statements = parse(files.parse_migration(made.path, made.text).forward_sql).statements
    assert [s.text for s in statements] == ["SELECT 1"]


def test_a_directive_below_the_first_statement_is_reported_not_ignored_silently():
    migration = files.parse_migration(GOOD, "SELECT 1;\n-- pgshift: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n")
    assert not migration.no_transaction
    [finding] = migration.findings
    assert finding.code == "misplaced-directive" and finding.span.start.line == 1


def test_lone_cr_line_endings_are_line_breaks():
    text = "ALTER TABLE t ADD c int;\r-- ROLLBACK:\r-- ALTER TABLE t DROP c;\r"
    migration = files.parse_migration(GOOD, text)
    assert migration.marker_line == 1 and migration.rollback_sql.strip() == "ALTER TABLE t DROP c;"
    assert migration.checksum == files.parse_migration(GOOD, text.replace("\r", "\n")).checksum
    assert len(migration.text) == len(text)  # offsets unchanged: one character for one
