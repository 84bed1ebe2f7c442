"""A fleet run's ledger, `.pgshift/fleet/RUN.json`: which targets the run finished, so that `--resume RUN`
retries only the failed and unfinished ones (also those a killed process never reached)."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from engine.fleet.run import TargetOutcome
    from engine.fleet.targets import FleetTarget

RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
WAITING = "waiting"


@dataclass
class Ledger:
    """One run's per-target states on disk, rewritten whole (atomically) as each target ends."""

    path: Path
    run_id: str
    pattern: str
    entries: dict[str, dict] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def new(cls, folder: Path, pattern: str) -> "Ledger":
        run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
        return cls(_runs_folder(folder) / f"{run_id}.json", run_id, pattern)

    @classmethod
    def open(cls, folder: Path, run_id: str) -> "Ledger":
        if not RUN_ID_RE.fullmatch(run_id):
            raise UsageError(f"--resume {run_id!r}: not a run id (they look like 20261201-231500-ab12)")
        path = _runs_folder(folder) / f"{run_id}.json"
        if not path.is_file():
            known = sorted(p.stem for p in path.parent.glob("*.json"))[-5:]
            raise UsageError(f"--resume {run_id}: no such fleet run in {path.parent}",
                             help=f"recent runs: {', '.join(known)}" if known else "no fleet run was recorded here")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, run_id, str(data["pattern"]), {str(k): dict(v) for k, v in data["targets"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(f"{path}: the fleet ledger is damaged ({error})",
                              help="delete it and run `pgshift migrate --target …` again") from None

    def unfinished(self, targets: list["FleetTarget"]) -> list["FleetTarget"]:
        """The run's targets that are not done: failed, skipped, or never reached."""
        return [t for t in targets if t.name in self.entries and self.entries[t.name].get("state") != "done"]

    def begin(self, targets: list["FleetTarget"]) -> None:
        with self._lock:
            for target in targets:
                self.entries[target.name] = {"state": WAITING}
            self._write()

    def record(self, outcome: "TargetOutcome") -> None:
        with self._lock:
            self.entries[outcome.name] = {"state": outcome.state, "error": outcome.error, "code": outcome.code,
                                          "applied": list(outcome.applied), "milliseconds": outcome.milliseconds,
                                          "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_suffix(".json.tmp")
        draft.write_text(json.dumps({"run": self.run_id, "pattern": self.pattern, "targets": self.entries},
                                    indent=2) + "\n", encoding="utf-8")
        os.replace(draft, self.path)


def _runs_folder(folder: Path) -> Path:
    """`.pgshift/fleet`, with the `.gitignore` that keeps `.pgshift/` out of the repository."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return folder / "fleet"
