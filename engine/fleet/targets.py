"""`[tool.pgshift.targets.NAME]`: which databases (or tenant schemas) a fleet command works on, checked when
settings load and resolved (environment variables read, discover queries run) only when a command asks for `--target`."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

from engine.errors import ConfigError, UsageError

KINDS = ("url", "url_env", "discover", "schemas")
QUERY_KEYS = ("url", "query")
SCHEMA_TRACKING_DEFAULT = "{schema}.schema_migrations"
_PLAIN_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_SCHEMA_NAME_RE = re.compile(r"[a-z_][a-z0-9_$]*")  # what search_path reads back unchanged, unquoted


@dataclass(frozen=True)
class TargetSpec:
    """One configured target as written: a single database (`url`, `url_env`) or a server to `discover` on."""

    name: str
    kind: str
    value: str  # the URL, the variable's name, or the discover / schemas server's URL
    query: str | None = None
    tracking_table: str | None = None  # schemas: the per-tenant tracking table, `{schema}` standing for it
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
    tracking_table: str | None = None  # schema-per-tenant: this tenant's own tracking table

    def settings_for(self, settings):
        """The project's settings pointed at this target: an ordinary single-database run from here on."""
        changes = {"database_url": self.database_url, "database_source": f"target {self.name}"}
        if self.tracking_table:
            changes["tracking_table"] = self.tracking_table
        return settings.with_overrides(**changes)


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
            raise ConfigError(f"{where}: {key} must be a table with url, url_env, discover or schemas",
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
        if kind in ("discover", "schemas"):
            specs[name] = _query_spec(name, kind, value, key, where)
            continue
        if not isinstance(value, str) or not value.strip():
            expected = "a connection string" if kind == "url" else "the name of an environment variable"
            raise ConfigError(f"{where}: {key} {kind} must be {expected} (a non-empty string)",
                              help=f"fix targets.{name}.{kind} in {where}")
        specs[name] = TargetSpec(name, kind, value, origin=where)
    return specs


def _query_spec(name: str, kind: str, value: Any, key: str, where: str) -> TargetSpec:
    """`discover` / `schemas` = { url, query } (schemas also takes tracking_table)."""
    allowed = QUERY_KEYS + (("tracking_table",) if kind == "schemas" else ())
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} {kind} must be a table {{ url = \"…\", query = \"SELECT …\" }}",
                          help=f"fix targets.{name}.{kind} in {where}")
    for part in value:
        if part not in allowed:
            raise ConfigError(f"{where}: {key} {kind}: unknown key {part!r}",
                              help=f"{kind} takes {', '.join(allowed)}")
    for part in allowed:
        if part in QUERY_KEYS or part in value:
            if not isinstance(value.get(part), str) or not value[part].strip():
                raise ConfigError(f"{where}: {key} {kind}.{part} must be a non-empty string",
                                  help=f"fix targets.{name}.{kind} in {where}")
    tracking = value.get("tracking_table", SCHEMA_TRACKING_DEFAULT) if kind == "schemas" else None
    if tracking is not None:
        parts = tracking.replace("{schema}", "tenant").split(".")
        if len(parts) != 2 or not all(_PLAIN_NAME_RE.fullmatch(p) for p in parts):
            raise ConfigError(f"{where}: {key} schemas.tracking_table {tracking!r} must be written schema.table, "
                              "`{schema}` standing for the tenant's schema",
                              help=f"e.g. tracking_table = \"{SCHEMA_TRACKING_DEFAULT}\"")
    return TargetSpec(name, kind, value["url"], value["query"], tracking, origin=where)


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
        elif spec.kind == "discover":
            found.extend(FleetTarget(f"{spec.name}/{database}", url, spec.name)
                         for database, url in discover(spec))
        else:
            found.extend(FleetTarget(f"{spec.name}/{schema}", url, spec.name,
                                     (spec.tracking_table or SCHEMA_TRACKING_DEFAULT).replace("{schema}", schema))
                         for schema, url in schemas(spec))
    return found


def discover(spec: TargetSpec) -> list[tuple[str, str]]:
    """(database name, URL) for each row of the discover query: a database name on that server, or a URL."""
    from psycopg import conninfo
    where = f"{spec.origin}: {spec.key} discover"
    pairs: list[tuple[str, str]] = []
    for value in _query_names(spec, where):
        if "://" in value or "=" in value:
            name = conninfo.conninfo_to_dict(value).get("dbname") or value
            pairs.append((str(name), value))
        else:
            pairs.append((value, conninfo.make_conninfo(spec.value, dbname=value)))
    return sorted(pairs)


def schemas(spec: TargetSpec) -> list[tuple[str, str]]:
    """(schema, URL) for each row of the schemas query: the URL's sessions start with search_path = schema,
    which the runner's per-migration RESET ALL returns to (it resets to the session's start value)."""
    from psycopg import conninfo
    where = f"{spec.origin}: {spec.key} schemas"
    pairs: list[tuple[str, str]] = []
    given = conninfo.conninfo_to_dict(spec.value).get("options") or ""
    for schema in _query_names(spec, where):
        if not _SCHEMA_NAME_RE.fullmatch(schema):
            raise ConfigError(f"{where}: the query returned the schema {schema!r}, which pgshift can only use as a "
                              "tenant when it is a plain lower-case name (a-z, digits, _ and $)",
                              help="leave it out of the query, or rename the schema")
        options = f"{given} -c search_path={schema}".strip()
        pairs.append((schema, conninfo.make_conninfo(spec.value, options=options)))
    return sorted(pairs)


def _query_names(spec: TargetSpec, where: str) -> list[str]:
    """The first column of the target's query, run read-only on its server; each a non-empty string."""
    import psycopg

    from engine.database import db
    from engine.redaction import redact
    conn = db.connect(db.Target(spec.value, f"{spec.key} {spec.kind}.url"), autocommit=False)
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
    names: list[str] = []
    for row in rows:
        value = row[0] if row else None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: the query returned {value!r}, not a name",
                              help="return one text column, e.g. SELECT datname FROM pg_database WHERE …")
        names.append(value)
    return names


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
