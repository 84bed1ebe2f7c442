"""`pgshift init`: the file changes that set a project up for pgshift and Cursor, computed as data, then applied.

`plan_init` reads the project and returns every change it would make (full new contents) plus notes about what
it kept; it writes nothing and raises `ConfigError` (with file:line:col) on a JSON file it cannot merge into.
`apply_init` writes a plan. Nothing the user wrote is ever replaced: JSON files are merged key by key, text files
are appended to, and a differing entry of the same name is kept and reported as a conflict.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from engine.errors import ConfigError
from engine.analysis.files import NAME_RE
from engine.analysis.findings import Finding, Severity, Span

MCP_SERVER_NAME = "pgshift"
HOOK_EVENT = "beforeMCPExecution"
HOOK_MARKERS = ("hook cursor-mcp", "server.hooks.cursor_mcp_guard")
# Cursor runs a hook only for the calls its `matcher` (a regular expression, unanchored) matches. Ours names
# pgshift's tools and pgshift itself, so the hook runs for pgshift's calls and for the few other servers' tools that
# happen to share a name (which it then answers "ask", never "allow"). tests/test_hook.py checks that every tool
# the MCP server offers matches. `failClosed`: a hook that crashes or times out blocks the call instead of letting
# a rollback through unasked.
HOOK_MATCHER = ("pgshift|backup|check_migration|list_migrations|migrate|new_migration|rollback|snapshot|"
                "table_history|verify_migration")
AGENTS_MARKER = "<!-- pgshift:begin"
EXAMPLE_DESCRIPTION = "create_business_table"
RULE_FILES = ("pgshift-schema-changes.mdc", "pgshift-migration-files.mdc", "pgshift-database-md.mdc")
# npm script name -> pgshift arguments: the Node system's familiar scripts, kept so muscle memory still works.
PACKAGE_SCRIPTS = {
    "migrate": ("migrate",),
    "migrate:list": ("list",),
    "rollback": ("rollback",),
    "rollback:list": ("rollback", "--list"),
    "db:snapshot": ("snapshot",),
}


# --- how the editor starts pgshift -------------------------------------------------------------------------


@dataclass(frozen=True)
class Launcher:
    """How Cursor, its hooks and npm scripts start this pgshift.

    `kind` is one of: `path` (plain `pgshift`, found on PATH outside any virtualenv; portable), `workspace` (a
    virtualenv inside the project: `${workspaceFolder}/...` in mcp.json, a project-relative path elsewhere; portable
    for a team that uses the same layout), `absolute` (this machine's path; works from a desktop-started Cursor
    whose PATH is not the terminal's, but teammates need their own), `python` (no pgshift executable:
    `python -m server`), `given`. `reason` says why that one was chosen, for init's output.
    """

    kind: str
    program: str  # for shells (hooks.json, package.json), relative to the project root when kind is workspace
    mcp_command: str  # for .cursor/mcp.json, which Cursor starts itself (and interpolates ${workspaceFolder} in)
    prefix: tuple[str, ...] = ()  # arguments before the pgshift verb, e.g. ("-m", "server")
    reason: str = ""

    def mcp_entry(self) -> dict[str, Any]:
        # Cursor starts stdio servers with an unrelated working directory (often /): name the project
        # explicitly; Cursor interpolates ${workspaceFolder} in mcp.json.
        return {"command": self.mcp_command, "args": [*self.prefix, "-C", "${workspaceFolder}", "mcp"]}

    def shell(self, *words: str) -> str:
        return " ".join(_quote(w) for w in (self.program, *self.prefix, *words))

    def hook_command(self) -> str:
        if self.kind == "python":  # skip the CLI's start-up: a hook runs before every MCP call
            return " ".join(_quote(w) for w in (self.program, "-m", "server.hooks.cursor_mcp_guard"))
        return self.shell("hook", "cursor-mcp")


def _quote(word: str) -> str:
    return word if re.fullmatch(r"[\w@%+=:,./${}-]+", word) else shlex.quote(word)


def resolve_launcher(
    project_root: Path,
    *,
    executable: str | None = None,
    which: Callable[[str], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
    given: str | None = None,
) -> Launcher:
    """Decide how editors should start the pgshift that is running now (see `Launcher` for the choices)."""
    if given:
        return Launcher("given", given, given, reason="given with --pgshift-command")
    env = os.environ if environ is None else environ
    python = Path(executable or sys.executable)
    script = python.parent / ("pgshift.exe" if os.name == "nt" else "pgshift")
    if not script.is_file():
        return Launcher("python", str(python), str(python), ("-m", "server"),
                        reason=f"there is no pgshift executable next to {python}")
    root = project_root.resolve()
    script = script.parent.resolve() / script.name  # not script.resolve(): a venv's python is a symlink
    try:
        inside = script.relative_to(root)
    except ValueError:
        inside = None
    if inside is not None:
        relative = PurePosixPath(*inside.parts).as_posix()
        return Launcher("workspace", relative, "${workspaceFolder}/" + relative,
                        reason="pgshift is installed in a virtualenv inside the project")
    found = (which or shutil.which)("pgshift")
    venv = _virtualenv_of(script, env)
    if found and _same_file(found, script) and venv is None:
        return Launcher("path", "pgshift", "pgshift",
                        reason=f"pgshift on PATH is this installation ({found}), outside any virtualenv")
    absolute = str(script.absolute())
    if venv is not None:
        # On PATH only because this terminal activated the virtualenv or put its bin on PATH by hand: Cursor
        # started from the desktop does not read the shell's start-up files, so a bare `pgshift` would not start.
        why = (f"pgshift is in the virtualenv {venv}, whose bin a Cursor started from the desktop does not have "
               "on PATH")
    else:
        why = "this pgshift is not the one a bare `pgshift` on PATH finds"
    return Launcher("absolute", absolute, absolute, reason=why)


def _virtualenv_of(script: Path, env: Mapping[str, str]) -> Path | None:
    """The virtualenv holding this pgshift executable (its folder has pyvenv.cfg, or it is $VIRTUAL_ENV's)."""
    folder = script.parent.parent
    if (folder / "pyvenv.cfg").is_file():
        return folder
    active = env.get("VIRTUAL_ENV")
    if active and _is_within(script, Path(active)):
        return Path(active)
    return None


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.absolute().relative_to(folder.absolute())
        return True
    except ValueError:
        return False


# --- the plan ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One file to create or rewrite: its whole new text, the old text (None when new) and what changes."""

    path: Path
    content: str
    previous: str | None
    summary: str

    @property
    def action(self) -> str:
        return "create" if self.previous is None else "update"


@dataclass(frozen=True)
class InitNote:
    """Something init looked at and left alone. `conflict` means the user's version differs from pgshift's."""

    path: Path
    message: str
    conflict: bool = False


@dataclass(frozen=True)
class InitPlan:
    root: Path
    migrations_dir: Path
    launcher: Launcher
    changes: tuple[FileChange, ...] = ()
    notes: tuple[InitNote, ...] = ()
    example_migration: Path | None = None

    @property
    def nothing_to_do(self) -> bool:
        return not self.changes

    @property
    def conflicts(self) -> tuple[InitNote, ...]:
        return tuple(n for n in self.notes if n.conflict)


@dataclass
class _Planner:
    root: Path
    changes: list[FileChange] = field(default_factory=list)
    notes: list[InitNote] = field(default_factory=list)

    def change(self, path: Path, content: str, previous: str | None, summary: str) -> None:
        if content != previous:
            self.changes.append(FileChange(path, content, previous, summary))

    def note(self, path: Path, message: str, conflict: bool = False) -> None:
        self.notes.append(InitNote(path, message, conflict))


def plan_init(
    root: Path,
    *,
    migrations_dir: Path | None = None,
    snapshot_path: Path | None = None,
    backup_dir: Path | None = None,
    launcher: Launcher | None = None,
    now: datetime | None = None,
) -> InitPlan:
    """Every change `pgshift init` would make in `root`. Reads only; raises ConfigError on unmergeable JSON."""
    root = root.resolve()
    migrations = (migrations_dir or root / "migrations").resolve()
    snapshot = (snapshot_path or root / "DATABASE.md").resolve()
    launcher = launcher or resolve_launcher(root)
    planner = _Planner(root)
    example = _plan_migrations_folder(planner, migrations, now or datetime.now())
    _plan_mcp_json(planner, root / ".cursor" / "mcp.json", launcher)
    _plan_rules(planner, root / ".cursor" / "rules", _relative_glob(root, migrations, "**/*.sql"),
                _relative_glob(root, snapshot, None))
    _plan_hooks_json(planner, root / ".cursor" / "hooks.json", launcher)
    _plan_agents_md(planner, root / "AGENTS.md", _relative_glob(root, migrations, None))
    backups = _relative_glob(root, (backup_dir or root / "backups").resolve(), None)
    _plan_gitignore(planner, root / ".gitignore", backups)
    _plan_package_json(planner, root / "package.json", launcher)
    return InitPlan(root, migrations, launcher, tuple(planner.changes), tuple(planner.notes), example)


def apply_init(plan: InitPlan) -> list[Path]:
    """Write every change of the plan (each file atomically); return the paths written."""
    written = []
    for change in plan.changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(change.path, change.content)
        written.append(change.path)
    return written


def _write_atomically(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- templates ---------------------------------------------------------------------------------------------


def template_text(*parts: str) -> str:
    """A file shipped in engine/templates (the packaged copy of editor-rules/ and the migrations README)."""
    return resources.files("engine").joinpath("templates", *parts).read_text(encoding="utf-8")


def _relative_glob(root: Path, target: Path, suffix: str | None) -> str | None:
    try:
        rel = PurePosixPath(*target.relative_to(root).parts).as_posix()
    except ValueError:
        return None
    return f"{rel}/{suffix}" if suffix else rel


# --- each file ---------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}",
                          help="fix the file's permissions or encoding (UTF-8), then run pgshift init again; "
                               "nothing was written") from exc
    return text[1:] if text.startswith("\ufeff") else text


def _plan_migrations_folder(planner: _Planner, folder: Path, now: datetime) -> Path | None:
    readme = folder / "README.md"
    if _read_text(readme) is None:
        planner.change(readme, template_text("migrations", "README.md"), None, "migration guidelines")
    has_migrations = folder.is_dir() and any(p.suffix.lower() == ".sql" for p in folder.iterdir())
    if has_migrations:
        return None
    example = folder / f"{now.strftime('%Y-%m-%d_%H%M')}_{EXAMPLE_DESCRIPTION}.sql"
    assert NAME_RE.match(example.name)
    planner.change(example, template_text("migrations", "create_business_table.sql"), None,
                   "example migration: schema tenants, table tenants.business, with its ROLLBACK")
    return example


def _plan_mcp_json(planner: _Planner, path: Path, launcher: Launcher) -> None:
    previous = _read_text(path)
    data = _load_json_object(path, previous)
    servers = data.setdefault("mcpServers", {})
    if not isinstance(servers, dict):
        raise _shape_error(path, previous, '"mcpServers" must be an object mapping server names to settings')
    entry = launcher.mcp_entry()
    existing = servers.get(MCP_SERVER_NAME)
    if existing is None:
        servers[MCP_SERVER_NAME] = entry
        planner.change(path, _dump_json(data, previous), previous,
                       f'MCP server "{MCP_SERVER_NAME}": {_describe_entry(entry)}')
    elif existing != entry:
        planner.note(path, f'kept the existing "{MCP_SERVER_NAME}" server ({_describe_entry(existing)}); '
                           f"pgshift init would have written {_describe_entry(entry)}")


def _describe_entry(entry: Any) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("command"), str):
        args = entry.get("args") if isinstance(entry.get("args"), list) else []
        return " ".join([entry["command"], *(str(a) for a in args)])
    return json.dumps(entry)


def _plan_rules(planner: _Planner, folder: Path, migrations_glob: str | None, snapshot_glob: str | None) -> None:
    for name in RULE_FILES:
        text = template_text("cursor", "rules", name)
        if migrations_glob:
            text = text.replace("\nglobs: migrations/**/*.sql\n", f"\nglobs: {migrations_glob}\n")
        if snapshot_glob:
            text = text.replace("\nglobs: DATABASE.md\n", f"\nglobs: {snapshot_glob}\n")
        path = folder / name
        previous = _read_text(path)
        if previous is None:
            planner.change(path, text, None, "Cursor rule for the AI assistant")
        elif previous != text:
            planner.note(path, "kept your copy, which differs from pgshift's (delete it and run init again to get "
                               "the current one)")


def _plan_hooks_json(planner: _Planner, path: Path, launcher: Launcher) -> None:
    previous = _read_text(path)
    data = _load_json_object(path, previous)
    if previous is None:
        data["version"] = 1
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise _shape_error(path, previous, '"hooks" must be an object mapping hook names to lists')
    entries = hooks.setdefault(HOOK_EVENT, [])
    if not isinstance(entries, list):
        raise _shape_error(path, previous, f'"hooks.{HOOK_EVENT}" must be a list of {{"command": ...}} objects')
    for item in entries:
        command = item.get("command") if isinstance(item, dict) else None
        if isinstance(command, str) and any(marker in command for marker in HOOK_MARKERS):
            return  # ours is there already (perhaps with another path): leave it
    command = launcher.hook_command()
    entries.append({"command": command, "matcher": HOOK_MATCHER, "failClosed": True})
    planner.change(path, _dump_json(data, previous), previous,
                   f"{HOOK_EVENT} hook: asks you before pgshift's rollback and migrate tools run, and never "
                   f"approves another server's tools ({command})")


def _plan_agents_md(planner: _Planner, path: Path, migrations_rel: str | None) -> None:
    section = template_text("AGENTS.md")
    if migrations_rel and migrations_rel != "migrations":
        section = section.replace("`migrations/`", f"`{migrations_rel}/`").replace(
            "migrations/README.md", f"{migrations_rel}/README.md")
    previous = _read_text(path)
    if previous is None:
        planner.change(path, section, None, "instructions for AI assistants other than Cursor")
    elif AGENTS_MARKER not in previous:
        joined = previous + ("" if previous.endswith("\n") or not previous else "\n") + "\n" + section
        planner.change(path, joined, previous, "appended the pgshift section for AI assistants")


def _plan_gitignore(planner: _Planner, path: Path, backups_rel: str | None) -> None:
    previous = _read_text(path)
    present = {line.strip().strip("/") for line in (previous or "").splitlines()}
    # Backups hold the data itself: they must never be committed by accident.
    wanted = [(".pgshift", "the embedded development database"), (backups_rel, "database backups")]
    missing = [(entry, why) for entry, why in wanted if entry and entry not in present]
    if not missing:
        return
    text = previous or ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"# pgshift: {why}\n{entry}/\n" for entry, why in missing)
    planner.change(path, text, previous, "ignore " + ", ".join(f"{entry}/ ({why})" for entry, why in missing))


def _plan_package_json(planner: _Planner, path: Path, launcher: Launcher) -> None:
    previous = _read_text(path)
    if previous is None:
        return  # not a Node project: no package.json is created
    data = _load_json_object(path, previous)
    scripts = data.setdefault("scripts", {})
    if not isinstance(scripts, dict):
        raise _shape_error(path, previous, '"scripts" must be an object')
    added = []
    for name, words in PACKAGE_SCRIPTS.items():
        wanted = launcher.shell(*words)
        current = scripts.get(name)
        if current is None:
            scripts[name] = wanted
            added.append(name)
        elif current != wanted:
            planner.note(path, f'kept your script "{name}": {current!r}; for pgshift it would be {wanted!r}',
                         conflict=True)
    if added:
        planner.change(path, _dump_json(data, previous), previous, "npm scripts: " + ", ".join(added))


# --- JSON that keeps the user's layout as far as json can --------------------------------------------------


def _load_json_object(path: Path, text: str | None) -> dict:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        finding = Finding("invalid-json", Severity.ERROR, f"invalid JSON: {exc.msg}", path,
                          Span.at(exc.lineno - 1, exc.colno - 1))
        raise ConfigError(f"{path.name} is not valid JSON, so pgshift init cannot merge into it", findings=[finding],
                          help="fix the file (or move it away) and run pgshift init again; nothing was written")
    if not isinstance(data, dict):
        raise _shape_error(path, text, "the file must hold a JSON object ({ ... })")
    return data


def _shape_error(path: Path, text: str | None, what: str) -> ConfigError:
    finding = Finding("invalid-json", Severity.ERROR, what, path, Span.at(0, 0))
    return ConfigError(f"{path.name} has an unexpected shape, so pgshift init cannot merge into it: {what}",
                       findings=[finding],
                       help="fix the file (or move it away) and run pgshift init again; nothing was written")


def _dump_json(data: Any, previous: str | None) -> str:
    """Serialise with the indentation the file already used (two spaces for new files), ending in a newline."""
    indent: int | str = 2
    if previous:
        match = re.search(r"^([ \t]+)\S", previous, re.MULTILINE)
        if match:
            indent = len(match.group(1)) if "\t" not in match.group(1) else "\t"
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
