"""The shape the product depends on: the engine is a library, the servers only translate."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_never_imports_editor_or_protocol_code():
    for path in (ROOT / "engine").rglob("*.py"):
        forbidden = imported_modules(path) & {"pygls", "lsprotocol", "mcp", "server"}
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_engine_never_prints():
    for path in (ROOT / "engine").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n.lineno for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, f"{path.relative_to(ROOT)} prints at line(s) {calls}"


def test_servers_never_touch_the_database_driver_or_parser_directly():
    for path in (ROOT / "server").rglob("*.py"):
        forbidden = imported_modules(path) & {"psycopg", "pglast"}
        assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_cli_start_up_loads_no_driver_parser_or_protocol_library():
    """`pgshift check` and `--help` stay quick: command modules import the engine only when they run."""
    import subprocess
    import sys
    code = ("import sys; from server.cli.main import discover_commands, build_parser; "
            "build_parser(discover_commands()); "
            "print(sorted(m for m in ('psycopg', 'pglast', 'pygls', 'mcp', 'watchfiles') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
