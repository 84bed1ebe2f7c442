"""What every command gets: the settings (loaded once, lazily), output helpers and confirmation."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from engine.config import Settings, load_settings
from engine.errors import ConfirmationRequiredError
from engine.findings import Finding


@dataclass
class CliContext:
    """Per-invocation state. Human text goes to stdout, diagnostics to stderr, `--json` replaces stdout."""

    cwd: Path
    database_url: str | None
    migrations_dir: str | None
    json_output: bool
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.cwd, database_url=self.database_url,
                                           migrations_dir=self.migrations_dir)
        return self._settings

    @property
    def root(self) -> Path:
        return self.settings.project_root

    def say(self, text: str = "") -> None:
        """Human progress and results; silent under --json so that stdout stays one JSON document."""
        if not self.json_output:
            print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """Side remarks (which database, warnings) that must not pollute stdout."""
        print(text, file=self.stderr, flush=True)

    def emit_json(self, data: Any) -> None:
        """Print `data` as the one JSON document under --json; a callable is only built when needed."""
        if self.json_output:
            json.dump(data() if callable(data) else data, self.stdout, indent=2, default=str)
            self.stdout.write("\n")
            self.stdout.flush()

    def show_findings(self, findings: list[Finding]) -> None:
        for finding in findings:
            print(finding.render(self.root), file=self.stderr)

    def confirm(self, question: str, *, assume_yes: bool, what: str) -> None:
        """Ask on a terminal, default no; without a terminal only `--yes` confirms. Raise when not confirmed."""
        if assume_yes:
            return
        if not self.stdin.isatty():
            raise ConfirmationRequiredError(
                f"{what} needs explicit confirmation and there is no terminal to ask on",
                help="run it in a terminal, or pass --yes after reviewing what it will do")
        print(f"{question} [y/N] ", end="", file=self.stderr, flush=True)
        answer = self.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise ConfirmationRequiredError(f"{what} cancelled: not confirmed", help=None)


Progress = Callable[[Any], None]
