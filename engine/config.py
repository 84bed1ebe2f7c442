"""Settings: one frozen object loaded once from flags, environment and `[tool.pgshift]`."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from engine.errors import ConfigError

LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
DEFAULT_TRACKING_TABLE = "system.schema_migrations"
_DURATION_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(ms|s|min|h)?\s*$")


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs to know about a project; front ends build it once and pass it down."""

    project_root: Path
    migrations_dir: Path
    database_url: str | None = None
    database_source: str = "embedded"
    tracking_table: str = DEFAULT_TRACKING_TABLE
    lock_timeout: str = "5s"
    lock_retries: int = 0
    snapshot_path: Path | None = None
    backup_dir: Path | None = None
    target_version: int = 18
    rules: Mapping[str, str] = field(default_factory=dict)
    allow_rollback: bool = True
    embedded_dir: Path | None = None
    shadow_database_url: str | None = None  # where `trace` builds its shadow databases; None: the embedded server

    @property
    def tracking_schema(self) -> str:
        return split_table_name(self.tracking_table)[0]

    @property
    def tracking_name(self) -> str:
        return split_table_name(self.tracking_table)[1]

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_source == "embedded"

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


def split_table_name(name: str) -> tuple[str, str]:
    parts = name.split(".")
    if len(parts) != 2 or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", p) for p in parts):
        raise ConfigError(f"tracking table {name!r} must be written schema.table, e.g. system.schema_migrations")
    return parts[0], parts[1]


def find_project_root(start: Path) -> Path:
    """The nearest folder upwards with a pgshift.toml or a pyproject.toml that has [tool.pgshift]; else start."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "pgshift.toml").is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "tool" in _read_toml(pyproject) and "pgshift" in _read_toml(pyproject)["tool"]:
            return folder
    return start


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def read_project_table(root: Path) -> tuple[dict, Path | None]:
    """`[tool.pgshift]` from pyproject.toml, or the top level of pgshift.toml, with the file it came from."""
    dedicated = root / "pgshift.toml"
    if dedicated.is_file():
        return _read_toml(dedicated), dedicated
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("pgshift")
        if isinstance(table, dict):
            return table, pyproject
    return {}, None


def load_settings(
    cwd: Path | None = None,
    *,
    database_url: str | None = None,
    migrations_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings: flags first, then the environment, then the project file, then defaults."""
    env = os.environ if environ is None else environ
    root = find_project_root(cwd or Path.cwd())
    table, source_file = read_project_table(root)
    where = str(source_file) if source_file else "configuration"
    known = {"migrations_dir", "database_url", "tracking_table", "lock_timeout", "lock_retries", "snapshot_path",
             "backup_dir", "target_version", "rules", "allow_rollback", "shadow_database_url"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}",
                          help=f"known settings: {', '.join(sorted(known))}")

    folder = Path(migrations_dir or env.get("PGSHIFT_MIGRATIONS_DIR") or table.get("migrations_dir", "migrations"))
    folder = folder if folder.is_absolute() else root / folder

    url, source = _resolve_database(database_url, env, table, root / ".env")

    lock_timeout = str(env.get("PGSHIFT_LOCK_TIMEOUT") or table.get("lock_timeout", "5s"))
    if not _DURATION_RE.match(lock_timeout):
        origin = "PGSHIFT_LOCK_TIMEOUT" if env.get("PGSHIFT_LOCK_TIMEOUT") else where
        raise ConfigError(f"{origin}: lock_timeout {lock_timeout!r} is not a duration like '5s', '500ms' or '0'")
    rules = table.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError(f"{where}: [tool.pgshift.rules] must map rule ids to error, warning, info, hint or off")

    def path_setting(key: str, default: str) -> Path:
        value = Path(str(table.get(key, default)))
        return value if value.is_absolute() else root / value

    try:
        target_version = int(table.get("target_version", 18))
        lock_retries = int(table.get("lock_retries", 0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    tracking_table = str(table.get("tracking_table", DEFAULT_TRACKING_TABLE))
    split_table_name(tracking_table)

    return Settings(
        project_root=root,
        migrations_dir=folder,
        database_url=url,
        database_source=source,
        tracking_table=tracking_table,
        lock_timeout="".join(lock_timeout.split()),  # "5 s" -> "5s": the form every SET takes as it is
        lock_retries=lock_retries,
        snapshot_path=path_setting("snapshot_path", "DATABASE.md"),
        backup_dir=path_setting("backup_dir", "backups"),
        target_version=target_version,
        rules={str(k): str(v) for k, v in rules.items()},
        allow_rollback=bool(table.get("allow_rollback", True)),
        embedded_dir=root / ".pgshift",
        shadow_database_url=str(table["shadow_database_url"]) if table.get("shadow_database_url") else None,
    )


def _resolve_database(flag: str | None, env: Mapping[str, str], table: dict,
                      dotenv: Path) -> tuple[str | None, str]:
    if flag:
        return flag, "--database-url"
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"], "DATABASE_URL"
    from_file = read_dotenv(dotenv).get("DATABASE_URL")
    if from_file:
        return from_file, f"DATABASE_URL in {dotenv.name}"
    if table.get("database_url"):
        return str(table["database_url"]), "[tool.pgshift] database_url"
    if any(env.get(name) for name in LIBPQ_VARIABLES):
        return "", "libpq environment (PG* variables)"
    return None, "embedded"


_DOTENV_LINE_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a `.env` file, as dbmate and the Node scripts read DATABASE_URL from it.

    Quotes are removed; `#` starts a comment outside quotes; nothing is expanded. A missing file is empty.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _DOTENV_LINE_RE.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key] = value
    return values
