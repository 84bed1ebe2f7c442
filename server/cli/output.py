"""Small shared pieces of human output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TextIO

from engine.redaction import Redactor

if TYPE_CHECKING:
    from server.cli.context import CliContext


def describe_database(ctx: "CliContext") -> None:
    """Say which database a command works on — always, and loudly for the embedded development one."""
    from engine.database.db import resolve_target
    folder = ctx.settings.migrations_dir
    if not folder.is_dir():
        ctx.note(f"pgshift: there is no migrations folder at {folder} (create it with `pgshift init` or "
                 "`pgshift new \"description\"`, or set migrations_dir)")
    target = resolve_target(ctx.settings)
    if target.embedded:
        ctx.note(f"pgshift: no database configured; using the embedded development database in {target.source} "
                 "(set DATABASE_URL or --database-url for a real one)")
    else:
        ctx.note(f"pgshift: database {target.display}")


class RedactingStream:
    """A text stream that scrubs the known passwords from every line before it reaches the terminal.

    The CLI's stdout and stderr are wrapped once (CliContext), so every message a command prints, today's and
    tomorrow's, passes here. Text is held until its line ends (or a flush, for prompts) so that a password is
    never split across two writes and missed.
    """

    def __init__(self, stream: TextIO, redactor: Callable[[], Redactor]) -> None:
        self.raw = stream
        self._redactor = redactor
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        end = self._pending.rfind("\n")
        if end >= 0:
            ready, self._pending = self._pending[:end + 1], self._pending[end + 1:]
            self.raw.write(self._redactor().text(ready))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.raw.write(self._redactor().text(self._pending))
            self._pending = ""
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def __getattr__(self, name: str):  # fileno, encoding, buffer, …: the underlying stream's
        return getattr(self.raw, name)
