"""The engine's one error family: every failure a user can meet, with what and where."""

from __future__ import annotations

from engine.analysis.findings import Finding


class PgshiftError(Exception):
    """Base of every error the engine raises on purpose. `code` is a stable kebab-case id.

    `findings` carry file:line:col detail where the error has a place in a file; `help` is the remedy.
    """

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, help: str | None = None, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help
        self.findings = list(findings or [])


class UsageError(PgshiftError):
    code = "usage"
    exit_code = 2


class ConfigError(PgshiftError):
    code = "config"
    exit_code = 2


class DatabaseUnavailableError(PgshiftError):
    """The server could not be reached or refused us; the message never contains a password.

    `reason` tells the cases apart for whoever labels them (the editor's CodeLens): "unreachable" (refused, no
    such host), "auth-failed" (the server answered and refused the login), "rejected" (it answered no for another
    reason: no such database, too many connections) or "not-answering" (connect timeout).
    """

    code = "database-unavailable"
    exit_code = 2

    def __init__(self, message: str, *, reason: str = "unreachable", seconds: float | None = None,
                 **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
        self.seconds = seconds  # how long it waited, for "not-answering"


class MigrationFileError(PgshiftError):
    """One or more migration files break the format; nothing was run."""

    code = "migration-file"


class ChecksumMismatchError(PgshiftError):
    """An applied migration's file changed, or went missing; `migrate` refuses to start."""

    code = "applied-file-changed"


class OutOfOrderError(PgshiftError):
    code = "out-of-order"


class LintFailedError(PgshiftError):
    """Error-level findings stop `migrate` before anything runs."""

    code = "check-failed"


class MigrationFailedError(PgshiftError):
    """PostgreSQL rejected a migration. `applied` lists what was committed before it."""

    code = "migration-failed"

    def __init__(self, message: str, *, version: str, applied: list[str] | None = None,
                 statements_run: int | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.version = version
        self.applied = list(applied or [])
        self.statements_run = statements_run


class RollbackError(PgshiftError):
    code = "rollback-failed"


class ConfirmationRequiredError(PgshiftError):
    """A destructive operation was asked for without the explicit confirmation it needs."""

    code = "confirmation-required"


class LockTimeoutError(PgshiftError):
    code = "lock-timeout"


class ConnectionLostError(PgshiftError):
    """The server went away mid-operation (crash, restart, network); `reason` is the server's or libpq's word."""

    code = "connection-lost"
    exit_code = 2

    def __init__(self, message: str, *, reason: str = "", version: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason or message
        self.version = version


class ReadOnlyDatabaseError(PgshiftError):
    """The database accepts only reads (a hot standby, or default_transaction_read_only); nothing was changed."""

    code = "database-read-only"
    exit_code = 2


class FileSystemError(PgshiftError):
    """The operating system refused a file or folder pgshift needs (permissions, a full disk, I/O)."""

    code = "file-system"
    exit_code = 2

    @classmethod
    def from_os_error(cls, error: OSError) -> "FileSystemError":
        where = f" {error.filename}" if error.filename else ""
        return cls(f"cannot use{where}: {error.strerror or error}",
                   help="check that the user running pgshift may read (and, for this command, write) it")
