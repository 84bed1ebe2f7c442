"""Drift: how the live database's schema differs from the one its applied migrations give, replayed in a scratch
database (issue 16), so that a change made by hand is found before the next migration trips over it.

The applied migrations (per the tracking table, oldest first, the text of their files as on disk) run in a
scratch database made and dropped as `verify` makes and drops its own: on the configured server when the role
may create databases, else on the embedded PostgreSQL. Both schemas are read with `read_schema` (which leaves
out extension members: an extension owns them, not the migrations) and compared with `diff_schemas`. The live
database is only read.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from engine.analysis import relations

from engine.database import db, environment, tracking
from engine.analysis import files as migration_files
from engine.shadow import verify
from engine.config import Settings
from engine.errors import ConfigError, PgshiftError
from engine.analysis.files import MigrationFile
from engine.analysis.findings import FILE_START, Finding, LineIndex, Severity, Span, relative_path
from engine.database.records import APPLIED
from engine.shadow.schema_diff import Difference, diff_schemas
from engine.database.snapshot import Schema, read_schema
from engine.analysis.sql import analyse
from engine.database.status import applied_file_changed, applied_file_missing

SCHEMA_DRIFT = "schema-drift"
ADDED, REMOVED, CHANGED = "added", "removed", "changed"  # as the live database has it, against the migrations
_RELATION_KINDS = {"table", "partitioned table", "foreign table", "view", "materialized view", "sequence"}
_DEFINING_RE = re.compile(r"\s*(?:--[^\n]*\n\s*)*(CREATE|ALTER|COMMENT|GRANT|REVOKE)\b", re.IGNORECASE)


class DriftError(PgshiftError):
    """No comparison was made: exit 2, so that a CI gate never reads "could not tell" as "drifted" (1)."""

    code = "drift-failed"
    exit_code = 2


class DatabaseDriftedError(PgshiftError):
    """`migrate --check-drift` found drift and applied nothing: a migration written against the schema the
    files describe may fail, or do something else, on the schema the database really has."""

    code = "database-drifted"


@dataclass(frozen=True)
class DefinedIn:
    """The applied migration that last created or changed the object: where to look, and where to fix."""

    version: str
    path: Path
    span: Span

    def to_dict(self, root: Path | None = None) -> dict:
        return {"version": self.version, "path": relative_path(self.path, root), "line": self.span.start.line + 1,
                "column": self.span.start.column + 1}


@dataclass(frozen=True)
class DriftItem:
    """One object whose live definition is not what the applied migrations give.

    `change`: added (only in the live database: made by hand), removed (the migrations create it, the
    database lacks it) or changed (`attribute` differs: `expected` is the migrations', `live` the database's).
    """

    kind: str
    name: str
    change: str
    attribute: str | None = None
    expected: object = None
    live: object = None
    defined_in: DefinedIn | None = None

    @property
    def message(self) -> str:
        if self.change == ADDED:
            return f"{self.kind} {self.name} exists in the database but no applied migration creates it"
        if self.change == REMOVED:
            return f"{self.kind} {self.name} is missing from the database (the applied migrations create it)"
        if _long(self.expected) or _long(self.live):
            return f"{self.kind} {self.name}: {self.attribute} differs from what the applied migrations give"
        quote = self.attribute == "comment"
        return (f"{self.kind} {self.name}: {self.attribute} is {_show(self.live, quote)} in the database, "
                f"the applied migrations give {_show(self.expected, quote)}")

    @property
    def detail(self) -> list[str]:
        """For a long definition (a function body, a view), the lines that differ, as a unified diff."""
        if self.change != CHANGED or not (_long(self.expected) or _long(self.live)):
            return []
        lines = difflib.unified_diff(str(self.expected or "").splitlines(), str(self.live or "").splitlines(),
                                     "applied migrations", "database", n=1, lineterm="")
        return list(lines)

    def finding(self) -> Finding:
        """The item as a finding, placed on the statement that last defined the object where that is known."""
        return Finding(SCHEMA_DRIFT, Severity.ERROR, self.message,
                       self.defined_in.path if self.defined_in else None,
                       self.defined_in.span if self.defined_in else FILE_START,
                       help="someone changed the database by hand: put the change in a new migration, or undo it "
                            "(or add the name to drift_ignore if pgshift should not own it)")

    def to_dict(self, root: Path | None = None) -> dict:
        return {"kind": self.kind, "name": self.name, "change": self.change, "attribute": self.attribute,
                "expected": _plain(self.expected), "live": _plain(self.live), "message": self.message,
                "diff": self.detail,
                "defined_in": self.defined_in.to_dict(root) if self.defined_in else None}


@dataclass(frozen=True)
class DriftResult:
    items: tuple[DriftItem, ...]
    problems: tuple[Finding, ...]  # applied files missing or changed: the replay is not what was applied
    applied: tuple[str, ...]  # the versions replayed, oldest first
    ignored: int  # differences left out by drift_ignore
    scratch_server: str
    fallback_reason: str | None = None
    # Set when the replay ran on another PostgreSQL major version than the database's (the embedded one, as
    # the role may not create databases): PostgreSQL prints views and privileges differently across versions.
    version_warning: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    @property
    def findings(self) -> list[Finding]:
        return list(self.problems) + [item.finding() for item in self.items]

    def to_dict(self, root: Path | None = None) -> dict:
        return {"ok": not self.drifted, "drifted": self.drifted, "applied": list(self.applied),
                "ignored": self.ignored, "scratch_server": self.scratch_server,
                "fallback_reason": self.fallback_reason, "version_warning": self.version_warning,
                "drift": [item.to_dict(root) for item in self.items],
                "problems": [f.to_dict(root) for f in self.problems]}


# --------------------------------------------------------------------------------------------- the verb

def drift(settings: Settings) -> DriftResult:
    """Compare the configured database with a replay of its applied migrations; the database is only read."""
    if not settings.migrations_dir.is_dir():  # nothing to replay: "no drift" would be a guess
        raise ConfigError(f"there is no migrations folder at {settings.migrations_dir}",
                          help="drift replays the applied migrations from their files: run it in the project "
                               "(-C DIR), or set migrations_dir")
    files = {f.version: f for f in migration_files.discover(settings.migrations_dir)}  # before connecting
    target = db.resolve_target(settings)
    live_conn = db.connect(target)
    try:
        rows = tracking.read_applied(live_conn, settings)
        replay, problems = _files_to_replay([row for row in rows if row.state == APPLIED], files)
        problems += [_not_replayed(row, files.get(row.version)) for row in rows if row.state != APPLIED]
        live = read_schema(live_conn, tracking_table=settings.tracking_table)
        expected, where, why, scratch_version = _replayed_schema(settings, live_conn, target, replay)
        live_version = db.server_version(live_conn)
        warning = _version_warning(live_version, scratch_version)
    except psycopg.Error as exc:
        raise DriftError(f"drift stopped: {db.redact(str(exc).strip())}",
                         help="check that the role may read the catalog and create and drop databases") from exc
    finally:
        live_conn.close()
    if live_version < MAINTAIN_SINCE <= scratch_version:
        expected, live = _without_maintain(expected), _without_maintain(live)
    items, ignored = _items(diff_schemas(expected, live), expected, live, replay, settings.drift_ignore)
    return DriftResult(tuple(items), tuple(problems), tuple(m.version for m in replay), ignored, where, why,
                       warning)


# PostgreSQL 17 added the MAINTAIN privilege (`m` in an aclitem), granted to owners by default: a replay on 17+
# of a database on 15 or 16 would otherwise call every table's privileges drift.
MAINTAIN_SINCE = 170000
_MAINTAIN_IN_ACLITEM = re.compile(r"(?<==)([A-Za-z*]*)(?=/)")


def _without_maintain(value):
    """`value` (a Schema, or any part of one) with MAINTAIN taken out of every `privileges` text."""
    if hasattr(value, "__dataclass_fields__"):
        changes = {}
        for name in value.__dataclass_fields__:
            old = getattr(value, name)
            new = (_MAINTAIN_IN_ACLITEM.sub(lambda m: re.sub(r"m\*?", "", m.group(1)), old)
                   if name == "privileges" and isinstance(old, str) else _without_maintain(old))
            if new is not old:
                changes[name] = new
        return replace(value, **changes) if changes else value
    if isinstance(value, (tuple, list)):
        items = [_without_maintain(v) for v in value]
        return type(value)(items) if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        items = {k: _without_maintain(v) for k, v in value.items()}
        return items if any(items[k] is not value[k] for k in value) else value
    return value


def _version_warning(live: int, scratch: int) -> str | None:
    if live // 10000 == scratch // 10000:
        return None
    return (f"the replay ran on PostgreSQL {scratch // 10000} and the database is PostgreSQL {live // 10000}: "
            "what PostgreSQL prints differently across versions (view definitions, privileges) may show as drift; "
            "grant the role CREATEDB so that the replay runs on the database's own server")


def refuse_if_drifted(settings: Settings) -> DriftResult:
    """The gate before `migrate`: the drift result when there is none, else DatabaseDriftedError with each item."""
    result = drift(settings)
    if result.drifted:
        raise DatabaseDriftedError(
            f"the database has drifted from its applied migrations ({len(result.items)} difference(s)); "
            "nothing was applied", findings=[replace(item.finding(), help=None) for item in result.items],
            help="run 'pgshift drift' for the details; put each change in a new migration or undo it, then migrate"
                 + (f" (note: {result.version_warning})" if result.version_warning else ""))
    return result


def _files_to_replay(rows, files: dict[str, MigrationFile]) -> tuple[list[MigrationFile], list[Finding]]:
    """The file of each applied row, as on disk; a missing or edited file is a problem the result names."""
    replay: list[MigrationFile] = []
    problems: list[Finding] = []
    for row in rows:
        migration = files.get(row.version)
        if migration is None:
            problems.append(applied_file_missing(row.version))
            continue
        broken = [f for f in migration.findings if f.severity is Severity.ERROR]
        if broken:
            raise DriftError(f"{migration.name} has format errors; drift needs every applied file to replay it",
                             findings=broken, help="fix the file first ('pgshift check' lists the problems)")
        if row.checksum != migration.checksum:
            problems.append(applied_file_changed(row.version, migration.path, row.applied_at))
        replay.append(migration)
    return replay, problems


def _not_replayed(row, migration: MigrationFile | None) -> Finding:
    """A run recorded as failed (or still running) is not replayed, yet what it ran before it stopped is in
    the database (a no-transaction migration's earlier statements): that shows as drift, and this says why."""
    return Finding("migration-failed", Severity.WARNING,
                   f"{row.version} is recorded as {row.state}, so it was not replayed: what it ran before it stopped "
                   "shows as drift", migration.path if migration else None,
                   help=f"fix it and run 'pgshift migrate' again, or clear the record with 'pgshift repair {row.version}'")


def _replayed_schema(settings: Settings, live: psycopg.Connection, target: db.Target,
                     replay: list[MigrationFile]) -> tuple[Schema, str, str | None, int]:
    """The schema the applied migrations give, read from a scratch database dropped afterwards."""
    admin, fallback = live, None
    if target.embedded:
        fallback = verify._Fallback.no_database()
    elif any(environment.read_only_state(live)):  # a standby, or default_transaction_read_only: CREATE DATABASE would be refused
        fallback = verify._Fallback(f"{target.display} is read-only",
                                    "run drift against the primary, or with a role that may create databases there")
        admin = None
    elif not verify._may_create_database(live):
        fallback = verify._Fallback.no_createdb(verify._current_user(live), target.display)
        admin = None
    with verify._server_for_scratch(settings, admin, target if admin is not None else None) as (conn, dsn, where):
        if fallback is not None:
            fallback = replace(fallback, where=where)
        scratch = verify._Scratch(conn, dsn)
        try:
            for migration in replay:
                failure = verify._apply(scratch.conn, migration, verify.FORWARD, fallback)
                if failure:
                    raise DriftError(f"cannot replay the applied migrations: {failure.message}",
                                     findings=failure.findings,
                                     help="drift compares with what the applied files give; this one does not run "
                                          "on an empty database any more")
            schema = read_schema(scratch.conn, tracking_table=settings.tracking_table)
            version = db.server_version(scratch.conn)
        finally:
            scratch.close()
    return schema, where, fallback.why if fallback is not None and not target.embedded else None, version


# --------------------------------------------------------------------------------------------- the comparison

def _items(differences: list[Difference], expected: Schema, live: Schema, replay: list[MigrationFile],
           ignore: tuple[str, ...]) -> tuple[list[DriftItem], int]:
    items, ignored = [], 0
    finder = _Definitions(replay, expected, live)
    # A table made (or dropped) by hand is one item, not one more for each of its columns, indexes, ...
    whole = {(d.name, d.change) for d in differences if d.kind in _RELATION_KINDS and d.change != "changed"}
    for d in differences:
        if d.white_space_only:  # a function body re-indented: the same function
            continue
        if d.kind not in _RELATION_KINDS and (finder.relation(d), d.change) in whole:
            continue
        names = _names(d) + ([owner] if d.kind == "index" and (owner := finder.relation(d)) else [])
        if any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in ignore):
            ignored += 1
            continue
        change = {"added": ADDED, "removed": REMOVED}.get(d.change, CHANGED)
        items.append(DriftItem(d.kind, d.name, change, d.attribute, d.before, d.after, finder.last(d)))
    return items, ignored


def _names(d: Difference) -> list[str]:
    """The schema-qualified names a drift_ignore pattern is matched against: the object's and its owner's."""
    names = [d.name]
    if " on " in d.name:  # "orders_pkey on public.orders": also public.orders.orders_pkey and public.orders
        own, table = d.name.split(" on ", 1)
        names += [f"{table}.{own}", table]
    elif d.kind == "column":
        names.append(d.name.rsplit(".", 1)[0])
    elif "(" in d.name:  # a function's signature: also its plain name
        names.append(d.name.split("(", 1)[0])
    return names


class _Definitions:
    """Which applied migration last created or changed an object: relations.py for tables, views and sequences
    (and what hangs on them), else the last CREATE, ALTER, COMMENT or GRANT statement that names it."""

    def __init__(self, replay: list[MigrationFile], expected: Schema, live: Schema) -> None:
        self.replay = replay
        self.index_tables = {f"{t.schema}.{i.name}": t.qualified_name
                             for s in (expected, live) for t in (*s.tables, *s.views) for i in t.indexes}
        self._refs: list[relations.RelationRef] | None = None

    @property
    def refs(self) -> list[relations.RelationRef]:
        if self._refs is None:
            self._refs = [r for m in self.replay for r in relations.relation_refs(m)
                          if r.role in (relations.CREATES, relations.ALTERS) and not r.in_rollback]
        return self._refs

    def last(self, d: Difference) -> DefinedIn | None:
        if d.kind == "index":  # its own CREATE INDEX, rather than the last statement that changed its table
            found = self._by_statement(d)
            if found is not None:
                return found
        relation = self.relation(d)
        if relation is not None:
            schema, _, name = relation.partition(".")
            refs = [r for r in self.refs if r.relation == relations.Relation(schema, name)
                    and (d.kind == "index" or not self._is_index_statement(r))]
            if refs:
                return DefinedIn(refs[-1].version, refs[-1].path, refs[-1].span)
        return self._by_statement(d)

    def _is_index_statement(self, ref: relations.RelationRef) -> bool:
        """A CREATE INDEX names its table, but defines none of the table's columns, defaults or constraints."""
        migration = next(m for m in self.replay if m.path == ref.path)
        offset = LineIndex(migration.text).offset(ref.span.start)
        return any(s.kind == "IndexStmt" and s.start <= offset <= s.end
                   for s in analyse(migration.forward_sql).statements)

    def relation(self, d: Difference) -> str | None:
        if " on " in d.name:
            return d.name.split(" on ", 1)[1]
        if d.kind == "column":
            return d.name.rsplit(".", 1)[0]
        if d.kind == "index":
            return self.index_tables.get(d.name)
        return d.name if d.kind in _RELATION_KINDS else None

    def _by_statement(self, d: Difference) -> DefinedIn | None:
        bare = d.name.split("(", 1)[0].split(" on ", 1)[0].rsplit(".", 1)[-1]
        word = re.compile(rf'(?<![\w$"]){re.escape(bare)}(?![\w$"])|"{re.escape(bare)}"', re.IGNORECASE)
        found = None
        for migration in self.replay:
            sql = migration.forward_sql
            for statement in analyse(sql).statements:
                text = sql[statement.start:statement.end]
                if _DEFINING_RE.match(text) and word.search(text):
                    found = (migration, statement)
        if found is None:
            return None
        migration, statement = found
        return DefinedIn(migration.version, migration.path,
                         LineIndex(migration.text).span(statement.start, statement.end))


# --------------------------------------------------------------------------------------------- rendering

def render_markdown(result: DriftResult, root: Path | None = None) -> str:
    """A report for a pull request or a CI summary: one table row per drifted object."""
    lines = ["# Schema drift", ""]
    if not result.drifted:
        lines.append(f"No drift: the database matches its {len(result.applied)} applied migration(s).")
    else:
        lines += [f"{len(result.items)} difference(s) between the database and its {len(result.applied)} applied "
                  "migration(s).", "", "| Object | Name | Drift | Last defined in |", "|---|---|---|---|"]
        for item in result.items:
            where = (f"`{relative_path(item.defined_in.path, root)}:{item.defined_in.span.start.line + 1}`"
                     if item.defined_in else "")
            what = {ADDED: "added by hand", REMOVED: "missing"}.get(item.change, f"{item.attribute} changed")
            name = item.name.replace("|", "\\|")  # a quoted name may hold a pipe, which would end the cell
            lines.append(f"| {item.kind} | `{name}` | {what} | {where} |")
    if result.problems:
        lines += ["", "Applied files that are not what was applied:", ""]
        lines += [f"- {f.render(root).splitlines()[0]}" for f in result.problems]
    if result.ignored:
        lines += ["", f"{result.ignored} difference(s) ignored by drift_ignore."]
    return "\n".join(lines) + "\n"


def _long(value: object) -> bool:
    return isinstance(value, str) and (len(value) > 100 or "\n" in value)


def _show(value: object, quote: bool = False) -> str:
    if value is None:
        return "none"
    if quote and isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
