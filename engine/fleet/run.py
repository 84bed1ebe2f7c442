"""`migrate --target`: an ordinary `migrate` per target, several at a time, with canaries and a failure policy.

Each target is `engine.database.runner.migrate` on settings that point at that database, so every guarantee of one
database (its lock, its tracking table, one transaction per file) holds per target. Threads, not processes:
the work is waiting on servers, and each thread opens its own connections.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg

from engine.config import Settings
from engine.errors import MigrationFailedError, PgshiftError
from engine.analysis.findings import Finding
from engine.fleet.ledger import Ledger
from engine.fleet.targets import FleetTarget
from engine.redaction import redact

DONE, FAILED, SKIPPED = "done", "failed", "skipped"
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class TargetOutcome:
    """What happened on one target: done, failed (with the error) or skipped (never started, and why)."""

    name: str
    database: str
    state: str
    applied: tuple[str, ...] = ()
    error: str | None = None
    code: str | None = None
    failed_version: str | None = None
    milliseconds: int = 0
    findings: tuple[Finding, ...] = ()

    def to_dict(self, root: Path | None = None) -> dict:
        return {"target": self.name, "database": self.database, "state": self.state, "applied": list(self.applied),
                "error": self.error, "code": self.code, "failed_version": self.failed_version,
                "milliseconds": self.milliseconds, "findings": [f.to_dict(root) for f in self.findings]}


@dataclass
class FleetResult:
    """Every target's outcome, in target order."""

    outcomes: list[TargetOutcome] = field(default_factory=list)
    run_id: str | None = None  # the ledger's run, for `--resume`

    def by_state(self, state: str) -> list[TargetOutcome]:
        return [o for o in self.outcomes if o.state == state]

    @property
    def ok(self) -> bool:
        return not self.by_state(FAILED) and not self.by_state(SKIPPED)

    def summary(self) -> str:
        parts = [f"{len(self.by_state(s))} {s}" for s in (DONE, FAILED, SKIPPED) if self.by_state(s)]
        return f"{', '.join(parts) or 'nothing'} ({len(self.outcomes)} target(s))"

    def to_dict(self, root: Path | None = None) -> dict:
        return {"ok": self.ok, "run": self.run_id, "summary": self.summary(), "targets": [o.to_dict(root) for o in self.outcomes]}


OnOutcome = Callable[[TargetOutcome], None]


def migrate_fleet(settings: Settings, targets: list[FleetTarget], *, concurrency: int = DEFAULT_CONCURRENCY,
                  continue_on_error: bool = False, canary: int = 0, on_outcome: OnOutcome | None = None,
                  ledger: Ledger | None = None, **migrate_options) -> FleetResult:
    """Migrate each target; the first `canary` one by one (any failure stops the run before the rest), then the
    others `concurrency` at a time. A failure stops new targets from starting unless `continue_on_error`;
    targets already running finish. `on_outcome` is called once per target as it ends, one call at a time;
    a `ledger` records each outcome as it happens."""
    if concurrency < 1:
        from engine.errors import UsageError
        raise UsageError(f"--concurrency {concurrency}: must be 1 or more")
    outcomes: dict[str, TargetOutcome] = {}
    report_lock = threading.Lock()
    stop: list[str] = []  # why new targets no longer start; set once

    def record(outcome: TargetOutcome) -> None:
        with report_lock:
            outcomes[outcome.name] = outcome
            if ledger:
                ledger.record(outcome)
            if on_outcome:
                on_outcome(outcome)

    def run_one(target: FleetTarget, *, stop_reason: str | None) -> None:
        if stop:
            record(TargetOutcome(target.name, _display(target), SKIPPED, error=f"not started: {stop[0]}"))
            return
        outcome = _migrate_target(settings, target, migrate_options)
        if outcome.state == FAILED and stop_reason and not stop:
            stop.append(stop_reason.format(name=target.name))
        record(outcome)

    if ledger:
        ledger.begin(targets)
    canaries, rest = targets[:max(canary, 0)], targets[max(canary, 0):]
    for target in canaries:
        run_one(target, stop_reason="canary {name} failed")
    policy = None if continue_on_error else "{name} failed (pass --continue-on-error to go on)"
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pgshift-fleet") as pool:
        try:
            for future in [pool.submit(run_one, target, stop_reason=policy) for target in rest]:
                future.result()
        except BaseException:  # Ctrl-C, a ledger that cannot be written: running targets finish, no more start
            stop.append("interrupted")
            raise
    return FleetResult([outcomes[t.name] for t in targets], ledger.run_id if ledger else None)


def _display(target: FleetTarget) -> str:
    from engine.database.db import display_url
    return display_url(target.database_url)


def _migrate_target(settings: Settings, target: FleetTarget, options: dict) -> TargetOutcome:
    """One ordinary `migrate`, its error kept as data: one target's failure is the fleet's report, not a crash."""
    from engine.database.runner import migrate
    started = time.monotonic()
    own = target.settings_for(settings)
    try:
        result = migrate(own, **options)
    except psycopg.Error as error:  # one the engine has no word for yet: still this target's failure only
        message = redact(str(error).strip() or type(error).__name__)
        return TargetOutcome(target.name, _display(target), FAILED, error=message, code="migration-failed",
                             milliseconds=_since(started))
    except PgshiftError as error:
        applied = error.applied if isinstance(error, MigrationFailedError) else []
        version = error.version if isinstance(error, MigrationFailedError) else None
        return TargetOutcome(target.name, _display(target), FAILED, tuple(applied), redact(error.message), error.code,
                             version, _since(started), tuple(error.findings))
    return TargetOutcome(target.name, _display(target), DONE, tuple(a.version for a in result.applied),
                         milliseconds=_since(started))


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
