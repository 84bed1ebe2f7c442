"""`[tool.pgshift.targets.NAME]`: which databases a fleet command works on, checked when settings load and
resolved (environment variables read, discover queries run) only when a command asks for `--target`."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Any, Mapping

from engine.errors import ConfigError, UsageError

KINDS = ("url", "url_env", "discover")
QUERY_KEYS = ("url", "query")


@dataclass(frozen=True)
class TargetSpec:
    """One configured target as written: a single database (`url`, `url_env`) or a server to `discover` on."""

    name: str
    kind: str
    value: str  # the URL, the variable's name, or the discover server's URL
    query: str | None = None
    origin: str = "configuration"  # the settings file it came from, for errors

    @property
    def key(self) -> str:
        return f"[tool.pgshift.targets.{self.name}]"


@dataclass(frozen=True)
class FleetTarget:
    """One database of the fleet. `name` is the target's name, or `GROUP/DATABASE` for a discovered one."""

    name: str
    database_url: str
    group: str


def parse_targets(table: Any, where: str) -> dict[str, TargetSpec]:
    """The `targets` table checked: each target has exactly one kind, with strings where strings go."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: targets must be a table of [tool.pgshift.targets.NAME] entries",
                          help=f"e.g. [tool.pgshift.targets.eu] with url_env = \"EU_DATABASE_URL\", in {where}")
    specs: dict[str, TargetSpec] = {}
    for name, entry in table.items():
        key = f"[tool.pgshift.targets.{name}]"
        if name == "all" or any(c in name for c in "*?[]/,"):
            raise ConfigError(f"{where}: {key}: a target may not be named {name!r}",
                              help="`all`, `/`, `,` and glob characters are how --target selects targets")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {key} must be a table with url, url_env or discover",
                              help=f"fix targets.{name} in {where}")
        unknown = [k for k in entry if k not in KINDS]
        kinds = [k for k in entry if k in KINDS]
        if unknown:
            raise ConfigError(f"{where}: {key}: unknown key {unknown[0]!r}",
                              help=f"a target takes exactly one of: {', '.join(KINDS)}")
        if len(kinds) != 1:
            said = "none" if not kinds else " and ".join(kinds)
            raise ConfigError(f"{where}: {key} must have exactly one of {', '.join(KINDS)}, not {said}",
                              help=f"fix targets.{name} in {where}")
        kind, value = kinds[0], entry[kinds[0]]
        if kind == "discover":
            specs[name] = _discover_spec(name, value, key, where)
            continue
        if not isinstance(value, str) or not value.strip():
            expected = "a connection string" if kind == "url" else "the name of an environment variable"
            raise ConfigError(f"{where}: {key} {kind} must be {expected} (a non-empty string)",
                              help=f"fix targets.{name}.{kind} in {where}")
        specs[name] = TargetSpec(name, kind, value, origin=where)
    return specs


def _discover_spec(name: str, value: Any, key: str, where: str) -> TargetSpec:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} discover must be a table {{ url = \"…\", query = \"SELECT …\" }}",
                          help=f"fix targets.{name}.discover in {where}")
    for part in value:
        if part not in QUERY_KEYS:
            raise ConfigError(f"{where}: {key} discover: unknown key {part!r}",
                              help="discover takes url (the server) and query (its rows name the databases)")
    for part in QUERY_KEYS:
        if not isinstance(value.get(part), str) or not value[part].strip():
            raise ConfigError(f"{where}: {key} discover.{part} must be a non-empty string",
                              help=f"fix targets.{name}.discover in {where}")
    return TargetSpec(name, "discover", value["url"], value["query"], origin=where)


def resolve(specs: Mapping[str, TargetSpec], environ: Mapping[str, str] | None = None) -> list[FleetTarget]:
    """Every configured database, in name order; discover queries run now, in a read-only transaction."""
    env = os.environ if environ is None else environ
    found: list[FleetTarget] = []
    for spec in sorted(specs.values(), key=lambda s: s.name):
        if spec.kind == "url":
            found.append(FleetTarget(spec.name, spec.value, spec.name))
        elif spec.kind == "url_env":
            if not env.get(spec.value):
                raise ConfigError(f"{spec.origin}: {spec.key} url_env: the environment variable {spec.value} "
                                  "is not set", help=f"set {spec.value} to the target's connection string")
            found.append(FleetTarget(spec.name, env[spec.value], spec.name))
        else:
            found.extend(FleetTarget(f"{spec.name}/{database}", url, spec.name)
                         for database, url in discover(spec))
    return found


def discover(spec: TargetSpec) -> list[tuple[str, str]]:
    """(database name, URL) for each row of the discover query: a database name on that server, or a URL."""
    import psycopg
    from psycopg import conninfo

    from engine import db
    from engine.redaction import redact
    where = f"{spec.origin}: {spec.key} discover"
    conn = db.connect(db.Target(spec.value, f"{spec.key} discover.url"), autocommit=False)
    try:
        conn.execute("SET TRANSACTION READ ONLY")
        rows = conn.execute(spec.query).fetchall()  # type: ignore[arg-type]  (the user's own query)
    except psycopg.Error as error:
        message = redact(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
        raise ConfigError(f"{where}: the query failed: {message}",
                          help="the query runs read-only and must return one text column: database names or URLs")
    finally:
        conn.rollback() if not conn.closed else None
        conn.close()
    pairs: list[tuple[str, str]] = []
    for row in rows:
        value = row[0] if row else None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: the query returned {value!r}, not a database name or URL",
                              help="return one text column, e.g. SELECT datname FROM pg_database WHERE …")
        if "://" in value or "=" in value:
            name = conninfo.conninfo_to_dict(value).get("dbname") or value
            pairs.append((str(name), value))
        else:
            pairs.append((value, conninfo.make_conninfo(spec.value, dbname=value)))
    return sorted(pairs)


def select(targets: list[FleetTarget], pattern: str) -> list[FleetTarget]:
    """`all`, a target or group name, or a glob over names (`tenants/tenant_0*`); commas join several."""
    wanted = [p.strip() for p in pattern.split(",") if p.strip()]
    if not wanted:
        raise UsageError("--target needs a target name, a glob or `all`")
    chosen = [t for t in targets
              if any(p == "all" or fnmatch.fnmatchcase(t.name, p) or fnmatch.fnmatchcase(t.group, p) for p in wanted)]
    if not chosen:
        known = ", ".join(sorted({t.group for t in targets})) or "none"
        raise UsageError(f"--target {pattern}: no configured target matches",
                         help=f"configured targets: {known} (`all` selects every one)")
    return chosen
