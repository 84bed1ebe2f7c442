"""Resources (schema, migration files, conventions), the workflow prompt, and `--read-only`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError

from tests.conftest import write_migration
from tests.mcp.conftest import apply_pending, ok, serve

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"


async def read(client, uri: str) -> str:
    result = await client.read_resource(uri)
    return result.contents[0].text


async def test_read_only_serves_only_tools_that_change_nothing(project, mode, database_url):
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode, args=("--read-only",)) as client:
        tools = (await client.list_tools()).tools
        listed = ok(await client.call_tool("list_migrations", {}))
        refused = [await client.call_tool(name, {}) for name in ("migrate", "rollback", "snapshot")]
        prompts = (await client.list_prompts()).prompts
        conventions = await read(client, "pgshift://conventions")
    assert {tool.name for tool in tools} == {"list_migrations", "check_migration", "table_history"}
    assert all(tool.annotations.read_only_hint for tool in tools)
    assert listed["migrations"][0]["state"] == "pending"
    assert all(result.is_error for result in refused)
    assert prompts == []
    assert "ROLLBACK" in conventions
    assert not (project.project_root / "DATABASE.md").exists()


async def test_schema_resource_is_generated_then_read_from_database_md(project, mode):
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        listed = {r.uri: r for r in (await client.list_resources()).resources}
        assert listed["pgshift://schema"].mime_type == "text/markdown"
        empty = await read(client, "pgshift://schema")
        apply_pending(project)
        generated = await read(client, "pgshift://schema")
        written = ok(await client.call_tool("snapshot", {}))
        (project.project_root / "DATABASE.md").write_text(written["text"] + "\n<!-- reviewed -->\n")
        from_file = await read(client, "pgshift://schema")
    assert "shop" not in empty and "shop" in generated
    assert not generated.endswith("<!-- reviewed -->\n") and from_file.endswith("<!-- reviewed -->\n")


async def test_each_migration_file_is_a_resource(project, mode):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    (project.project_root / "secret.sql").write_text("SELECT 'classified-content';\n")
    async with serve(project, mode) as client:
        templates = (await client.list_resource_templates()).resource_templates
        text = await read(client, f"migration://{shop.stem}")
        for uri in ("migration://2099-01-01_0000_nothing", "migration://..%2Fsecret", "migration://../secret"):
            with pytest.raises(MCPError) as error:
                await read(client, uri)
            assert "classified-content" not in str(error.value)
    assert [t.uri_template for t in templates] == ["migration://{version}", "rule://{rule}"]
    assert text == SHOP


async def test_a_finding_s_rule_is_a_resource_with_the_safe_way_to_write_it(project, mode):
    write_migration(project, "2025-01-01_0900_index.sql",
                    "CREATE INDEX shop_idx ON shop (id);\n\n-- ROLLBACK:\n-- DROP INDEX shop_idx;\n")
    async with serve(project, mode) as client:
        checked = ok(await client.call_tool("check_migration", {"path": "2025-01-01_0900_index.sql"}))
        [code] = {f["code"] for f in checked["findings"]}
        text = await read(client, f"rule://{code}")
        with pytest.raises(MCPError) as error:
            await read(client, "rule://require-concurent-index-creation")
    assert text.startswith("### require-concurrent-index-creation") and "CONCURRENTLY" in text
    assert "did you mean 'require-concurrent-index-creation'" in str(error.value)


async def test_conventions_come_from_the_project_when_it_has_them(project, mode):
    (project.migrations_dir / "README.md").write_text("# Our rules\nAlways add a comment.\n")
    async with serve(project, mode) as client:
        text = await read(client, "pgshift://conventions")
    assert text == "# Our rules\nAlways add a comment.\n"


async def test_schema_change_prompt_walks_through_the_workflow(project, mode):
    async with serve(project, mode) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        got = await client.get_prompt("schema_change", {"change": "add instagram url to business"})
    assert [a.name for a in prompts["schema_change"].arguments] == ["change"]
    text = got.messages[0].content.text
    assert "add instagram url to business" in text
    steps = ["new_migration", "check_migration", "verify_migration", "dry_run=true", "dry_run=false", "snapshot"]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)


def test_server_package_never_imports_the_database_or_parser_libraries():
    root = Path(__file__).resolve().parents[2]
    for path in [*(root / "server" / "mcp").glob("*.py"), root / "server" / "cli" / "commands" / "mcp.py"]:
        tree = ast.parse(path.read_text())
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert not names & {"psycopg", "pglast"}, path


async def test_every_code_pgshift_reports_is_a_rule_resource(project, mode):
    """The Cursor rules tell the assistant to read rule://CODE for a finding: no code may lead nowhere."""
    from tests.codes import emitted_codes
    found = sorted(emitted_codes().found)
    async with serve(project, mode) as client:
        texts = {code: await read(client, f"rule://{code}") for code in found}
    assert {"file-name", "rollback-not-commented", "migration-failed", "internal-error"} <= set(texts)
    assert [code for code, text in texts.items() if not text.startswith(f"### {code}\n")] == []
