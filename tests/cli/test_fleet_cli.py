"""`pgshift migrate --target` and `pgshift list --target` on a fleet of real databases found by `discover`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest

from server.cli import main
from tests.conftest import url_for_database

MIGRATIONS = {
    "2025-01-01_1000_create_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY);\n\n"
                                           "-- ROLLBACK:\n-- DROP TABLE accounts;\n",
    "2025-01-02_1000_create_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n\n"
                                         "-- ROLLBACK:\n-- DROP TABLE orders;\n",
    "2025-01-03_1000_add_note.sql": "ALTER TABLE orders ADD COLUMN note text;\n\n"
                                    "-- ROLLBACK:\n-- ALTER TABLE orders DROP COLUMN note;\n",
}
SIZE = 10


@pytest.fixture
def fleet(tmp_path: Path, server_url: str, capsys):
    """Ten tenant databases on the test server, a project whose `discover` target finds them, and a runner."""
    prefix = "ft_" + uuid.uuid4().hex[:6]
    names = [f"{prefix}_{n:02}" for n in range(SIZE)]
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    (tmp_path / "migrations").mkdir()
    for file, sql in MIGRATIONS.items():
        (tmp_path / "migrations" / file).write_text(sql, encoding="utf-8")
    query = f"SELECT datname FROM pg_database WHERE datname LIKE '{prefix}\\\\_%'"
    (tmp_path / "pgshift.toml").write_text(
        f"[targets.tenants]\ndiscover = {{ url = \"{server_url}\", query = \"{query}\" }}\n", encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["-C", str(tmp_path), *args])
        out, err = capsys.readouterr()
        return code, out, err

    run.names = names
    run.url = lambda name: url_for_database(server_url, name)
    yield run
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def applied_versions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('system.schema_migrations')").fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute("SELECT version FROM system.schema_migrations ORDER BY version")]


def break_target(fleet, index: int) -> str:
    """A table the first migration also creates: that target's migrate fails on it."""
    with psycopg.connect(fleet.url(fleet.names[index]), autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id int)")
    return fleet.names[index]


def lines_by_target(out: str) -> dict[str, str]:
    return {line.split()[1].split("/")[-1]: line.split()[0] for line in out.splitlines()
            if line.split() and line.split()[0] in ("done", "failed", "skipped")}


def test_continue_on_error_completes_the_others_exits_1_and_the_matrix_names_the_failure(fleet):
    broken = break_target(fleet, 6)
    code, out, _ = fleet("migrate", "--target", "all", "--continue-on-error", "--concurrency", "3")
    assert code == 1
    states = lines_by_target(out)
    assert states == {name: ("failed" if name == broken else "done") for name in fleet.names}
    assert f"tenants/{broken}" in out and 'relation "accounts" already exists' in out
    assert "9 done, 1 failed" in out
    for name in fleet.names:
        assert len(applied_versions(fleet.url(name))) == (0 if name == broken else 3)

    code, out, _ = fleet("list", "--target", "all", "--exit-code")
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith(f"tenants/{broken}"))
    assert row.split()[1:2] == ["0"] and "pending 3" in row
    assert f"Fleet: 9 current, 1 pending 3 (tenants/{broken})" in out


def test_without_continue_on_error_no_new_target_starts_after_a_failure(fleet):
    broken = break_target(fleet, 3)
    code, out, _ = fleet("migrate", "--target", "all", "--concurrency", "1")
    assert code == 1
    states = lines_by_target(out)
    assert [states[name] for name in fleet.names] == ["done"] * 3 + ["failed"] + ["skipped"] * 6
    assert all(applied_versions(fleet.url(name)) == [] for name in fleet.names[4:])
    assert f"not started: tenants/{broken} failed" in out


def test_a_canary_failure_stops_the_run_and_a_rerun_after_the_fix_completes_only_that_one(fleet):
    broken = break_target(fleet, 1)
    code, out, _ = fleet("--json", "migrate", "--target", "tenants", "--canary", "2", "--continue-on-error")
    assert code == 1
    data = json.loads(out)
    assert [t["state"] for t in data["targets"]] == ["done", "failed"] + ["skipped"] * (SIZE - 2)
    assert data["targets"][1]["code"] == "migration-failed" and "canary" in data["targets"][2]["error"]
    assert all(applied_versions(fleet.url(name)) == [] for name in fleet.names[2:])

    with psycopg.connect(fleet.url(broken), autocommit=True) as conn:
        conn.execute("DROP TABLE accounts")
    fleet("migrate", "--target", "all")
    code, out, _ = fleet("--json", "migrate", "--target", "all")
    assert code == 0
    data = json.loads(out)
    assert all(t["state"] == "done" and t["applied"] == [] for t in data["targets"])
    code, out, _ = fleet("list", "--target", "all", "--exit-code")
    assert code == 0 and f"Fleet: {SIZE} current" in out


def test_a_glob_selects_some_targets_and_an_unknown_one_is_a_usage_error(fleet):
    code, out, _ = fleet("migrate", "--target", f"tenants/{fleet.names[0][:-2]}0*")
    assert code == 0 and len(lines_by_target(out)) == SIZE
    code, _, err = fleet("migrate", "--target", "nowhere")
    assert code == 2 and "no configured target matches" in err and "tenants" in err


def test_an_unreachable_target_fails_alone_and_the_matrix_shows_its_error(fleet, tmp_path):
    gone = fleet.url("no_such_database_" + uuid.uuid4().hex[:6])
    with (tmp_path / "pgshift.toml").open("a", encoding="utf-8") as settings:
        settings.write(f"\n[targets.gone]\nurl = \"{gone}\"\n")
    code, out, _ = fleet("migrate", "--target", "all", "--continue-on-error")
    assert code == 1 and lines_by_target(out)["gone"] == "failed" and "database-unavailable" in out
    assert "10 done, 1 failed" in out
    code, out, _ = fleet("list", "--target", "gone,tenants")
    row = next(line for line in out.splitlines() if line.startswith("gone"))
    assert code == 0 and "ERROR: cannot connect" in row
    assert f"Fleet: {SIZE} current, 1 unreachable or unreadable (gone)" in out


def test_schema_per_tenant_runs_each_migration_in_its_schema_tracked_per_tenant(tmp_path, database_url, capsys):
    with psycopg.connect(database_url, autocommit=True) as conn:
        for n in range(4):
            conn.execute(f"CREATE SCHEMA tenant_{n}")
        conn.execute("CREATE TABLE tenant_2.accounts (id int)")  # tenant_2 will fail
    (tmp_path / "migrations").mkdir()
    for file, sql in MIGRATIONS.items():
        (tmp_path / "migrations" / file).write_text(sql, encoding="utf-8")
    query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\\\_%'"
    (tmp_path / "pgshift.toml").write_text(
        f"[targets.shop]\nschemas = {{ url = \"{database_url}\", query = \"{query}\" }}\n", encoding="utf-8")

    def run(*args: str) -> tuple[int, str]:
        code = main(["-C", str(tmp_path), *args])
        return code, capsys.readouterr().out

    code, out = run("migrate", "--target", "all", "--continue-on-error")
    assert code == 1 and lines_by_target(out) == {"tenant_0": "done", "tenant_1": "done", "tenant_2": "failed",
                                                 "tenant_3": "done"}
    with psycopg.connect(database_url) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                              "WHERE table_schema LIKE 'tenant%' ORDER BY 1, 2").fetchall()
    for n in (0, 1, 3):
        assert [t for s, t in tables if s == f"tenant_{n}"] == ["accounts", "orders", "schema_migrations"]
    assert [t for s, t in tables if s == "tenant_2"] == ["accounts", "schema_migrations"]  # its tracking only
    code, out = run("list", "--target", "shop", "--exit-code")
    assert code == 1 and "Fleet: 3 current, 1 pending 3 (shop/tenant_2)" in out


def test_a_dry_run_on_the_fleet_says_what_would_apply_and_changes_nothing(fleet):
    code, out, _ = fleet("migrate", "--target", "all", "--dry-run")
    assert code == 0 and out.count("3 would apply (dry run; rolled back)") == SIZE
    assert all(applied_versions(fleet.url(name)) == [] for name in fleet.names)


def test_resume_retries_only_the_failed_and_unfinished_targets_of_a_run(fleet):
    broken = break_target(fleet, 3)
    code, out, _ = fleet("--json", "migrate", "--target", "all", "--concurrency", "1")
    assert code == 1
    run_id = json.loads(out)["run"]
    with psycopg.connect(fleet.url(broken), autocommit=True) as conn:
        conn.execute("DROP TABLE accounts")
    code, out, _ = fleet("--json", "migrate", "--resume", run_id)
    assert code == 0
    data = json.loads(out)
    assert [t["target"].split("/")[1] for t in data["targets"]] == fleet.names[3:]
    assert all(t["state"] == "done" and len(t["applied"]) == 3 for t in data["targets"])
    code, out, _ = fleet("migrate", "--resume", run_id)
    assert code == 0 and "every target is done; nothing to resume" in out
    code, _, err = fleet("migrate", "--resume", "20000101-000000-dead")
    assert code == 2 and "no such fleet run" in err


@pytest.mark.parametrize("args", [("migrate", "--canary", "1"), ("migrate", "--continue-on-error"),
                                  ("migrate", "--concurrency", "2"), ("list", "--concurrency", "2")])
def test_fleet_options_without_a_target_are_a_usage_error_not_silently_ignored(fleet, args):
    code, _, err = fleet(*args)
    assert code == 2 and "needs --target" in err
    assert all(applied_versions(fleet.url(name)) == [] for name in fleet.names)
