"""The MCP Inspector's CLI, a client that validates every result against the tool's outputSchema, on `pgshift mcp`.

The Inspector is installed once into `.cache/` in the repository (gitignored) and reused; the first install
takes about half a minute. Without node and npm (or the npm registry on the first run) the test fails: a
strict client is the point of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import write_migration
from tests.mcp.conftest import PGSHIFT, apply_pending

INSPECTOR_VERSION = "2.12.0"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / f"mcp-inspector-{INSPECTOR_VERSION}"


@pytest.fixture(scope="session")
def inspector() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "mcp-inspector"
    if binary.exists():
        return binary
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.fail("node and npm are needed to run the MCP Inspector CLI (install Node.js 20+)")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--loglevel=error",
                           f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and binary.exists(), f"npm install failed:\n{done.stdout}\n{done.stderr}"
    return binary


def run_inspector(inspector: Path, project, home: Path, *args: str) -> tuple[int, dict, str]:
    done = subprocess.run(
        [str(inspector), "--cli", PGSHIFT, "--database-url", project.database_url, "mcp", *args],
        cwd=project.project_root, capture_output=True, text=True, timeout=180,
        env={**os.environ, "HOME": str(home)})
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON from the Inspector:\n{done.stdout}\n{done.stderr}"
    decoded, _ = json.JSONDecoder().raw_decode(done.stdout[start:])
    return done.returncode, decoded, done.stdout + done.stderr


def test_the_inspector_reads_pgshift_errors_and_results(inspector, project, tmp_path):
    code, listed, _ = run_inspector(inspector, project, tmp_path, "--method", "tools/list")
    assert code == 0 and {"check_migration", "migrate", "backup"} <= {t["name"] for t in listed["tools"]}

    code, result, output = run_inspector(inspector, project, tmp_path, "--method", "tools/call",
                                         "--tool-name", "check_migration", "--tool-arg", "path=nope.sql")
    assert "must have required property" not in output
    assert result["isError"] is True and result["structuredContent"]["code"] == "usage"
    assert "'nope.sql' is not a migration file in migrations/" in result["content"][0]["text"]

    code, result, output = run_inspector(inspector, project, tmp_path, "--method", "tools/call",
                                         "--tool-name", "check_migration", "--tool-arg", "sql=SELECT 1;")
    assert code == 0 and result["isError"] is False and result["structuredContent"]["ok"] is True


def test_the_inspector_shows_why_a_rollback_did_not_run(inspector, project, tmp_path):
    # The Inspector CLI does not elicit: pgshift refuses readably and names the command for the person.
    write_migration(project, "2025-01-01_0900_create_shop.sql",
                    "CREATE TABLE shop (id int);\n\n-- ROLLBACK:\n-- DROP TABLE shop;\n")
    apply_pending(project)
    code, result, output = run_inspector(inspector, project, tmp_path, "--method", "tools/call",
                                         "--tool-name", "rollback")
    assert "must have required property" not in output
    assert result["isError"] is True and result["structuredContent"]["code"] == "confirmation-required"
    assert "rollback not run: it needs a person's yes" in result["content"][0]["text"]
    assert f"pgshift -C {project.project_root} rollback --steps 1" in result["content"][0]["text"]
