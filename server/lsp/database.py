"""What the database knows, read in the background: tracking rows cached and re-read every few seconds.

Reads run on their own worker thread under a timeout, so a slow or dead server never blocks the event
loop nor the analysis threads. The user hears once that the database is unreachable, and once that it
is back; in between the file checks go on without the database's.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from lsprotocol import types

from engine.config import Settings
from engine.errors import DatabaseUnavailableError, PgshiftError
from engine.redaction import redact
from server.lsp.analysis import DatabaseView

if TYPE_CHECKING:
    from engine.database.tracking import AppliedMigration
    from server.lsp.project import Project
    from server.lsp.server import PgshiftLanguageServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseStatus:
    """Where the last read of the database got, told apart for the CodeLens: a database that does not answer
    is not one that is not configured, and a refused login is neither."""

    kind: str  # "reading" | "ok" | "not-configured" | "not-answering" | "unreachable" | "auth-failed" | ...
    detail: str = ""

    def title(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return {
            "reading": "pgshift: reading the database…",
            "not-configured": "pgshift: no database configured",
            "not-answering": f"pgshift: database not answering{detail}",
            "unreachable": f"pgshift: database unreachable{detail}",
            "auth-failed": f"pgshift: database refused the login{detail}",
            "rejected": f"pgshift: database refused the connection{detail}",
        }.get(self.kind, f"pgshift: database state unknown{detail}")


def _short(reason: str) -> str:
    """The gist of a connection error for a one-line label: libpq's last "…: why", without the address."""
    reason = reason.strip().splitlines()[0] if reason.strip() else reason
    reason = reason.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip()
    return reason if len(reason) <= 70 else reason[:67] + "..."


def poll_seconds() -> float:
    """How often the tracking table is re-read, so `pgshift migrate` run in a terminal shows up."""
    return float(os.environ.get("PGSHIFT_LSP_POLL_SECONDS", "3"))


def timeout_seconds() -> float:
    return float(os.environ.get("PGSHIFT_LSP_DB_TIMEOUT_SECONDS", "5"))


def read_state(settings: Settings, known: str | None) -> tuple[str | None, list[AppliedMigration] | None]:
    """One short session (in a worker thread): the tracking table's fingerprint, and its rows only when the
    fingerprint differs from `known` (None for the rows means "unchanged").

    The engine's database modules (psycopg) are imported here, on first use, so that `initialize` is answered
    without waiting for them.
    """
    from engine.database import db, tracking

    with db.session(settings) as (conn, _target):
        fingerprint = tracking.fingerprint(conn, settings)
        if fingerprint is not None and fingerprint == known:
            return fingerprint, None
        if fingerprint == "absent":
            return fingerprint, []
        rows = tracking.read_applied(conn, settings)
        if fingerprint is None:  # read_applied brought an older pgshift's table up to date: digest it now
            fingerprint = tracking.fingerprint(conn, settings)
        return fingerprint, rows


class DatabaseWatch:
    """One project's cached `DatabaseView` (None while unknown or unreachable) and the loop that keeps it fresh."""

    def __init__(self, ls: "PgshiftLanguageServer", project: Callable[[], Project],
                 on_change: Callable[[], None]) -> None:
        self.ls = ls
        self._project = project  # read at each poll: a reload replaces the project's settings
        self.view: DatabaseView | None = None
        self.reachable: bool | None = None
        self.status = DatabaseStatus("reading")
        self._on_change = on_change
        self._fingerprint: str | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgshift-db")
        self._inflight: asyncio.Future | None = None
        self._wake: asyncio.Event | None = None
        self._said_no_database = False

    def settings_changed(self) -> None:
        """Another database (or tracking table) may be configured now: re-read and report, whatever it says."""
        self._fingerprint = None
        self._said_no_database = False
        self.poke()

    def poke(self) -> None:
        """Re-read soon (files changed, a command ran)."""
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - one bad poll must not end polling for the rest of the session
                log.exception("reading the database state failed")
            try:
                await asyncio.wait_for(self._wake.wait(), poll_seconds())
            except TimeoutError:
                pass
            self._wake.clear()

    async def refresh(self) -> None:
        """Read the tracking rows once; report a change of view to `on_change`."""
        project = self._project()
        if not project.has_database:
            if not self._said_no_database:
                self._said_no_database = True
                self.ls.window_log_message(types.LogMessageParams(
                    type=types.MessageType.Info,
                    message="pgshift: no database configured (and the embedded one is not running): showing file "
                            "checks only. Set DATABASE_URL or [tool.pgshift] database_url for applied/pending state."))
            self._set_status(DatabaseStatus("not-configured"))
            self._set(None)
            return
        # A read already under way saw the state from before whatever made us refresh now (a command that
        # just migrated): wait for it, then read again. One that hangs is left alone: don't pile up threads
        # behind a dead server.
        while self._inflight is not None and not self._inflight.done():
            done, _ = await asyncio.wait({self._inflight}, timeout=timeout_seconds())
            if not done:
                return
        loop = asyncio.get_running_loop()
        known = self._fingerprint if self.view is not None else None
        self._inflight = loop.run_in_executor(self._executor, read_state, project.settings, known)
        try:
            fingerprint, rows = await asyncio.wait_for(asyncio.shield(self._inflight), timeout_seconds())
        except TimeoutError:
            self._unreachable(f"no answer within {timeout_seconds():g}s",
                              DatabaseStatus("not-answering", f"after {timeout_seconds():g} s"))
            return
        except DatabaseUnavailableError as error:
            detail = (f"after {error.seconds or timeout_seconds():g} s" if error.reason == "not-answering"
                      else _short(redact(error.message)))
            status = DatabaseStatus(error.reason, detail)
            self._unreachable(error.message, status)
            return
        except PgshiftError as error:
            self._unreachable(error.message, DatabaseStatus("error", _short(redact(error.message))))
            return
        except Exception as error:  # noqa: BLE001 - any driver error means "unknown", never a crash
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            self._unreachable(reason, DatabaseStatus("error", _short(redact(reason))))
            return
        if self.reachable is False:
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info, message="pgshift: the database is reachable again"))
        self.reachable = True
        self.status = DatabaseStatus("ok")
        if rows is not None:
            self._set(rows, fingerprint)

    def _unreachable(self, reason: str, status: DatabaseStatus) -> None:
        reason = redact(reason)
        self._set_status(status)
        if self.reachable is not False:
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"pgshift: cannot read migration state from the database ({reason}). File checks go on; "
                        "applied/pending checks come back when the database does."))
        else:
            log.debug("database still unreachable: %s", reason)
        self.reachable = False
        self._set(None)

    def _set_status(self, status: DatabaseStatus) -> None:
        """A new label for the lenses: redraw them (only them: the diagnostics do not depend on the label)."""
        changed, self.status = status != self.status, status
        if changed and self.view is None:
            self.ls.refresh_code_lenses()

    def _set(self, rows: list[AppliedMigration] | None, fingerprint: str | None = None) -> None:
        if rows is None and self.view is None:
            return
        if rows is not None and self.view is not None and fingerprint is not None and fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        self.view = None if rows is None else DatabaseView({r.version: r for r in rows})
        self._on_change()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
