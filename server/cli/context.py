"""What every command gets: the settings (loaded once, lazily), output helpers and confirmation."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from engine.config import Settings, load_settings
from engine.errors import ConfirmationRequiredError
from engine.analysis.findings import Finding
from engine.redaction import Redactor
from server.cli.output import RedactingStream


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
    create_migrations_dir: bool = False  # `pgshift init` creates a configured folder that is not there yet

    def __post_init__(self) -> None:
        # The one place the CLI's output is produced: whatever is written to these is scrubbed of passwords.
        self.stdout = RedactingStream(self.stdout, lambda: self.redactor)
        self.stderr = RedactingStream(self.stderr, lambda: self.redactor)

    @property
    def redactor(self) -> Redactor:
        """The passwords of the URL given on the command line, the configured one and the environment's."""
        settings = self._settings
        return Redactor.of((self.database_url, settings.database_url if settings else None,
                            settings.shadow_database_url if settings else None))

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.cwd, database_url=self.database_url,
                                           migrations_dir=self.migrations_dir,
                                           create_migrations_dir=self.create_migrations_dir)
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
            plain = json.loads(json.dumps(data() if callable(data) else data, default=str))
            # Scrubbed value by value, then written past the line scrubber, which could break the JSON syntax.
            self.stdout.flush()
            self.stdout.raw.write(json.dumps(self.redactor.tree(plain), indent=2) + "\n")
            self.stdout.raw.flush()

    def show_findings(self, findings: list[Finding]) -> None:
        """One write for the whole listing (each path made relative once): hundreds of findings, one scrub."""
        if findings:
            shown: dict[Path, str] = {}
            print("\n".join(finding.render(self.root, shown) for finding in findings), file=self.stderr)

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
