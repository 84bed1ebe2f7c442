"""Rollback needs a human's explicit yes: through elicitation where the client has it, else a plan-bound token."""

from __future__ import annotations

from mcp_types import ElicitResult

from tests.conftest import write_migration
from tests.mcp.conftest import apply_pending, failed, ok, serve
from tests.mcp.test_tools import table_exists

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"
ITEM = "CREATE TABLE item (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE item;\n"


def answering(action: str, content: dict | None = None, asked: list | None = None):
    async def on_elicit(ctx, params):
        if asked is not None:
            asked.append(params)
        return ElicitResult(action=action, content=content)
    return on_elicit


def enable_tokens(project) -> None:
    """The explicit project setting that allows the token flow (it proves the plan was shown, nothing more)."""
    (project.project_root / "pyproject.toml").write_text("[tool.pgshift]\nmcp_confirmation_tokens = true\n")


async def applied(client) -> list[str]:
    listed = ok(await client.call_tool("list_migrations", {}))
    return [m["version"] for m in listed["migrations"] if m["state"] == "applied"]


async def test_elicitation_accepted_with_yes_rolls_back_after_showing_the_exact_sql(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    asked: list = []
    async with serve(project, mode, elicitation=answering("accept", {"confirm": True}, asked)) as client:
        apply_pending(project)
        progress: list[str] = []

        async def on_progress(done, total, message):
            progress.append(message)

        result = ok(await client.call_tool("rollback", {}, progress_callback=on_progress))
        assert await applied(client) == []
    assert len(asked) == 1
    assert shop.stem in asked[0].message and "DROP TABLE shop;" in asked[0].message
    assert asked[0].requested_schema["properties"]["confirm"]["type"] == "boolean"
    assert result["status"] == "rolled_back" and result["rolled_back"] == [shop.stem]
    assert result["plan"][0]["sql"] == "DROP TABLE shop;"
    assert any(shop.stem in m for m in progress)
    assert not table_exists(database_url, "shop")


async def test_elicitation_declined_cancelled_or_unticked_changes_nothing(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        apply_pending(project)
    for answer in (answering("decline"), answering("cancel"), answering("accept", {"confirm": False})):
        async with serve(project, mode, elicitation=answer) as client:
            error = failed(await client.call_tool("rollback", {}))
            assert error["code"] == "confirmation-required"
            assert "nothing was changed" in error["message"]
            assert await applied(client) == [shop.stem]
    assert table_exists(database_url, "shop")


async def test_with_tokens_enabled_a_client_without_elicitation_needs_a_plan_bound_token(project, mode,
                                                                                          database_url):
    enable_tokens(project)
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        apply_pending(project)
        first = ok(await client.call_tool("rollback", {}))
        assert first["status"] == "confirmation_required"
        assert first["rolled_back"] == [] and first["plan"][0]["sql"] == "DROP TABLE shop;"
        assert "explicitly say yes" in first["summary"] and first["expires_in_seconds"] == 300
        assert table_exists(database_url, "shop")

        done = ok(await client.call_tool("rollback", {"confirmation_token": first["confirmation_token"]}))
        assert done["status"] == "rolled_back" and done["rolled_back"] == [shop.stem]
        assert not table_exists(database_url, "shop")


async def test_a_token_works_once(project, mode, database_url):
    enable_tokens(project)
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        apply_pending(project)
        token = ok(await client.call_tool("rollback", {}))["confirmation_token"]
        ok(await client.call_tool("rollback", {"confirmation_token": token}))
        apply_pending(project)  # the same plan exists again
        error = failed(await client.call_tool("rollback", {"confirmation_token": token}))
    assert error["code"] == "confirmation-required" and "already used" in error["message"]
    assert table_exists(database_url, "shop")


async def test_an_expired_token_is_refused(project, mode, database_url):
    enable_tokens(project)
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    # Expiry is injectable: a lifetime of 0 s makes every token expired the moment it is issued.
    async with serve(project, mode, env={"PGSHIFT_MCP_CONFIRMATION_TTL": "0"}) as client:
        apply_pending(project)
        token = ok(await client.call_tool("rollback", {}))["confirmation_token"]
        error = failed(await client.call_tool("rollback", {"confirmation_token": token}))
    assert "expired" in error["message"]
    assert table_exists(database_url, "shop")


async def test_a_token_does_not_cover_a_changed_plan(project, mode, database_url):
    enable_tokens(project)
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        apply_pending(project)
        token = ok(await client.call_tool("rollback", {}))["confirmation_token"]
        # Another migration lands: "roll back the newest" now means something else.
        write_migration(project, "2025-01-01_1000_create_item.sql", ITEM)
        apply_pending(project)
        error = failed(await client.call_tool("rollback", {"confirmation_token": token}))
        assert "plan changed" in error["message"]
        # Other arguments are another plan too.
        token = ok(await client.call_tool("rollback", {"steps": 1}))["confirmation_token"]
        error = failed(await client.call_tool("rollback", {"steps": 2, "confirmation_token": token}))
        assert "plan changed" in error["message"]
    assert table_exists(database_url, "shop") and table_exists(database_url, "item")


async def test_a_made_up_token_is_refused(project, mode, database_url):
    enable_tokens(project)
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        apply_pending(project)
        error = failed(await client.call_tool("rollback", {"confirmation_token": "yes-the-user-agreed"}))
    assert error["code"] == "confirmation-required" and "unknown confirmation token" in error["message"]
    assert table_exists(database_url, "shop")


async def test_rollback_errors_are_tool_errors(project, mode):
    write_migration(project, "2025-01-01_0900_create_shop.sql", "CREATE TABLE shop (id int);\n")
    async with serve(project, mode) as client:
        nothing = failed(await client.call_tool("rollback", {}))
        apply_pending(project)
        no_sql = failed(await client.call_tool("rollback", {}))
    assert nothing["code"] == "rollback-failed" and "nothing to roll back" in nothing["message"]
    assert no_sql["code"] == "rollback-failed" and "no rollback SQL" in no_sql["message"]


async def test_rollback_is_not_offered_when_the_project_turns_it_off(project, mode):
    (project.project_root / "pyproject.toml").write_text("[tool.pgshift]\nallow_rollback = false\n")
    async with serve(project, mode) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("rollback", {})
    assert "rollback" not in names and "migrate" in names
    assert result.is_error


async def test_without_elicitation_rollback_refuses_and_gives_the_terminal_command(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    apply_pending(project)
    async with serve(project, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        first = failed(await client.call_tool("rollback", {}))
        # Calling again, with or without a made-up token, is refused just the same: the model cannot say yes.
        again = failed(await client.call_tool("rollback", {"confirmation_token": "yes"}))
        assert await applied(client) == [shop.stem]
    for error in (first, again):
        assert error["code"] == "confirmation-required"
        assert "cannot ask" in error["message"] and "nothing was changed" in error["message"]
        assert "DROP TABLE shop;" in error["message"]
        assert f"pgshift -C {project.project_root} rollback --steps 1" in error["help"]
    assert "confirmation_token" not in str(first)
    assert "elicitation" in tools["rollback"].description
    assert table_exists(database_url, "shop")
