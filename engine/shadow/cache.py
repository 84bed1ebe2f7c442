"""Shadow databases: the schema after migrations 1..k, replayed from the files and cached as templates.

A template per history prefix is named after the chain of checksums of the files in it
(`pgshift_shadow_<hash of checksums 1..k>`), so re-tracing finds it again at once and an edit to file i
changes the names of prefixes i.. only: earlier templates stay valid. A missing prefix is built from the
nearest cached one before it with CREATE DATABASE ... TEMPLATE, then the files in between are applied.
The templates live on the embedded PostgreSQL (or `shadow_database_url`); the user's database is never
used. Their number is bounded: the least recently used beyond MAX_TEMPLATES are dropped.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import conninfo, sql as pgsql

from engine.database import db, execution
from engine.analysis import sql as sql_parser
from engine.config import Settings
from engine.errors import PgshiftError
from engine.analysis.files import MigrationFile
from engine.analysis.findings import Finding, LineIndex, Severity
from engine.database.runner import SESSION_RESET

TEMPLATE_PREFIX = "pgshift_shadow_"
WORK_PREFIX = "pgshift_shadowwork_"
KEY_VERSION = "1"  # bump when what a template holds changes, so old templates are never reused
MAX_TEMPLATES = 20
CHECKPOINT_EVERY = 100  # a long replay also saves every 100th prefix, so an edit near the end replays little
_USED_COMMENT = "pgshift shadow; last used "
_RESET_STATEMENTS = len(sql_parser.parse(SESSION_RESET).statements)


class ShadowError(PgshiftError):
    """The shadow could not be built: an earlier migration fails, or the shadow server refuses."""

    code = "shadow-failed"


def chain_keys(files: list[MigrationFile]) -> list[str]:
    """`keys[k]` names the schema after files[:k]: a hash of their checksums in order (k = 0 is empty)."""
    digest = hashlib.sha256(KEY_VERSION.encode())
    keys = [digest.hexdigest()[:32]]
    for migration in files:
        digest.update(b"\n" + migration.checksum.encode())
        keys.append(digest.hexdigest()[:32])
    return keys


def template_name(key: str) -> str:
    return TEMPLATE_PREFIX + key


@dataclass
class ShadowServer:
    """An admin connection to the server that holds the shadow databases."""

    admin: psycopg.Connection
    dsn: str
    display: str

    @classmethod
    def open(cls, settings: Settings) -> "ShadowServer":
        if settings.shadow_database_url:
            target = db.Target(settings.shadow_database_url, "[tool.pgshift] shadow_database_url")
            display = target.display
        else:
            folder = settings.embedded_dir or settings.project_root / ".pgshift"
            target = db.Target(db.start_embedded(folder), str(folder / "pgdata"), embedded=True)
            display = f"embedded PostgreSQL in {folder / 'pgdata'}"
        return cls(db.connect(target), target.dsn, display)

    def close(self) -> None:
        self.admin.close()

    def connect(self, name: str, *, autocommit: bool) -> psycopg.Connection:
        try:
            return psycopg.connect(conninfo.make_conninfo(self.dsn, dbname=name), autocommit=autocommit,
                                   connect_timeout=db.CONNECT_TIMEOUT_SECONDS,
                                   application_name=db.APPLICATION_NAME + " shadow")
        except psycopg.Error as exc:
            raise ShadowError(f"cannot connect to the shadow database {name} on {self.display}: "
                              f"{db.redact(str(exc).strip())}") from None

    def exists(self, name: str) -> bool:
        return self.admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def create(self, name: str, template: str) -> None:
        """CREATE DATABASE name TEMPLATE template, waiting briefly while another session is connected to it."""
        for attempt in range(20):
            try:
                self.admin.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    pgsql.Identifier(name), pgsql.Identifier(template)))
                return
            except psycopg.errors.ObjectInUse:  # another pgshift is tracing in that template right now
                time.sleep(0.1 * (attempt + 1))
        raise ShadowError(f"the shadow template {template} stayed in use by another session",
                          help="try again when the other pgshift (trace, language server) is done")

    def drop(self, name: str) -> None:
        self.admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(name)))

    def touch(self, name: str) -> None:
        """Record the use in the database's comment: the cache's least-recently-used order, kept on the server."""
        self.admin.execute(pgsql.SQL("COMMENT ON DATABASE {} IS {}").format(
            pgsql.Identifier(name), pgsql.Literal(f"{_USED_COMMENT}{time.time():.6f}")))

    def templates(self) -> list[str]:
        """Cached templates, most recently used first."""
        rows = self.admin.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE left(datname, %s) = %s", (len(TEMPLATE_PREFIX), TEMPLATE_PREFIX)).fetchall()

        def used(comment: str | None) -> float:
            try:
                return float((comment or "").removeprefix(_USED_COMMENT))
            except ValueError:
                return 0.0
        return [name for name, comment in sorted(rows, key=lambda r: used(r[1]), reverse=True)]

    def prune(self, keep: int = MAX_TEMPLATES) -> list[str]:
        """Drop the least recently used templates beyond `keep`; one in use by another session stays."""
        dropped = []
        for name in self.templates()[keep:]:
            try:
                self.drop(name)
                dropped.append(name)
            except psycopg.errors.ObjectInUse:
                pass
        return dropped


def apply(conn: psycopg.Connection, migration: MigrationFile) -> Finding | None:
    """Apply a migration's forward SQL as `migrate` would (one transaction, or statement by statement)."""
    if migration.no_transaction:
        execution.run_script(conn, SESSION_RESET)
        for statement in sql_parser.parse(migration.forward_sql).statements:
            outcome = execution.run_script(conn, statement.text)
            if outcome.error is not None:
                execution.rollback_if_needed(conn)
                return _failed(migration, outcome,
                               execution.error_span(migration, outcome, statement.text, text_offset=statement.start))
        return None
    # One round trip per file: the session reset, BEGIN, the SQL and COMMIT in one message.
    prefix = SESSION_RESET + ";\nBEGIN;\n"
    outcome = execution.run_script(conn, prefix + migration.forward_sql + "\n;COMMIT")
    if outcome.error is None:
        return None
    execution.rollback_if_needed(conn)
    span = execution.error_span(migration, outcome, migration.forward_sql, prefix_length=len(prefix),
                                prefix_statements=_RESET_STATEMENTS + 1)
    return _failed(migration, outcome, span)


def _failed(migration: MigrationFile, outcome: execution.ScriptOutcome, span) -> Finding:
    assert outcome.error is not None
    return Finding("migration-failed", Severity.ERROR, execution.describe(outcome.error), migration.path, span)


@dataclass
class Replay:
    """A work database at prefix `k` of the history, advanced file by file; saved as templates on the way.

    `replayed` lists the versions applied here (not taken from a template): what the cache could not give.
    """

    server: ShadowServer
    files: list[MigrationFile]
    keys: list[str]
    k: int
    name: str
    conn: psycopg.Connection
    source: str
    replayed: list[str] = field(default_factory=list)
    checkpoint_every: int | None = CHECKPOINT_EVERY

    @classmethod
    def start(cls, server: ShadowServer, files: list[MigrationFile], keys: list[str], k: int, *,
              checkpoint_every: int | None = CHECKPOINT_EVERY) -> "Replay":
        """A work database at prefix k, copied from the nearest cached template at or before it."""
        cached = set(server.templates())
        base = next((j for j in range(k, -1, -1) if template_name(keys[j]) in cached), None)
        source = template_name(keys[base]) if base is not None else "template0"
        name = WORK_PREFIX + secrets.token_hex(6)
        server.create(name, source)
        try:
            if base is not None:
                server.touch(source)
            replay = cls(server, files, keys, -1 if base is None else base, name,
                         server.connect(name, autocommit=True), source, checkpoint_every=checkpoint_every)
            if base is None:  # template0 has no schema history at all: prefix 0 is the empty database
                replay.k = 0
            replay.advance_to(k)
            return replay
        except BaseException:
            server.admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                pgsql.Identifier(name)))
            raise

    def advance_to(self, k: int) -> None:
        """Apply files up to prefix k; every `checkpoint_every`-th prefix is saved on the way (a copy each)."""
        while self.k < k:
            migration = self.files[self.k]
            failure = apply(self.conn, migration)
            if failure is not None:
                raise ShadowError(f"cannot build the shadow: {migration.name} fails", findings=[failure],
                                  help="fix that migration first (the trace needs the schema it creates)")
            self.replayed.append(migration.version)
            self.k += 1
            if self.checkpoint_every and self.k % self.checkpoint_every == 0 and self.k < k:
                self.save()

    def save(self) -> str:
        """Keep the current prefix as a template (a copy; the work database goes on)."""
        name = template_name(self.keys[self.k])
        if not self.server.exists(name):
            self.conn.close()
            self.server.create(name, self.name)
            self.conn = self.server.connect(self.name, autocommit=True)
        self.server.touch(name)
        return name

    def finish(self) -> str:
        """The work database becomes the template of its prefix (a rename: free), or is dropped if one exists."""
        self.conn.close()
        name = template_name(self.keys[self.k])
        try:
            self.server.admin.execute(pgsql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                pgsql.Identifier(self.name), pgsql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:  # another pgshift built the same prefix meanwhile
            self.discard()
        self.server.touch(name)
        return name

    def discard(self) -> None:
        if not self.conn.closed:
            self.conn.close()
        self.server.admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            pgsql.Identifier(self.name)))


def build(settings: Settings, files: list[MigrationFile], *,
          checkpoint_every: int | None = None) -> tuple[str, list[str]]:
    """The template for the whole history (built or reused) and the versions that had to be replayed.

    No checkpoints by default: each costs a copy of the database, and this is the one-shot build.
    """
    server = ShadowServer.open(settings)
    try:
        keys = chain_keys(files)
        name = template_name(keys[-1])
        if server.exists(name):
            server.touch(name)
            return name, []
        replay = Replay.start(server, files, keys, len(files), checkpoint_every=checkpoint_every)
        done = replay.finish()
        server.prune()
        return done, replay.replayed
    finally:
        server.close()


def line_of(migration: MigrationFile, offset: int) -> int:
    return LineIndex(migration.text).position(offset).line + 1
