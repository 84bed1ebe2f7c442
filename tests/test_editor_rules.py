"""The editor rules: valid Cursor front matter, and the packaged copies `pgshift init` installs match editor-rules/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.project_init import RULE_FILES, Launcher

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "editor-rules"
PACKAGED = REPO / "engine" / "templates"
RULES = sorted((SOURCE / "cursor" / "rules").glob("*.mdc")) + sorted((PACKAGED / "cursor" / "rules").glob("*.mdc"))
MCP_TOOLS = {"list_migrations", "new_migration", "check_migration", "table_history", "verify_migration", "migrate",
             "rollback", "snapshot", "backup"}


def front_matter(path: Path) -> tuple[dict[str, str], str]:
    """Cursor's .mdc header: `---`, `key: value` lines, `---`, then the rule's body."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: must start with a '---' line"
    header, sep, body = text[4:].partition("\n---\n")
    assert sep, f"{path.name}: front matter is not closed by a '---' line"
    fields = {}
    for number, line in enumerate(header.split("\n"), 2):
        match = re.fullmatch(r"([A-Za-z]+):(?: (.*))?", line)
        assert match, f"{path.name}:{number}: not a 'key: value' line: {line!r}"
        assert match.group(1) not in fields, f"{path.name}:{number}: duplicate key"
        fields[match.group(1)] = (match.group(2) or "").strip()
    return fields, body


def test_there_are_rules_and_init_installs_each_of_them():
    assert {p.name for p in (SOURCE / "cursor" / "rules").glob("*.mdc")} == set(RULE_FILES)


@pytest.mark.parametrize("path", RULES, ids=lambda p: f"{p.parent.parent.parent.name}/{p.name}")
def test_front_matter_is_valid(path):
    fields, body = front_matter(path)
    assert set(fields) == {"description", "globs", "alwaysApply"}
    assert fields["alwaysApply"] in ("true", "false")
    assert 20 <= len(fields["description"]) <= 200
    assert not fields["description"].startswith(("'", '"', "[")), "YAML would read quotes or brackets specially"
    if fields["alwaysApply"] == "false":
        assert fields["globs"], "a rule that is not always applied needs globs to be attached by"
    for glob in filter(None, (g.strip() for g in fields["globs"].split(","))):
        assert not glob.startswith(("'", '"', "[")), "Cursor expects bare, comma-separated globs"
    assert body.strip().startswith("# ")
    assert len(body.splitlines()) <= 60, "rules are read on every request: keep them short"


def test_the_always_on_rule_names_the_workflow_and_the_safety_promises():
    _, body = front_matter(SOURCE / "cursor" / "rules" / "pgshift-schema-changes.mdc")
    order = [body.index(f"`{tool}") for tool in ("list_migrations", "new_migration", "check_migration",
                                                   "verify_migration", "migrate(dry_run=true)", "snapshot")]
    assert order == sorted(order)
    for promise in ("rollback_sql", "already applied", "pgshift backup", "confirmation", "DATABASE.md"):
        assert promise in body


def test_rules_only_name_tools_the_mcp_server_has():
    for path in [*RULES, SOURCE / "AGENTS.md"]:
        named = set(re.findall(r"`([a-z][a-z_]*)(?:\(|`)", path.read_text()))
        tools = {n for n in named if "_" in n or n in MCP_TOOLS}
        assert tools <= MCP_TOOLS | {"dry_run", "rollback_sql"}, f"{path.name}: {tools - MCP_TOOLS}"


@pytest.mark.parametrize("name", [*(f"cursor/rules/{n}" for n in RULE_FILES), "AGENTS.md"])
def test_packaged_copy_matches_editor_rules(name):
    assert (PACKAGED / name).read_text() == (SOURCE / name).read_text(), (
        f"engine/templates/{name} differs from editor-rules/{name}: edit editor-rules/ and copy it over")


def test_migrations_readme_matches_the_packaged_one():
    assert (PACKAGED / "migrations" / "README.md").read_text() == (REPO / "migrations" / "README.md").read_text()


def test_config_templates_are_what_init_writes_for_pgshift_on_path():
    on_path = Launcher("path", "pgshift", "pgshift")
    mcp = json.loads((SOURCE / "cursor" / "mcp.json").read_text())
    assert mcp == {"mcpServers": {"pgshift": on_path.mcp_entry()}}
    hooks = json.loads((SOURCE / "cursor" / "hooks.json").read_text())
    assert hooks == {"version": 1, "hooks": {"beforeMCPExecution": [{"command": on_path.hook_command()}]}}
