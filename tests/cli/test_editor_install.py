"""`pgshift editor install` and `pgshift init` put the shipped extension into the editor found on PATH.

The editor is a stand-in script on PATH: it records its arguments and answers `--list-extensions` from what it
was last asked to install (it reads the version out of the .vsix it is given, as the real CLI does).
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest

from engine.editor_extension import shipped_extension
from server.cli.main import main

FAKE_EDITOR = """#!{python}
import json, sys, zipfile
from pathlib import Path
state = Path(__file__).with_suffix(".state")
with open(Path(__file__).with_suffix(".log"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:1] == ["--fail"] or Path(__file__).with_suffix(".broken").exists():
    print("cannot reach the extension host", file=sys.stderr)
    sys.exit(3)
if args == ["--list-extensions", "--show-versions"]:
    print("ms-python.python@2025.1.0")
    if state.exists():
        print(state.read_text().strip())
elif args[:1] == ["--install-extension"]:
    with zipfile.ZipFile(args[1]) as vsix:
        manifest = json.loads(vsix.read("extension/package.json"))
    state.write_text(f"{{manifest['publisher']}}.{{manifest['name']}}@{{manifest['version']}}")
    print(f"Extension '{{Path(args[1]).name}}' was successfully installed.")
"""


@pytest.fixture
def bindir(tmp_path, monkeypatch) -> Path:
    """A PATH holding only the stand-in editors a test creates."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def fake_editor(bindir: Path, name: str, installed: str | None = None) -> Path:
    script = bindir / name
    script.write_text(FAKE_EDITOR.format(python=sys.executable))
    script.chmod(0o755)
    if installed:
        script.with_suffix(".state").write_text(f"pgshift.pgshift@{installed}\n")
    return script


def calls(script: Path) -> list[list[str]]:
    log = script.with_suffix(".log")
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def installs(script: Path) -> list[list[str]]:
    return [c for c in calls(script) if c[:1] == ["--install-extension"]]


def init(project: Path, *extra: str) -> int:
    return main(["-C", str(project), "init", "--pgshift-command", "pgshift", *extra])


def test_init_installs_the_shipped_extension_once_across_two_runs(tmp_path, bindir, capsys):
    cursor = fake_editor(bindir, "cursor")
    project = tmp_path / "app"
    project.mkdir()
    version = shipped_extension().version
    assert init(project) == 0
    first = capsys.readouterr().out
    assert init(project) == 0
    second = capsys.readouterr().out

    [[_, vsix]] = installs(cursor)
    with zipfile.ZipFile(vsix) as shipped:
        assert json.loads(shipped.read("extension/package.json"))["version"] == version
        assert shipped.read("extension/out/extension.js") == (
            Path(__file__).resolve().parents[2] / "engine/templates/editor/vscode/extension.js").read_bytes()
    assert f"installed pgshift.pgshift {version} into cursor ({cursor})" in first
    assert f"pgshift.pgshift {version} is already installed in cursor" in second


def test_an_older_extension_is_upgraded_and_a_newer_one_left_alone(tmp_path, bindir, capsys):
    version = shipped_extension().version
    code = fake_editor(bindir, "code", installed="0.0.9")
    assert main(["-C", str(tmp_path), "editor", "install"]) == 0
    assert len(installs(code)) == 1
    assert f"upgraded pgshift.pgshift 0.0.9 -> {version} in code" in capsys.readouterr().out

    newer = fake_editor(bindir, "codium", installed="99.0.0")
    assert main(["-C", str(tmp_path), "editor", "install", "--editor", "codium"]) == 0
    assert installs(newer) == []
    assert "99.0.0 is already installed in codium" in capsys.readouterr().out


def test_cursor_is_preferred_and_editor_picks_another(tmp_path, bindir, capsys):
    cursor, code = fake_editor(bindir, "cursor"), fake_editor(bindir, "code")
    assert main(["-C", str(tmp_path), "editor", "install"]) == 0
    assert len(installs(cursor)) == 1 and calls(code) == []
    assert "Also found code: `pgshift editor install --editor code`" in capsys.readouterr().out
    assert main(["-C", str(tmp_path), "editor", "install", "--editor", "code"]) == 0
    assert len(installs(code)) == 1 and len(installs(cursor)) == 1


def test_without_an_editor_cli_it_prints_the_command_and_the_file(tmp_path, bindir, capsys):
    assert main(["-C", str(tmp_path), "editor", "install"]) == 0
    out = capsys.readouterr().out
    vsix = tmp_path / ".pgshift" / "editor" / shipped_extension().file_name
    assert f"    cursor --install-extension {vsix}\n" in out
    assert f"\"Extensions: Install from VSIX...\" > pick {vsix}" in out
    with zipfile.ZipFile(vsix) as shipped:
        assert "extension/out/extension.js" in shipped.namelist()


def test_no_editor_extension_leaves_the_editor_alone(tmp_path, bindir, capsys):
    cursor = fake_editor(bindir, "cursor")
    assert init(tmp_path, "--no-editor-extension") == 0
    assert calls(cursor) == []
    assert "Editor extension" not in capsys.readouterr().out


def test_a_failing_editor_cli_is_reported_with_the_manual_way(tmp_path, bindir, capsys):
    cursor = fake_editor(bindir, "cursor")
    cursor.with_suffix(".broken").write_text("")
    assert main(["-C", str(tmp_path), "--json", "editor", "install"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["action"] == "failed"
    assert "exit 3" in data["error"] and "cannot reach the extension host" in data["error"]


def test_json_says_which_editor_and_version(tmp_path, bindir, capsys):
    fake_editor(bindir, "cursor")
    assert main(["-C", str(tmp_path), "--json", "editor", "install"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"ok": True, "extension": "pgshift.pgshift", "version": shipped_extension().version,
                    "vsix": str(tmp_path / ".pgshift/editor" / shipped_extension().file_name), "editor": "cursor",
                    "action": "installed", "previous": None}


def test_an_unwritable_project_is_a_clear_error_after_init_did_the_rest(tmp_path, bindir, capsys):
    cursor = fake_editor(bindir, "cursor")
    (tmp_path / ".pgshift").write_text("not a folder\n")  # where the .vsix would go
    assert init(tmp_path) == 1
    out = capsys.readouterr().out
    assert "Editor extension: cannot write the extension to " + str(tmp_path / ".pgshift/editor") in out
    assert (tmp_path / ".cursor" / "mcp.json").is_file() and calls(cursor) == []


def test_a_missing_chosen_editor_gets_its_own_command(tmp_path, bindir, capsys):
    fake_editor(bindir, "cursor")
    assert main(["-C", str(tmp_path), "editor", "install", "--editor", "codium"]) == 0
    out = capsys.readouterr().out
    assert "no `codium` command on PATH" in out and "    codium --install-extension " in out
