"""MCP resources: the schema (DATABASE.md), each migration file, the project's migration conventions and
the documentation of every code pgshift reports (lint rules and the rest)."""

from __future__ import annotations

from importlib import resources as package_files

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import Resource

from engine.config import Settings
from engine.redaction import redact
from engine.errors import PgshiftError
from server.mcp import texts
from server.mcp.tools import in_thread

SCHEMA_URI = "pgshift://schema"
CONVENTIONS_URI = "pgshift://conventions"
MIGRATION_TEMPLATE = "migration://{version}"
RULE_TEMPLATE = "rule://{rule}"


def schema_text(settings: Settings) -> str:
    """DATABASE.md as committed when it exists (no database needed), else generated from the database."""
    path = settings.snapshot_path
    if path is not None and path.is_file():
        return path.read_text(encoding="utf-8")
    from engine.database.snapshot import snapshot
    try:
        return snapshot(settings, write=False).text
    except PgshiftError as error:
        raise ResourceError(redact(f"cannot read the schema: {error.message}")) from None


def conventions_text(settings: Settings) -> str:
    """The project's migrations/README.md, else the README pgshift installs, else a built-in summary."""
    readme = settings.migrations_dir / "README.md"
    if readme.is_file():
        return readme.read_text(encoding="utf-8")
    try:
        return (package_files.files("engine") / "templates" / "migrations" / "README.md").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        return texts.BUILTIN_CONVENTIONS


def migration_text(settings: Settings, version: str) -> str:
    """A migration file by version; only files directly in the migrations folder can be named."""
    folder = settings.migrations_dir
    if folder.is_dir():
        for path in folder.iterdir():
            if path.suffix.lower() == ".sql" and path.stem == version and path.is_file():
                return path.read_text(encoding="utf-8")
    raise ResourceNotFoundError(f"no migration {version!r} in the migrations folder")


def migration_resources(settings: Settings) -> list[Resource]:
    """One resource per migration file, in version order, read through the migration://VERSION template."""
    folder = settings.migrations_dir
    if not folder.is_dir():
        return []
    shown = folder.name
    return [Resource(uri=f"migration://{path.stem}", name=path.name, title=f"Migration {path.stem}",
                     mime_type="application/sql", description=f"the migration file {shown}/{path.name}")
            for path in sorted(folder.iterdir(), key=lambda p: p.name)
            if path.suffix.lower() == ".sql" and path.is_file() and not path.name.startswith(".")]


def rule_text(settings: Settings, rule: str) -> str:
    """A code's documentation as `pgshift rules CODE` prints it: for a rule, what it catches and an example."""
    from engine.analysis.lint import rule_catalog
    try:
        [info] = rule_catalog(settings, [rule])
    except PgshiftError as error:
        raise ResourceNotFoundError(error.message) from None
    return info.markdown


def register_resources(server: MCPServer, settings: Settings) -> None:
    @server.resource(SCHEMA_URI, name="schema", title="Database schema (DATABASE.md)", mime_type="text/markdown",
                     description="Tables, columns, keys, indexes, views, types and functions, as DATABASE.md shows "
                                 "them; read it before writing a migration.")
    async def schema() -> str:
        return await in_thread(lambda: schema_text(settings))

    @server.resource(CONVENTIONS_URI, name="conventions", title="Migration conventions", mime_type="text/markdown",
                     description="How migrations are written here: naming, one change per file, the ROLLBACK "
                                 "block, never editing applied files, dry run first.")
    async def conventions() -> str:
        return await in_thread(lambda: conventions_text(settings))

    @server.resource(MIGRATION_TEMPLATE, name="migration", title="Migration file", mime_type="application/sql",
                     description="One migration file by version (its file name without .sql); list_migrations "
                                 "shows the versions.")
    async def migration(version: str) -> str:
        return await in_thread(lambda: migration_text(settings, version))

    @server.resource(RULE_TEMPLATE, name="rule", title="Finding or rule documentation", mime_type="text/markdown",
                     description="The documentation of any code pgshift reports (e.g. "
                                 "rule://require-concurrent-index-creation, rule://file-name): what it means, why "
                                 "it matters, and what to do; for a lint rule the safe way to write the change.")
    async def rule(rule: str) -> str:
        return await in_thread(lambda: rule_text(settings, rule))
