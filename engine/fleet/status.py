"""`list --target`: the status matrix, one row per target built from an ordinary `list`, and a fleet summary."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from engine.config import Settings
from engine.errors import PgshiftError
from engine.fleet.targets import FleetTarget
from engine.redaction import redact

NAMED_AT_MOST = 3  # the summary names the targets behind when there are this few


@dataclass(frozen=True)
class TargetStatus:
    """One target's row: counts by state; `error` when its state could not be read (unreachable, …)."""

    name: str
    database: str
    applied: int = 0
    newest: str | None = None
    pending: int = 0
    changed: int = 0  # applied files that changed or went missing: `migrate` refuses to run there
    failed: int = 0  # no-transaction migrations stopped part-way, or interrupted
    failed_version: str | None = None
    error: str | None = None

    @property
    def current(self) -> bool:
        return not (self.error or self.pending or self.changed or self.failed)

    def describe(self) -> str:
        if self.error:
            return f"ERROR: {self.error}"
        if self.failed:
            return f"FAILED at {self.failed_version}"
        if self.changed:
            return "CHANGED"
        return f"pending {self.pending}" if self.pending else "current"


@dataclass(frozen=True)
class FleetStatus:
    rows: tuple[TargetStatus, ...]

    @property
    def all_current(self) -> bool:
        return all(r.current for r in self.rows)

    def summary(self) -> str:
        """"8 current, 1 pending 3 (tenants/t7), 1 failed at V (tenants/t2)": how many targets stand where."""
        groups: Counter[str] = Counter()
        names: dict[str, list[str]] = {}
        for row in self.rows:
            if row.current:
                key = "current"
            elif row.error:
                key = "unreachable or unreadable"
            elif row.failed:
                key = f"failed at {row.failed_version}"
            elif row.changed:
                key = "changed"
            else:
                key = f"pending {row.pending}"
            groups[key] += 1
            names.setdefault(key, []).append(row.name)
        order = sorted(groups, key=lambda k: (k != "current", -groups[k], k))
        return ", ".join(f"{groups[k]} {k}" + (f" ({', '.join(names[k])})"
                                                if k != "current" and len(names[k]) <= NAMED_AT_MOST else "")
                         for k in order) or "no targets"

    def to_dict(self) -> dict:
        return {"ok": True, "all_current": self.all_current, "summary": self.summary(),
                "targets": [asdict(r) | {"current": r.current} for r in self.rows]}


def fleet_status(settings: Settings, targets: list[FleetTarget], *, concurrency: int = 8) -> FleetStatus:
    """Every target's migration states, read (never written) `concurrency` at a time."""
    from engine.analysis import files as migration_files
    files = migration_files.discover(settings.migrations_dir)  # once for the fleet: the same folder for all
    with ThreadPoolExecutor(max_workers=max(concurrency, 1), thread_name_prefix="pgshift-list") as pool:
        return FleetStatus(tuple(pool.map(lambda t: _status(settings, t, files), targets)))


def _status(settings: Settings, target: FleetTarget, files: list) -> TargetStatus:
    from engine.database.db import display_url
    from engine.database.status import State, list_migrations
    own = target.settings_for(settings)
    database = display_url(target.database_url)
    try:
        report = list_migrations(own, files=files)
    except PgshiftError as error:
        return TargetStatus(target.name, database, error=redact(error.message))
    applied = report.by_state(State.APPLIED, State.CHANGED, State.MISSING)
    failed = report.by_state(State.FAILED, State.RUNNING)
    return TargetStatus(target.name, database, applied=len(applied),
                        newest=max((m.version for m in applied), default=None), pending=len(report.pending),
                        changed=len(report.by_state(State.CHANGED, State.MISSING)), failed=len(failed),
                        failed_version=failed[0].version if failed else None)
