"""`pgshift init`: what a user finds in their project after running it, and what it refuses to touch."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from engine.analysis.files import parse_migration
from engine.project_init import HOOK_MATCHER, Launcher, plan_init, resolve_launcher
from server.cli.main import main

EXPECTED_FILES = {
    ".cursor/hooks.json",
    ".cursor/mcp.json",
    ".cursor/rules/pgshift-database-md.mdc",
    ".cursor/rules/pgshift-migration-files.mdc",
    ".cursor/rules/pgshift-schema-changes.mdc",
    ".gitignore",
    "AGENTS.md",
    "migrations/README.md",
}

# Scoped to pgshift's calls by a matcher, and blocking (not allowing) the call if the hook itself fails.
OUR_HOOK = {"command": "pgshift hook cursor-mcp", "matcher": HOOK_MATCHER, "failClosed": True}


def init(project: Path, *extra: str) -> int:
    return main(["-C", str(project), "init", "--pgshift-command", "pgshift", "--no-editor-extension", *extra])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def example_migrations(root: Path) -> list[Path]:
    return sorted((root / "migrations").glob("*_create_business_table.sql"))


def test_empty_project_gets_everything(tmp_path, capsys):
    assert init(tmp_path) == 0
    files = set(tree(tmp_path))
    [example] = example_migrations(tmp_path)
    assert files == EXPECTED_FILES | {example.relative_to(tmp_path).as_posix()}

    assert json.loads((tmp_path / ".cursor/mcp.json").read_text()) == {
        "mcpServers": {"pgshift": {"command": "pgshift", "args": ["-C", "${workspaceFolder}", "mcp"]}}}
    assert json.loads((tmp_path / ".cursor/hooks.json").read_text()) == {
        "version": 1, "hooks": {"beforeMCPExecution": [OUR_HOOK]}}
    assert ".pgshift/" in (tmp_path / ".gitignore").read_text().splitlines()
    assert not (tmp_path / "package.json").exists()  # not a Node project: none is invented

    out = capsys.readouterr().out
    assert "created" in out and "migrations/README.md" in out
    assert "Next steps:" in out


def test_example_migration_follows_the_format(tmp_path):
    init(tmp_path)
    [example] = example_migrations(tmp_path)
    migration = parse_migration(example, example.read_text())
    assert migration.has_valid_name and not migration.findings
    assert "CREATE TABLE tenants.business" in migration.forward_sql
    assert migration.has_rollback and "DROP TABLE tenants.business" in migration.rollback_sql


def test_second_run_changes_nothing(tmp_path, capsys):
    (tmp_path / "package.json").write_text('{"name": "app"}\n')
    init(tmp_path)
    before = tree(tmp_path)
    capsys.readouterr()
    assert init(tmp_path) == 0
    assert tree(tmp_path) == before
    assert "Nothing to do" in capsys.readouterr().out


def test_dry_run_writes_nothing_and_shows_the_changes(tmp_path, capsys):
    (tmp_path / "package.json").write_text('{\n  "name": "app"\n}\n')
    before = tree(tmp_path)
    assert init(tmp_path, "--dry-run") == 0
    assert tree(tmp_path) == before
    assert not (tmp_path / "migrations").exists()
    out = capsys.readouterr().out
    assert "would create" in out and ".cursor/mcp.json" in out
    assert '+    "migrate": "pgshift migrate",' in out  # the diff of package.json


def test_existing_mcp_json_keeps_other_servers(tmp_path):
    cursor = tmp_path / ".cursor"
    cursor.mkdir()
    other = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"X": "1"}}
    (cursor / "mcp.json").write_text(json.dumps({"mcpServers": {"github": other}, "extra": True}, indent=4))
    init(tmp_path)
    text = (cursor / "mcp.json").read_text()
    data = json.loads(text)
    assert data["mcpServers"]["github"] == other
    assert data["mcpServers"]["pgshift"] == {"command": "pgshift", "args": ["-C", "${workspaceFolder}", "mcp"]}
    assert data["extra"] is True
    assert '\n    "mcpServers"' in text  # the file's own four-space indentation is kept


def test_existing_pgshift_server_entry_is_kept(tmp_path, capsys):
    cursor = tmp_path / ".cursor"
    cursor.mkdir()
    mine = {"mcpServers": {"pgshift": {"command": "/opt/pgshift/bin/pgshift", "args": ["-C", "${workspaceFolder}", "mcp"]}}}
    (cursor / "mcp.json").write_text(json.dumps(mine))
    init(tmp_path)
    assert json.loads((cursor / "mcp.json").read_text()) == mine
    assert 'kept the existing "pgshift" server' in capsys.readouterr().out


def test_existing_hooks_are_kept(tmp_path):
    cursor = tmp_path / ".cursor"
    cursor.mkdir()
    hooks = {"version": 1, "hooks": {"beforeMCPExecution": [{"command": "./audit.sh"}],
                                     "afterFileEdit": [{"command": "./format.sh"}]}}
    (cursor / "hooks.json").write_text(json.dumps(hooks))
    init(tmp_path)
    data = json.loads((cursor / "hooks.json").read_text())
    assert data["hooks"]["afterFileEdit"] == [{"command": "./format.sh"}]
    assert data["hooks"]["beforeMCPExecution"] == [{"command": "./audit.sh"},
                                                   OUR_HOOK]


def test_package_json_scripts_added_without_clobbering(tmp_path, capsys):
    package = {"name": "backend", "scripts": {"migrate": "node scripts/migrate.js", "start": "node index.js"},
               "dependencies": {"pg": "^8"}}
    (tmp_path / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    init(tmp_path)
    data = json.loads((tmp_path / "package.json").read_text())
    assert data["scripts"] == {
        "migrate": "node scripts/migrate.js",  # the user's, untouched
        "start": "node index.js",
        "migrate:list": "pgshift list",
        "rollback": "pgshift rollback",
        "rollback:list": "pgshift rollback --list",
        "db:snapshot": "pgshift snapshot",
    }
    assert data["dependencies"] == {"pg": "^8"} and list(data)[0] == "name"
    out = capsys.readouterr().out
    assert "conflict" in out and "node scripts/migrate.js" in out and "pgshift migrate" in out


@pytest.mark.parametrize("name", [".cursor/mcp.json", ".cursor/hooks.json", "package.json"])
def test_invalid_json_is_an_error_with_its_place_and_nothing_is_written(tmp_path, capsys, name):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text('{\n  "mcpServers": {\n    "x": 1,\n  }\n}\n')
    before = tree(tmp_path)
    assert init(tmp_path) == 2
    assert tree(tmp_path) == before
    err = capsys.readouterr().err
    assert f"{name}:4:3: error[invalid-json]: invalid JSON:" in err
    assert "nothing was written" in err


def test_wrong_shape_is_an_error(tmp_path, capsys):
    (tmp_path / ".cursor").mkdir()
    (tmp_path / ".cursor/mcp.json").write_text('{"mcpServers": []}')
    assert init(tmp_path) == 2
    assert '"mcpServers" must be an object' in capsys.readouterr().err
    assert not (tmp_path / "migrations").exists()


def test_text_files_are_appended_to(tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules/")  # no final newline
    (tmp_path / "AGENTS.md").write_text("# Agents\n\nUse tabs.\n")
    init(tmp_path)
    assert (tmp_path / ".gitignore").read_text().startswith("node_modules/\n# pgshift")
    agents = (tmp_path / "AGENTS.md").read_text()
    assert agents.startswith("# Agents\n\nUse tabs.\n\n<!-- pgshift:begin")
    assert agents.count("pgshift:begin") == 1


def test_existing_migrations_get_no_example_and_an_edited_rule_is_kept(tmp_path, capsys):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations/2025-01-17_1430_add_column.sql").write_text("SELECT 1;\n-- ROLLBACK:\n-- SELECT 1;\n")
    rules = tmp_path / ".cursor/rules"
    rules.mkdir(parents=True)
    (rules / "pgshift-schema-changes.mdc").write_text("my own version\n")
    init(tmp_path)
    assert example_migrations(tmp_path) == []
    assert (rules / "pgshift-schema-changes.mdc").read_text() == "my own version\n"
    assert "kept your copy" in capsys.readouterr().out


def test_configured_migrations_folder_is_used_in_the_rules(tmp_path):
    (tmp_path / "pgshift.toml").write_text('migrations_dir = "db/migrations"\n')
    init(tmp_path)
    assert (tmp_path / "db/migrations/README.md").is_file()
    rule = (tmp_path / ".cursor/rules/pgshift-migration-files.mdc").read_text()
    assert "\nglobs: db/migrations/**/*.sql\n" in rule


def test_json_output(tmp_path, capsys):
    assert main(["-C", str(tmp_path), "--json", "init", "--pgshift-command", "pgshift", "--dry-run"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["written"] is False
    assert {c["path"] for c in data["changes"]} >= EXPECTED_FILES


# --- how Cursor is told to start pgshift -------------------------------------------------------------------


def fake_install(folder: Path) -> Path:
    """A bin folder with a python and a pgshift script, as a virtualenv has."""
    folder.mkdir(parents=True)
    for name in ("python", "pgshift"):
        (folder / name).write_text("#!/bin/sh\n")
        os.chmod(folder / name, 0o755)
    return folder / "python"


@pytest.mark.skipif(os.name == "nt", reason="POSIX virtualenv layout")
def test_launcher_in_project_virtualenv_is_workspace_relative(tmp_path):
    python = fake_install(tmp_path / ".venv/bin")
    launcher = resolve_launcher(tmp_path, executable=str(python), which=lambda _: None, environ={})
    assert launcher.kind == "workspace"
    assert launcher.mcp_entry() == {"command": "${workspaceFolder}/.venv/bin/pgshift", "args": ["-C", "${workspaceFolder}", "mcp"]}
    assert launcher.shell("migrate") == ".venv/bin/pgshift migrate"


@pytest.mark.skipif(os.name == "nt", reason="POSIX virtualenv layout")
def test_launcher_on_path_is_plain_pgshift_unless_only_an_activated_venv(tmp_path):
    python = fake_install(tmp_path / "tools/bin")
    project = tmp_path / "project"
    project.mkdir()
    on_path = str(tmp_path / "tools/bin/pgshift")
    launcher = resolve_launcher(project, executable=str(python), which=lambda _: on_path, environ={})
    assert launcher.kind == "path" and launcher.mcp_entry() == {"command": "pgshift", "args": ["-C", "${workspaceFolder}", "mcp"]}
    activated = resolve_launcher(project, executable=str(python), which=lambda _: on_path,
                                 environ={"VIRTUAL_ENV": str(tmp_path / "tools")})
    assert activated.kind == "absolute"
    assert activated.mcp_entry() == {"command": on_path, "args": ["-C", "${workspaceFolder}", "mcp"]}


def test_launcher_without_a_pgshift_executable_uses_python_m_server(tmp_path):
    (tmp_path / "bin").mkdir()
    python = tmp_path / "bin" / "python3"
    launcher = resolve_launcher(tmp_path, executable=str(python), which=lambda _: None, environ={})
    assert launcher.kind == "python"
    assert launcher.mcp_entry() == {"command": str(python), "args": ["-m", "server", "-C", "${workspaceFolder}", "mcp"]}
    assert launcher.hook_command().endswith("-m server.hooks.cursor_mcp_guard")


def test_plan_is_data_and_writes_nothing(tmp_path):
    plan = plan_init(tmp_path, launcher=Launcher("given", "pgshift", "pgshift"), now=datetime(2025, 1, 17, 14, 30))
    assert tree(tmp_path) == {}
    assert plan.example_migration == tmp_path.resolve() / "migrations/2025-01-17_1430_create_business_table.sql"
    assert all(change.previous is None for change in plan.changes)


@pytest.mark.skipif(os.name == "nt", reason="POSIX virtualenv layout")
def test_virtualenv_bin_on_path_by_hand_gets_the_absolute_path(tmp_path, monkeypatch, capsys):
    """PATH=venv/bin:$PATH without `activate` (no VIRTUAL_ENV): a desktop-started Cursor would not find `pgshift`."""
    python = fake_install(tmp_path / "venv/bin")
    (tmp_path / "venv/pyvenv.cfg").write_text("home = /usr/bin\n")
    project = tmp_path / "project"
    project.mkdir()
    on_path = str(tmp_path / "venv/bin/pgshift")
    launcher = resolve_launcher(project, executable=str(python), which=lambda _: on_path, environ={})
    assert launcher.kind == "absolute"
    assert launcher.mcp_entry() == {"command": on_path, "args": ["-C", "${workspaceFolder}", "mcp"]}
    assert launcher.hook_command() == f"{on_path} hook cursor-mcp"

    # what init writes and says, end to end: the CLI resolves the launcher from the running interpreter
    import engine.project_init as project_init
    monkeypatch.setattr(project_init.sys, "executable", str(python))
    monkeypatch.setattr(project_init.shutil, "which", lambda _: on_path)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert main(["-C", str(project), "init", "--no-editor-extension"]) == 0
    assert json.loads((project / ".cursor/mcp.json").read_text())["mcpServers"]["pgshift"]["command"] == on_path
    [hook] = json.loads((project / ".cursor/hooks.json").read_text())["hooks"]["beforeMCPExecution"]
    assert hook["command"] == f"{on_path} hook cursor-mcp"
    out = capsys.readouterr().out
    assert f"by its absolute path on this machine ({on_path})" in out
    assert "a Cursor started from the desktop does not have on PATH" in out
