"""Every tool result, success or error, follows the outputSchema the tool declares (strict clients check it)."""

from __future__ import annotations

import jsonschema

from tests.conftest import write_migration
from tests.mcp.conftest import failed, ok, serve

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


def conforms(tool, result) -> dict:
    """The structured content, after validating it against the tool's declared schema."""
    assert tool.output_schema is not None, tool.name
    jsonschema.Draft202012Validator.check_schema(tool.output_schema)
    jsonschema.Draft202012Validator(tool.output_schema).validate(result.structured_content)
    return result.structured_content


async def test_every_tools_success_and_error_results_follow_its_schema(project, mode):
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        successes = {
            "list_migrations": {},
            "check_migration": {"path": "migrations/2025-01-01_0900_create_shop.sql"},
            "table_history": {"name": "shop"},
            "new_migration": {"description": "add item", "sql": "CREATE TABLE item (id int)"},
            "verify_migration": {"version": "2025-01-01_0900_create_shop"},
            "migrate": {"dry_run": True},
            "snapshot": {},
            "backup": {},
        }
        errors = {
            "check_migration": {"path": "../pyproject.toml"},
            "table_history": {"name": "a.b.c"},
            "new_migration": {"description": "!!!"},
            "verify_migration": {"version": "2031-01-01_0000_none"},
            "migrate": {"to": "2031-01-01_0000_none"},
            "rollback": {},  # nothing is applied yet
        }
        for name, arguments in successes.items():
            result = await client.call_tool(name, arguments)
            ok(result)
            conforms(tools[name], result)
        seen_codes = {}
        for name, arguments in errors.items():
            result = await client.call_tool(name, arguments)
            failed(result)
            seen_codes[name] = conforms(tools[name], result)["code"]
    assert set(successes) | set(errors) == set(tools)
    assert seen_codes["check_migration"] == "usage" and seen_codes["rollback"] == "rollback-failed"

    # A database that does not answer is an error result too, and still follows the schema.
    async with serve(project, mode, database_url=UNREACHABLE) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        for name in ("list_migrations", "snapshot", "backup"):
            result = await client.call_tool(name, {})
            assert conforms(tools[name], result)["code"] == "database-unavailable"
            assert failed(result)["message"]
