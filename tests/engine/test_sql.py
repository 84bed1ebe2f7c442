"""engine.analysis.sql: statement spans in characters, the chunking lexer, psql-only parts, syntax error offsets."""

from __future__ import annotations

import pytest

from engine.analysis.sql import analyse, parse, split_chunks


def test_parse_keeps_character_spans_with_non_ascii_text():
    sql = "SELECT 'ünïcödé';\n  -- note\n  UPDATE t SET a = 'ß' WHERE b;"
    parsed = parse(sql)
    assert [s.text for s in parsed.statements] == ["SELECT 'ünïcödé'", "UPDATE t SET a = 'ß' WHERE b"]
    assert sql[parsed.statements[1].start:parsed.statements[1].end] == "UPDATE t SET a = 'ß' WHERE b"


def test_parse_reports_syntax_error_offset_in_characters():
    sql = "SELECT 'ää';\nSELEC 1;"
    parsed = parse(sql)
    assert parsed.error is not None and sql[parsed.error.offset:].startswith("SELEC")


def test_analyse_matches_parse_on_valid_sql():
    sql = "CREATE TABLE é (a int);\nINSERT INTO é VALUES (1); -- trailing\n/* c */ SELECT 1"
    assert [(s.start, s.end, s.kind) for s in analyse(sql).statements] == \
           [(s.start, s.end, s.kind) for s in parse(sql).statements]


@pytest.mark.parametrize("sql,count", [
    ("SELECT ';'; SELECT 2;", 2),
    ("SELECT $$ ; $$; SELECT $x$ $$ ; $x$;", 2),
    ("SELECT E'\\' ;'; SELECT 2;", 2),
    ('SELECT 1 AS "a;b"; SELECT 2;', 2),
    ("SELECT 1 /* ; /* nested ; */ ; */; SELECT 2;", 2),
    ("SELECT 1; -- ; comment\nSELECT 2", 2),
    ("SELECT a$b FROM t; SELECT $1;", 2),
])
def test_chunks_split_only_at_top_level_semicolons(sql, count):
    assert len([c for c in split_chunks(sql) if c.kind == "sql"]) == count
    assert len(analyse(sql).statements) == count


def test_begin_atomic_bodies_fall_back_to_a_whole_parse():
    sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;"
    script = analyse(sql)
    assert script.errors == () and [s.kind for s in script.statements] == ["CreateFunctionStmt", "SelectStmt"]


def test_meta_commands_and_copy_data_are_set_aside():
    sql = "\\set x 1\nCOPY t FROM stdin;\n1\t2\n\\.\nSELECT 1;\n  \\echo done"
    script = analyse(sql)
    assert script.errors == ()
    assert [sql[c.start:c.end] for c in script.meta_commands] == ["\\set x 1", "\\echo done"]
    assert [sql[c.start:c.end] for c in script.copy_data] == ["1\t2\n\\."]
    assert [s.kind for s in script.statements] == ["CopyStmt", "SelectStmt"]


def test_backslash_inside_a_string_is_not_a_meta_command():
    sql = "SELECT '\n\\not a command\n';"
    script = analyse(sql)
    assert script.meta_commands == () and script.errors == ()


def test_node_locations_become_character_offsets():
    sql = "SELECT 'ää';\nALTER TABLE t ADD COLUMN c int NOT NULL;"
    statement = analyse(sql).statements[1]
    column = statement.node["cmds"][0]["AlterTableCmd"]["def"]["ColumnDef"]
    assert sql[statement.offset(column["location"]):].startswith("c int")


def test_errors_in_two_chunks_report_the_first_as_postgresql_would():
    sql = "SELECT 'ö' x y;\nSELEC 2;"
    script = analyse(sql)
    assert len(script.errors) == 1 and sql[script.errors[0].offset] == "y"
