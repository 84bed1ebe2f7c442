"""Migrations are resources one by one, and a connected client hears when the files or DATABASE.md change."""

from __future__ import annotations

import anyio
from mcp_types import ResourceListChangedNotification

from tests.conftest import write_migration
from tests.mcp.conftest import CURSOR_PROTOCOL, serve

SHOP = "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n"
ITEM = "CREATE TABLE item (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE item;\n"
WAIT = 60  # a bound on a hung watcher, not a speed claim: the notification normally comes within a second


async def test_each_migration_is_listed_as_a_resource(project, mode):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, mode) as client:
        listed = {r.uri: r for r in (await client.list_resources()).resources}
        read = await client.read_resource(f"migration://{shop.stem}")
    assert listed[f"migration://{shop.stem}"].name == shop.name
    assert listed[f"migration://{shop.stem}"].mime_type == "application/sql"
    assert read.contents[0].text == SHOP


async def test_a_2025_client_hears_that_the_migration_list_changed(project):
    write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    heard = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, ResourceListChangedNotification):
            heard.set()

    async with serve(project, CURSOR_PROTOCOL, message_handler=on_message) as client:
        assert client.server_capabilities.resources.list_changed is True
        write_migration(project, "2025-01-01_1000_create_item.sql", ITEM)
        with anyio.fail_after(WAIT):
            await heard.wait()
        listed = {r.uri for r in (await client.list_resources()).resources}
    assert "migration://2025-01-01_1000_create_item" in listed


async def test_a_newest_client_hears_list_changes_and_updates_of_a_migration_and_the_schema(project):
    shop = write_migration(project, "2025-01-01_0900_create_shop.sql", SHOP)
    async with serve(project, "newest") as client:
        async with client.listen(resources_list_changed=True,
                                 resource_subscriptions=[f"migration://{shop.stem}", "pgshift://schema"]) as sub:
            events = aiter(sub)
            write_migration(project, "2025-01-01_1000_create_item.sql", ITEM)
            with anyio.fail_after(WAIT):
                added = await anext(events)
            shop.write_text(SHOP + "-- reviewed\n")
            with anyio.fail_after(WAIT):
                edited = await anext(events)
            (project.project_root / "DATABASE.md").write_text("# Database\n")
            with anyio.fail_after(WAIT):
                schema = await anext(events)
    assert type(added).__name__ == "ResourcesListChanged"
    assert getattr(edited, "uri", None) == f"migration://{shop.stem}"
    assert getattr(schema, "uri", None) == "pgshift://schema"
