"""Every tool end to end over stdio against real PostgreSQL, in both protocol generations."""

from __future__ import annotations


import psycopg

from tests.conftest import write_migration
from tests.mcp.conftest import apply_pending, failed, ok, saying_yes, serve, text_of

ALL_TOOLS = {"list_migrations", "check_migration", "table_history", "new_migration", "migrate", "verify_migration",
             "snapshot", "rollback", "backup"}


def table_exists(database_url: str, name: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


async def test_tools_teach_the_conventions_and_declare_honest_hints(project, mode):
    async with serve(project, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        instructions = client.instructions or ""
    assert set(tools) == ALL_TOOLS
    for tool in tools.values():
        assert tool.title and tool.description and tool.output_schema, tool.name
        assert tool.annotations.open_world_hint is False
    for name in ("list_migrations", "check_migration", "table_history"):
        assert tools[name].annotations.read_only_hint is True
    for name in ("new_migration", "migrate", "verify_migration", "snapshot", "rollback", "backup"):
        assert tools[name].annotations.read_only_hint is False, name
    assert tools["migrate"].annotations.destructive_hint is True
    assert tools["rollback"].annotations.destructive_hint is True
    assert tools["rollback"].annotations.idempotent_hint is False
    assert tools["new_migration"].annotations.destructive_hint is False
    assert "YYYY-MM-DD_HHMM_" in tools["new_migration"].description
    assert "-- ROLLBACK:" in tools["new_migration"].description
    assert "ONE change per migration" in tools["new_migration"].description
    assert "dry_run=true first" in tools["migrate"].description
    assert "confirmation" in tools["rollback"].description
    assert "one change per migration" in instructions


async def test_a_schema_change_from_new_file_to_applied(project, mode, database_url):
    asked: list = []  # the test's database is not the embedded development one: migrate asks the person
    async with serve(project, mode, elicitation=saying_yes(asked)) as client:
        made = ok(await client.call_tool("new_migration", {
            "description": "create business table",
            "sql": "CREATE TABLE business (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)"}))
        path = made["path"]
        assert path.startswith("migrations/") and path.endswith("_create_business_table.sql")
        assert (project.project_root / path).read_text() == made["text"]
        assert "-- ROLLBACK:\n-- DROP TABLE business;" in made["text"]
        assert made["rollback_inferred"] is True

        checked = ok(await client.call_tool("check_migration", {"path": path}))
        assert checked["ok"] is True and checked["path"] == path

        progress: list[str] = []

        async def on_progress(done, total, message):
            progress.append(message)

        dry = ok(await client.call_tool("migrate", {"dry_run": True}, progress_callback=on_progress))
        assert dry["dry_run"] is True and [a["version"] for a in dry["applied"]] == [made["version"]]
        assert "nothing was changed" in dry["summary"]
        assert not table_exists(database_url, "business")
        assert any(made["version"] in m for m in progress)

        pending = ok(await client.call_tool("list_migrations", {}))
        assert [(m["version"], m["state"]) for m in pending["migrations"]] == [(made["version"], "pending")]

        progress.clear()
        applied = ok(await client.call_tool("migrate", {}, progress_callback=on_progress))
        assert [a["version"] for a in applied["applied"]] == [made["version"]]
        assert any(m.startswith(f"applying {made['version']}") for m in progress)
        assert table_exists(database_url, "business")

        listed = ok(await client.call_tool("list_migrations", {}))
        assert listed["migrations"][0]["state"] == "applied"
        assert listed["migrations"][0]["rollback_available"] is True
        assert listed["counts"] == {"applied": 1}

        again = ok(await client.call_tool("migrate", {}))
        assert again["applied"] == [] and "up to date" in again["summary"]
    assert len(asked) == 1 and "CREATE TABLE business" in asked[0].message  # the dry run did not ask


async def test_new_migration_cannot_write_outside_the_folder_or_smuggle_sql(project, mode):
    before = set(project.project_root.rglob("*"))
    async with serve(project, mode) as client:
        made = ok(await client.call_tool("new_migration", {
            "description": "../../../tmp/evil\rDROP TABLE users; --\n/etc/passwd",
            "sql": "ALTER TABLE users ADD COLUMN note text"}))
    created = set(project.project_root.rglob("*")) - before
    assert created == {project.migrations_dir / made["path"].removeprefix("migrations/")}
    first_line, rest = made["text"].split("\n", 1)
    assert first_line.startswith("-- ") and "\r" not in made["text"]
    # The description is a comment and nothing more: the only statement is the forward SQL.
    assert rest.startswith("ALTER TABLE users ADD COLUMN note text;")
    assert "/" not in made["path"].removeprefix("migrations/")


async def test_new_migration_without_inferable_rollback_says_so(project, mode):
    async with serve(project, mode) as client:
        made = ok(await client.call_tool("new_migration", {"description": "backfill names",
                                                           "sql": "UPDATE business SET name = 'x'"}))
    assert made["rollback_inferred"] is False
    assert "TODO" in made["text"] and "ROLLBACK block is a TODO" in made["summary"]


async def test_check_migration_sql_is_parsed_never_run(project, mode, database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE important (id int)")
    async with serve(project, mode) as client:
        checked = ok(await client.call_tool("check_migration", {"sql": "DROP TABLE important;"}))
        broken = ok(await client.call_tool("check_migration", {"sql": "SELECT 1;\n\nCREAT TABLE x (id int);"}))
    assert table_exists(database_url, "important")
    assert checked["path"] is None and all(f["path"] is None for f in checked["findings"])
    assert broken["ok"] is False and broken["errors"] >= 1
    syntax = next(f for f in broken["findings"] if f["severity"] == "error")
    assert syntax["line"] == 3


async def test_check_migration_only_reads_the_migrations_folder(project, mode, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.sql"
    outside.write_text("SELECT 'classified-content';\n")
    (project.migrations_dir / "2025-01-01_0000_link.sql").symlink_to(outside)
    (project.project_root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    async with serve(project, mode) as client:
        for path in ("../pyproject.toml", "pyproject.toml", str(outside), "/etc/passwd",
                     "migrations/../pyproject.toml", "2025-01-01_0000_link.sql"):
            result = await client.call_tool("check_migration", {"path": path})
            assert failed(result)["code"] == "usage", path
            assert "classified-content" not in text_of(result)
        both = failed(await client.call_tool("check_migration", {"path": "x.sql", "sql": "SELECT 1"}))
        assert both["code"] == "usage"


async def test_a_failing_migration_is_a_tool_error_at_file_line_with_postgres_message(project, mode, database_url):
    good = write_migration(project, "2025-01-01_0900_create_a.sql", "CREATE TABLE a (id int);\n")
    bad = write_migration(project, "2025-01-01_1000_broken.sql",
                          "-- broken on purpose\nCREATE TABLE b (id int);\nINSERT INTO nope VALUES (1);\n")
    async with serve(project, mode, elicitation=saying_yes()) as client:
        result = await client.call_tool("migrate", {})
        error = failed(result)
        listed = ok(await client.call_tool("list_migrations", {}))
    text = text_of(result)
    assert f"migrations/{bad.name}:3:" in text
    assert 'relation "nope" does not exist' in text
    assert error["code"] == "migration-failed"
    finding = error["findings"][0]
    assert finding["path"] == f"migrations/{bad.name}" and finding["line"] == 3
    assert "42P01" in finding["message"]
    states = {m["version"]: m["state"] for m in listed["migrations"]}
    assert states == {good.stem: "applied", bad.stem: "pending"}
    assert not table_exists(database_url, "b")


async def test_error_level_findings_stop_migrate_before_anything_runs(project, mode, database_url):
    write_migration(project, "2025-01-01_0900_create_a.sql", "CREATE TABLE a (id int);\n")
    write_migration(project, "2025-01-01_1000_uncommented.sql",
                    "CREATE TABLE b (id int);\n\n-- ROLLBACK:\nDROP TABLE b;\n")
    async with serve(project, mode) as client:
        result = await client.call_tool("migrate", {"dry_run": True})
    error = failed(result)
    assert error["code"] in ("migration-file", "check-failed")
    assert any(f["code"] == "rollback-not-commented" and f["line"] == 4 for f in error["findings"])
    assert "2025-01-01_1000_uncommented.sql:4:1" in text_of(result)
    assert not table_exists(database_url, "a")


async def test_passwords_never_reach_the_assistant(project, mode):
    secret = "s3cret-Pa55word"
    url = f"postgresql://pgshift:{secret}@127.0.0.1:1/nowhere"
    async with serve(project, mode, database_url=url) as client:
        results = [await client.call_tool("list_migrations", {}),
                   await client.call_tool("migrate", {"dry_run": True})]
    for result in results:
        error = failed(result)
        assert error["code"] == "database-unavailable"
        assert secret not in text_of(result) and secret not in str(error)
        assert "127.0.0.1" in text_of(result)


async def test_snapshot_writes_database_md_and_returns_it(project, mode, database_url):
    write_migration(project, "2025-01-01_0900_create_shop.sql",
                    "CREATE TABLE shop (id int PRIMARY KEY, name text);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n")
    apply_pending(project)
    async with serve(project, mode) as client:
        made = ok(await client.call_tool("snapshot", {}))
        again = ok(await client.call_tool("snapshot", {}))
    assert made["path"] == "DATABASE.md" and made["changed"] is True
    assert (project.project_root / "DATABASE.md").read_text() == made["text"]
    assert "shop" in made["text"]
    assert again["changed"] is False


async def test_verify_migration_proves_the_rollback_in_a_scratch_database(project, mode, database_url):
    good = write_migration(project, "2025-01-01_0900_create_shop.sql",
                           "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n")
    leaky = write_migration(project, "2025-01-01_1000_add_two.sql",
                            "ALTER TABLE shop ADD COLUMN a int;\nALTER TABLE shop ADD COLUMN b int;\n\n"
                            "-- ROLLBACK:\n-- ALTER TABLE shop DROP COLUMN a;\n")
    async with serve(project, mode) as client:
        proven = ok(await client.call_tool("verify_migration", {"version": good.stem}))
        caught = ok(await client.call_tool("verify_migration", {"version": leaky.stem}))
    assert proven["ok"] is True and proven["migrations"][0]["status"] == "ok"
    assert caught["ok"] is False and caught["migrations"][0]["status"] == "failed"
    assert "FAILED" in caught["summary"]
    assert not table_exists(database_url, "shop")  # the project's database was never touched


async def test_engine_errors_keep_the_server_running(project, mode):
    async with serve(project, mode) as client:
        error = failed(await client.call_tool("migrate", {"to": "2099-01-01_0000_nothing"}))
        assert error["code"] == "usage"
        assert ok(await client.call_tool("list_migrations", {}))["migrations"] == []


async def test_text_the_os_or_postgres_would_choke_on_is_a_usage_error_and_writes_nothing(project, mode):
    before = set(project.migrations_dir.iterdir())
    async with serve(project, mode) as client:
        nul_path = failed(await client.call_tool("check_migration", {"path": "migrations/a\x00b.sql"}))
        nul_sql = failed(await client.call_tool("new_migration", {"description": "add note",
                                                                  "sql": "SELECT 1;\x00DROP TABLE x;"}))
        nul_rollback = failed(await client.call_tool("new_migration", {
            "description": "add note", "sql": "CREATE TABLE note (id int);", "rollback_sql": "DROP\x00 TABLE note;"}))
        huge = failed(await client.call_tool("check_migration", {"sql": "SELECT 1;\n" * 200_000}))
        assert ok(await client.call_tool("list_migrations", {}))["migrations"] == []  # still serving
    assert nul_path["code"] == "usage"  # not an internal error with a traceback in the log
    assert nul_sql["code"] == "usage" and "NUL" in nul_sql["message"]
    assert nul_rollback["code"] == "usage" and "rollback_sql" in nul_rollback["message"]
    assert huge["code"] == "usage" and "limit" in huge["message"]
    assert set(project.migrations_dir.iterdir()) == before


async def test_table_history_lists_the_migrations_that_made_a_table_what_it_is(project, mode):
    write_migration(project, "2025-01-01_0900_create_shop.sql",
                    "CREATE TABLE shop (id int PRIMARY KEY);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n")
    write_migration(project, "2025-01-02_0900_add_name.sql", "ALTER TABLE public.shop ADD COLUMN name text;\n")
    async with serve(project, mode) as client:
        history = ok(await client.call_tool("table_history", {"name": "Shop"}))
        refused = failed(await client.call_tool("table_history", {"name": "a.b.c"}))
    assert history["relation"] == "public.shop"
    assert [(r["version"], r["role"], r["rollback"], r["line"]) for r in history["references"]] == [
        ("2025-01-01_0900_create_shop", "creates", False, 1), ("2025-01-01_0900_create_shop", "drops", True, 4),
        ("2025-01-02_0900_add_name", "alters", False, 1)]
    assert history["summary"] == "public.shop is named in 2 migration(s)"
    assert refused["code"] == "usage" and "not a table name" in refused["message"]
