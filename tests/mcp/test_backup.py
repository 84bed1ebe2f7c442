"""The backup tool: pg_dump of the project's database into backup_dir, and the workflow prompt asking for it."""

from __future__ import annotations

from pathlib import Path

from server.mcp import texts
from tests.conftest import write_migration
from tests.mcp.conftest import apply_pending, ok, serve

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"


async def test_backup_dumps_the_database_into_the_backup_folder(project, mode):
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    apply_pending(project)
    async with serve(project, mode) as client:
        tool = {t.name: t for t in (await client.list_tools()).tools}["backup"]
        made = ok(await client.call_tool("backup", {}))
    dump = project.project_root / made["path"]
    assert Path(made["path"]).parts[0] == "backups" and dump.suffix == ".sql"
    assert made["bytes"] == dump.stat().st_size > 0
    assert "CREATE TABLE public.shop" in dump.read_text()
    assert made["path"] in made["summary"]
    assert tool.annotations.read_only_hint is False and tool.annotations.destructive_hint is False


async def test_the_workflow_prompt_backs_up_a_database_that_is_not_the_development_one(project, mode):
    async with serve(project, mode) as client:  # the tests' database comes from --database-url
        got = await client.get_prompt("schema_change", {"change": "add a column"})
    text = got.messages[0].content.text
    assert text.index("dry_run=false") < text.index("call backup") < text.index("Call snapshot")
    assert "call backup" not in texts.schema_change_prompt("add a column", backup_first=False)
