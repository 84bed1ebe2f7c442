"""`pgshift mcp` started by Cursor from an unrelated folder finds the project Cursor names."""

from __future__ import annotations

from pathlib import Path

from server.cli.commands.mcp import workspace_from_environment


def test_workspace_folder_paths_as_a_path_or_a_json_list(tmp_path: Path):
    assert workspace_from_environment({"WORKSPACE_FOLDER_PATHS": str(tmp_path)}) == tmp_path
    assert workspace_from_environment({"WORKSPACE_FOLDER_PATHS": f'["{tmp_path}", "/elsewhere"]'}) == tmp_path
    assert workspace_from_environment({"WORKSPACE_FOLDER_PATHS": "/no/such/folder"}) is None
    assert workspace_from_environment({}) is None


async def test_mcp_started_from_root_serves_the_workspace_cursor_names(project):
    import sys
    from mcp import Client, StdioServerParameters
    (project.migrations_dir / "2025-01-01_1000_create_accounts.sql").write_text(
        "CREATE TABLE accounts (id int);\n-- ROLLBACK:\n-- DROP TABLE accounts;\n")
    params = StdioServerParameters(
        command=str(Path(sys.executable).with_name("pgshift")),
        args=["--database-url", project.database_url, "mcp", "--read-only"], cwd="/",
        env={"WORKSPACE_FOLDER_PATHS": str(project.project_root)})
    async with Client(params) as client:
        result = await client.call_tool("list_migrations", {})
    assert not result.is_error
    versions = [m["version"] for m in result.structured_content["migrations"]]
    assert versions == ["2025-01-01_1000_create_accounts"]
