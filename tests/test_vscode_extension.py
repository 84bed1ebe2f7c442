"""The VS Code / Cursor extension: its manifest promises the commands, and it type-checks and packages.

The build tests need node and npm (and the npm registry, for `npm ci`). They fail, not skip, when node is
missing, so that CI cannot pass without building the extension; set PGSHIFT_SKIP_NODE_TESTS=1 to skip them
deliberately on a machine without node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[1] / "editors" / "vscode"
COMMAND_IDS = {"pgshift.migrate", "pgshift.list", "pgshift.rollback", "pgshift.new", "pgshift.snapshot",
               "pgshift.verify"}


def manifest() -> dict:
    return json.loads((EXTENSION / "package.json").read_text())


def test_manifest_contributes_the_commands_the_code_sends():
    contributed = {c["command"] for c in manifest()["contributes"]["commands"]}
    assert COMMAND_IDS <= contributed
    source = (EXTENSION / "src" / "extension.ts").read_text()
    block = re.search(r"export const COMMANDS = \[(.*?)\] as const", source, re.S).group(1)
    assert set(re.findall(r'"([\w.]+)"', block)) == COMMAND_IDS


def test_manifest_starts_the_server_for_migrations_and_is_packageable():
    data = manifest()
    assert data["main"] == "./out/extension.js"
    assert "workspaceContains:**/migrations/*.sql" in data["activationEvents"]
    assert data["contributes"]["configuration"]["properties"]["pgshift.path"]["type"] == "string"
    # vsce refuses @types/vscode newer than the engine the manifest claims
    assert data["engines"]["vscode"] == "^" + data["devDependencies"]["@types/vscode"]
    assert data["repository"] and (EXTENSION / "LICENSE").is_file()  # vsce asks interactively without them
    assert (EXTENSION / "package-lock.json").is_file()  # `npm ci` needs it
    assert "'lsp'" in (EXTENSION / "src" / "extension.ts").read_text().replace('"', "'")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A copy of the extension with its dependencies installed by `npm ci` (the repository stays untouched)."""
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("PGSHIFT_SKIP_NODE_TESTS") == "1":
            pytest.skip("node/npm not installed and PGSHIFT_SKIP_NODE_TESTS=1")
        pytest.fail("node and npm are needed to build editors/vscode (install Node.js 20+), "
                    "or set PGSHIFT_SKIP_NODE_TESTS=1 to skip these tests knowingly")
    work = tmp_path_factory.mktemp("vscode") / "extension"
    shutil.copytree(EXTENSION, work, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix"))
    npm(work, "ci", "--no-audit", "--no-fund")
    return work


def npm(cwd: Path, *args: str, tool: str = "npm") -> subprocess.CompletedProcess:
    done = subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{tool} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_extension_type_checks(built):
    npm(built, "tsc", "-p", ".", "--noEmit", tool="npx")


def test_extension_packages_into_a_vsix(built):
    npm(built, "@vscode/vsce", "package", "--out", "pgshift.vsix", tool="npx")
    with zipfile.ZipFile(built / "pgshift.vsix") as vsix:
        names = set(vsix.namelist())
        assert "extension/out/extension.js" in names
        assert "extension/node_modules/vscode-languageclient/package.json" in names
        assert not any(n.startswith("extension/src/") for n in names)
        packaged = json.loads(vsix.read("extension/package.json"))
    assert COMMAND_IDS <= {c["command"] for c in packaged["contributes"]["commands"]}
