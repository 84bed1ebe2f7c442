"""A real migrate through MCP asks the person first when it would touch a non-development database or lose data."""

from __future__ import annotations

from pathlib import Path

from mcp_types import ElicitResult

from server.mcp.migrate_gate import MigratePlan, PendingStep
from tests.conftest import write_migration
from tests.mcp.conftest import apply_pending, failed, ok, saying_yes, serve
from tests.mcp.test_tools import table_exists

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"
DROP = ("-- pgshift-ignore ban-drop-table: the assistant wrote this itself\nDROP TABLE shop;\n\n"
        "-- ROLLBACK:\n-- CREATE TABLE shop (id int PRIMARY KEY);\n")


def configure(project, *lines: str) -> None:
    (project.project_root / "pyproject.toml").write_text("[tool.pgshift]\n" + "\n".join(lines) + "\n")


def answering(action: str, content: dict | None = None):
    async def on_elicit(ctx, params):
        return ElicitResult(action=action, content=content)
    return on_elicit


async def test_a_non_development_database_asks_showing_the_sql_and_runs_only_on_yes(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    for answer in (answering("decline"), answering("accept", {"confirm": False})):
        async with serve(project, mode, elicitation=answer) as client:
            error = failed(await client.call_tool("migrate", {}))
        assert error["code"] == "confirmation-required" and "nothing was changed" in error["message"]
        assert not table_exists(database_url, "shop")
    asked: list = []
    async with serve(project, mode, elicitation=saying_yes(asked)) as client:
        dry = ok(await client.call_tool("migrate", {"dry_run": True}))
        assert asked == [] and dry["status"] == "dry_run"
        done = ok(await client.call_tool("migrate", {}))
    assert done["status"] == "applied" and [a["version"] for a in done["applied"]] == [shop.stem]
    [question] = asked
    assert "not the embedded development database" in question.message
    assert shop.stem in question.message and "CREATE TABLE shop (id int PRIMARY KEY);" in question.message
    assert "DROP TABLE shop" not in question.message  # the ROLLBACK block does not run
    assert question.requested_schema["properties"]["confirm"]["type"] == "boolean"
    assert table_exists(database_url, "shop")


async def test_without_elicitation_migrate_refuses_and_gives_the_terminal_command(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        error = failed(await client.call_tool("migrate", {}))
        again = failed(await client.call_tool("migrate", {"confirmation_token": "the-user-said-yes"}))
        listed = ok(await client.call_tool("list_migrations", {}))
    for refused in (error, again):
        assert refused["code"] == "confirmation-required" and "cannot ask" in refused["message"]
        assert "CREATE TABLE shop" in refused["message"]
        assert f"pgshift -C {project.project_root} migrate --to {shop.stem}" in refused["help"]
    assert listed["counts"] == {"pending": 1}
    assert not table_exists(database_url, "shop")


async def test_data_loss_asks_even_when_an_ignore_comment_or_the_rule_level_silences_it(project, mode, database_url):
    configure(project, 'mcp_confirm_migrate = "data-loss"', "[tool.pgshift.rules]", 'ban-drop-table = "off"')
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    drop = write_migration(project, "2025-01-01_1000_drop_shop.sql", DROP)
    async with serve(project, mode) as client:  # no elicitation: only the data loss is refused
        created = ok(await client.call_tool("migrate", {"to": "2025-01-01_0900_create_shop"}))
        refused = failed(await client.call_tool("migrate", {}))
    assert created["status"] == "applied" and table_exists(database_url, "shop")
    assert "DATA LOSS: line 2:" in refused["message"] and drop.stem in refused["message"]
    asked: list = []
    async with serve(project, mode, elicitation=saying_yes(asked)) as client:
        ok(await client.call_tool("migrate", {}))
    assert len(asked) == 1 and "a migration deletes data" in asked[0].message
    assert not table_exists(database_url, "shop")


async def test_the_project_can_turn_the_question_off(project, mode, database_url):
    configure(project, 'mcp_confirm_migrate = "never"')
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        done = ok(await client.call_tool("migrate", {}))
    assert done["status"] == "applied" and table_exists(database_url, "shop")
    assert "asks the user first" not in tools["migrate"].description


async def test_only_sql_the_user_saw_runs_when_a_file_changes_while_they_are_asked(project, mode, database_url):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    asked: list[str] = []

    async def edit_then_accept(ctx, params):
        asked.append(params.message)
        shop.write_text(SHOP.replace("id int PRIMARY KEY", "id int PRIMARY KEY, secret text"))
        return ElicitResult(action="accept", content={"confirm": True})

    async with serve(project, mode, elicitation=edit_then_accept) as client:
        result = await client.call_tool("migrate", {})
    assert "secret text" not in asked[0]
    if result.is_error:  # asked mid-call (2025-06-18): the answer does not cover the new text
        assert "plan changed while the user was being asked" in failed(result)["message"]
        assert len(asked) == 1 and not table_exists(database_url, "shop")
    else:  # multi-round (newest): the retry renders a new question, so the SDK asks again
        assert mode == "newest" and len(asked) == 2 and "secret text" in asked[1]
        assert table_exists(database_url, "shop")


async def test_with_tokens_enabled_migrate_needs_the_token_of_the_shown_plan(project, mode, database_url):
    configure(project, "mcp_confirmation_tokens = true")
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        first = ok(await client.call_tool("migrate", {}))
        assert first["status"] == "confirmation_required" and first["applied"] == []
        assert first["planned"][0]["sql"].startswith("CREATE TABLE shop") and not table_exists(database_url, "shop")
        done = ok(await client.call_tool("migrate", {"confirmation_token": first["confirmation_token"]}))
    assert done["status"] == "applied" and [a["version"] for a in done["applied"]] == [shop.stem]
    assert "confirmation tokens" in tools["migrate"].description


def test_which_plans_ask():
    plain = PendingStep("2025-01-01_0900_a", Path("a.sql"), "CREATE TABLE a ();", "x", ())
    lossy = PendingStep("2025-01-01_1000_b", Path("b.sql"), "DROP TABLE a;", "y", ("line 1: dropping",))
    dev = MigratePlan("embedded development database", True, (plain,))
    assert not dev.needs_confirmation("risky") and dev.needs_confirmation("always")
    assert MigratePlan("dev", True, (plain, lossy)).needs_confirmation("risky")
    assert MigratePlan("prod", False, (plain,)).needs_confirmation("risky")
    assert not MigratePlan("prod", False, (plain,)).needs_confirmation("data-loss")
    assert not MigratePlan("prod", False, (plain, lossy)).needs_confirmation("never")
    assert not MigratePlan("prod", False, ()).needs_confirmation("always")  # nothing to run, nothing to ask
