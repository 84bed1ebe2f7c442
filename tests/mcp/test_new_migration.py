"""new_migration refuses SQL that would give the file a second ROLLBACK marker, and names files readably."""

from __future__ import annotations

from tests.mcp.conftest import failed, ok, serve


async def test_sql_with_its_own_rollback_marker_is_a_tool_error_and_writes_nothing(project, mode):
    before = sorted(project.migrations_dir.glob("*.sql"))
    async with serve(project, mode) as client:
        error = failed(await client.call_tool("new_migration", {
            "description": "add shop",
            "sql": "CREATE TABLE shop (id int);\n\n-- ROLLBACK:\n-- DROP TABLE shop;"}))
    assert error["code"] == "usage"
    assert "its own '-- ROLLBACK:' line (line 3 of `sql`)" in error["message"]
    assert "rollback_sql" in error["help"]
    assert sorted(project.migrations_dir.glob("*.sql")) == before


async def test_accented_descriptions_keep_their_letters(project, mode):
    async with serve(project, mode) as client:
        made = ok(await client.call_tool("new_migration", {"description": "café über",
                                                           "sql": "CREATE TABLE cafe (id int)"}))
    assert made["path"].endswith("_cafe_uber.sql")
    assert made["text"].startswith("-- Café über\n")
