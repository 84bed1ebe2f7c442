"""Big files: offsets stay exact, and the work per statement does not grow with the file (issue 10, 22)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from engine.analysis import sql
from engine.analysis.files import parse_migration
from engine.analysis.lint import check_migration
from tests.engine.rules.lintkit import PATH


def _table(text: str) -> list[int]:
    table = []
    for index, char in enumerate(text):
        table.extend([index] * len(char.encode("utf-8")))
    return table + [len(text)]


@given(st.text(alphabet="aé€😀\n;", max_size=6000), st.lists(st.integers(-3, 30000), max_size=40), st.booleans())
def test_byte_offsets_become_the_right_characters_in_any_order(text, offsets, ascending):
    text = "é" + text  # ASCII text needs no map: a byte offset is the character offset
    table = _table(text)
    offsets = sorted(offsets) if ascending else offsets
    mapped = sql._OffsetMap(text)
    assert [mapped.char(b) for b in offsets] == [table[min(max(b, 0), len(table) - 1)] for b in offsets]


def test_a_statement_of_a_million_characters_places_its_findings_exactly():
    rows = ",\n".join(f"({i}, 'Zeile {i} mit Ümlaut')" for i in range(40_000))
    long_name = "a_column_name_that_is_much_longer_than_sixty_three_bytes_allows_x"
    text = (f"INSERT INTO t (id, note) VALUES\n{rows};\nALTER TABLE t ADD COLUMN {long_name} int;\n"
            f"-- ROLLBACK:\n-- ALTER TABLE t DROP COLUMN {long_name};\n")
    findings = {f.code: f for f in check_migration(parse_migration(PATH, text))}
    where = findings["identifier-too-long"].span.start
    assert (where.line, where.column) == (40_001, len("ALTER TABLE t ADD COLUMN "))


def test_statements_of_a_big_file_are_found_without_their_parse_trees():
    text = "".join(f"INSERT INTO t VALUES ({i}, 'ü');\n" for i in range(2000)) + "DROP TABLE t;\n"
    script = sql.analyse(text)
    assert len(script.statements) == 2001
    assert [s.kind for s in script.statements[-2:]] == ["InsertStmt", "DropStmt"]
    assert all(s._node is None for s in script.statements)  # decoded on demand only
    assert script.statements[-1].node["removeType"] == "OBJECT_TABLE"
    findings = check_migration(parse_migration(PATH, text + "-- ROLLBACK:\n-- CREATE TABLE t ();\n"))
    assert [f.code for f in findings] == ["ban-drop-table"]
    assert sum(s._node is not None for s in sql.analyse(text).statements) <= 1
