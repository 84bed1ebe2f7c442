"""Settings: one frozen object loaded once from flags, environment and `[tool.pgshift]`."""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from engine.errors import ConfigError
from engine.fleet.targets import TargetSpec, parse_targets

LIBPQ_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
DEFAULT_TRACKING_TABLE = "system.schema_migrations"
# risky: another database than the embedded development one, or a pending data-loss finding; data-loss: only
# the latter; always: every real migrate; never: no question (the Cursor hook or nothing is the gate).
MCP_CONFIRM_MIGRATE = ("risky", "data-loss", "always", "never")


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
    lock_wait_timeout: float = 600.0  # seconds migrate/rollback wait for another pgshift's migration lock; 0: forever
    snapshot_path: Path | None = None
    backup_dir: Path | None = None
    target_version: int = 18
    rules: Mapping[str, str] = field(default_factory=dict)
    allow_rollback: bool = True
    embedded_dir: Path | None = None
    # When a real `migrate` through MCP asks the person first (see MCP_CONFIRM_MIGRATE), and whether a client
    # without elicitation may use confirmation tokens (proof the plan was shown, not that a person agreed).
    mcp_confirm_migrate: str = "risky"
    mcp_confirmation_tokens: bool = False
    shadow_database_url: str | None = None  # where `trace` builds its shadow databases; None: the embedded server
    drift_ignore: tuple[str, ...] = ()  # glob patterns on schema-qualified names that `drift` leaves out
    targets: Mapping[str, "TargetSpec"] = field(default_factory=dict)  # [tool.pgshift.targets.NAME] (fleets)

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


# Every setting of [tool.pgshift] / pgshift.toml with the TOML type it takes (issue 10, item 10): a value of
# another type is a configuration error, never coerced (`allow_rollback = "false"` is a string, and truthy).
SETTING_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "migrations_dir": ((str,), "a folder path (a string)"),
    "database_url": ((str,), "a connection string"),
    "tracking_table": ((str,), "a string like \"system.schema_migrations\""),
    "lock_timeout": ((str, int), "a duration like \"5s\" or \"500ms\", or a number of milliseconds"),
    "lock_retries": ((int,), "a whole number of retries, 0 or more"),
    "snapshot_path": ((str,), "a file path (a string)"),
    "backup_dir": ((str,), "a folder path (a string)"),
    "target_version": ((int,), "a PostgreSQL major version number like 18"),
    "rules": ((dict,), "a table of rule ids to error, warning, info, hint or off"),
    "allow_rollback": ((bool,), "true or false (without quotes)"),
    "lock_wait_timeout": ((str, int), "a duration like \"10min\" or \"30s\" (0 waits forever)"),
    "mcp_confirm_migrate": ((str,), "one of \"risky\", \"data-loss\", \"always\" or \"never\""),
    "mcp_confirmation_tokens": ((bool,), "true or false (without quotes)"),
    "shadow_database_url": ((str,), "a connection string to a server where pgshift may create databases"),
    "drift_ignore": ((list,), "a list of glob patterns on schema-qualified names, like [\"public.tmp_*\"]"),
    "targets": ((dict,), "a table of [tool.pgshift.targets.NAME] with url, url_env, discover or schemas"),
}
SUPPORTED_VERSIONS = range(12, 19)


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a table",
             list: "an array"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "a date or time")


def check_table(table: Mapping[str, Any], where: str) -> None:
    """Unknown keys (with the likely one meant) and values of the wrong type, before anything else runs."""
    for key in table:
        if key not in SETTING_TYPES:
            import difflib
            close = difflib.get_close_matches(key, SETTING_TYPES, n=1)
            raise ConfigError(f"{where}: unknown setting {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                              help=f"known settings: {', '.join(SETTING_TYPES)}")
    for key, value in table.items():
        kinds, expected = SETTING_TYPES[key]
        # bool is an int in Python, but `lock_retries = true` is not a number of retries.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            shown = "" if key.endswith("database_url") else f" {value!r}"  # a connection string may hold a password
            raise ConfigError(f"{where}: {key} must be {expected}, not {_toml_type(value)}{shown}",
                              help=f"fix {key} in {where}")
    if "targets" in table:
        parse_targets(table["targets"], where)
    for code, level in (table.get("rules") or {}).items():
        if not isinstance(level, str):
            raise ConfigError(f"{where}: [rules] {code} must be a string (error, warning, info, hint or off), "
                              f"not {_toml_type(level)} {level!r}", help=f"fix [tool.pgshift.rules] in {where}")
    for pattern in table.get("drift_ignore") or []:
        if not isinstance(pattern, str):
            raise ConfigError(f"{where}: drift_ignore must list strings, not {_toml_type(pattern)} {pattern!r}",
                              help='e.g. drift_ignore = ["public.tmp_*", "audit.*"]')


# PostgreSQL's time units for an integer setting in milliseconds, and the largest value it takes (INT_MAX):
# https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-NAMES-VALUES
_TIME_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION_RE = re.compile(r"^\s*(?P<number>[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)\s*(?P<unit>[a-z]*)\s*$")
MAX_LOCK_TIMEOUT_MS = 2_147_483_647


def duration_milliseconds(value: str | int, origin: str, key: str) -> float:
    """A duration as PostgreSQL reads a time setting (number, optional unit, 0 .. 2147483647 ms), checked here
    so that a value the server would refuse stops pgshift before it connects."""
    text = str(value)
    match = _DURATION_RE.match(text)
    problem, milliseconds = None, 0.0
    if not match or match["unit"] not in ("", *_TIME_UNITS_MS):
        problem = "is not a duration like '5s', '500ms' or '0' (units: us, ms, s, min, h, d)"
    else:
        milliseconds = float(match["number"]) * _TIME_UNITS_MS.get(match["unit"], 1)
        if not (math.isfinite(milliseconds) and 0 <= round(milliseconds) <= MAX_LOCK_TIMEOUT_MS):
            problem = f"is outside PostgreSQL's range for {key} (0 .. {MAX_LOCK_TIMEOUT_MS} ms, about 24 days)"
    if problem:
        raise ConfigError(f"{origin}: {key} {text!r} {problem}",
                          help=f"e.g. {key} = \"5s\"; 0 waits without limit")
    return milliseconds


def parse_lock_timeout(value: str | int, origin: str) -> str:
    """A checked lock_timeout, returned as SET takes it."""
    duration_milliseconds(value, origin, "lock_timeout")
    return "".join(str(value).split())  # "5 s" -> "5s": the form every SET takes as it is


def load_settings(
    cwd: Path | None = None,
    *,
    database_url: str | None = None,
    migrations_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    create_migrations_dir: bool = False,
) -> Settings:
    """Build Settings: flags first, then the environment, then the project file, then defaults.

    Every value is checked here, before anything touches the database. A migrations folder given by a flag,
    the environment or the project file must exist (a typo would otherwise mean "nothing to migrate", exit 0);
    `create_migrations_dir` is for `pgshift init`, whose job is to create it.
    """
    env = os.environ if environ is None else environ
    root = find_project_root(cwd or Path.cwd())
    table, source_file = read_project_table(root)
    where = str(source_file) if source_file else "configuration"
    check_table(table, where)

    folder, folder_origin = next(
        ((Path(value), origin) for value, origin in ((migrations_dir, "--migrations-dir"),
                                                     (env.get("PGSHIFT_MIGRATIONS_DIR"), "PGSHIFT_MIGRATIONS_DIR"),
                                                     (table.get("migrations_dir"), f"migrations_dir in {where}"))
         if value), (Path("migrations"), None))
    folder = folder if folder.is_absolute() else root / folder
    if folder_origin and not create_migrations_dir and not folder.is_dir():
        kind = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"the migrations folder {folder} ({folder_origin}) {kind}",
                          help=f"correct {folder_origin}, or create the folder")

    url, source = _resolve_database(database_url, env, table, root / ".env")

    if env.get("PGSHIFT_LOCK_TIMEOUT"):
        lock_timeout = parse_lock_timeout(env["PGSHIFT_LOCK_TIMEOUT"], "PGSHIFT_LOCK_TIMEOUT")
    else:
        lock_timeout = parse_lock_timeout(table.get("lock_timeout", "5s"), where)
    wait_origin = "PGSHIFT_LOCK_WAIT_TIMEOUT" if env.get("PGSHIFT_LOCK_WAIT_TIMEOUT") else where
    lock_wait_timeout = duration_milliseconds(env.get("PGSHIFT_LOCK_WAIT_TIMEOUT") or table.get("lock_wait_timeout", "10min"),
                                              wait_origin, "lock_wait_timeout") / 1000
    rules = table.get("rules", {})

    def path_setting(key: str, default: str) -> Path:
        value = Path(str(table.get(key, default)))
        return value if value.is_absolute() else root / value

    target_version = table.get("target_version", 18)
    if target_version not in SUPPORTED_VERSIONS:
        raise ConfigError(f"{where}: target_version {target_version} is not a PostgreSQL version pgshift knows "
                          f"({SUPPORTED_VERSIONS.start} to {SUPPORTED_VERSIONS.stop - 1})",
                          help="the major version of your production server, e.g. target_version = 16")
    lock_retries = table.get("lock_retries", 0)
    if lock_retries < 0:
        raise ConfigError(f"{where}: lock_retries must be 0 or more, not {lock_retries}",
                          help="lock_retries = 3 retries a migration three times after a lock timeout")
    tracking_table = table.get("tracking_table", DEFAULT_TRACKING_TABLE)
    confirm_migrate = table.get("mcp_confirm_migrate", "risky")
    if confirm_migrate not in MCP_CONFIRM_MIGRATE:
        raise ConfigError(f"{where}: mcp_confirm_migrate {confirm_migrate!r} is not one of "
                          f"{', '.join(MCP_CONFIRM_MIGRATE)}", help=f"fix mcp_confirm_migrate in {where}")
    split_table_name(tracking_table)

    return Settings(
        project_root=root,
        migrations_dir=folder,
        database_url=url,
        database_source=source,
        tracking_table=tracking_table,
        lock_timeout=lock_timeout,
        lock_retries=lock_retries,
        lock_wait_timeout=lock_wait_timeout,
        snapshot_path=path_setting("snapshot_path", "DATABASE.md"),
        backup_dir=path_setting("backup_dir", "backups"),
        target_version=target_version,
        rules=dict(rules),
        allow_rollback=table.get("allow_rollback", True),
        mcp_confirm_migrate=confirm_migrate,
        mcp_confirmation_tokens=table.get("mcp_confirmation_tokens", False),
        embedded_dir=root / ".pgshift",
        shadow_database_url=table.get("shadow_database_url") or None,
        drift_ignore=tuple(table.get("drift_ignore", ())),
        targets=parse_targets(table.get("targets", {}), where),
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
