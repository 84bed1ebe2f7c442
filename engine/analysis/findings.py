"""The one problem type (`Finding`) with a range, shared by the CLI, the language server and MCP."""

from __future__ import annotations

import bisect
import enum
from typing import Callable
from dataclasses import dataclass, field
from pathlib import Path

DOCS_BASE_URL = "https://github.com/pgshift/pgshift/blob/main/docs/rules.md"


class Severity(enum.IntEnum):
    """Ordered so that `max()` gives the worst; values match LSP's DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}: use error, warning, info or hint") from None


@dataclass(frozen=True, order=True)
class Position:
    """Zero-based line and column; the column counts Python characters (code points).

    Front ends convert once at their edge: the CLI adds one to both, the LSP converts to the negotiated
    position encoding (UTF-16 by default).
    """

    line: int
    column: int


@dataclass(frozen=True, order=True)
class Span:
    start: Position
    end: Position

    @classmethod
    def at(cls, line: int, column: int = 0, end_line: int | None = None, end_column: int | None = None) -> "Span":
        return cls(Position(line, column), Position(line if end_line is None else end_line,
                                                    column if end_column is None else end_column))


FILE_START = Span.at(0, 0)


@dataclass(frozen=True)
class Edit:
    """Replace the text in `span` of the file at `path` with `new_text`."""

    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A machine-applicable remedy: text edits in the same file, or a rename of the file."""

    title: str
    edits: tuple[Edit, ...] = ()
    rename_to: Path | None = None


class DeferredFix(Fix):
    """A Fix whose edits are worked out when first read: `check` in a terminal or CI never reads them, and
    some (an inferred rollback) cost more than the rest of the file's check. Equal to, and replaceable like,
    the Fix it becomes."""

    def __init__(self, title: str, edits: tuple[Edit, ...] | None = None, rename_to: Path | None = None, *,
                 make: Callable[[], tuple[Edit, ...]] | None = None) -> None:
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "rename_to", rename_to)
        object.__setattr__(self, "_edits", edits)
        object.__setattr__(self, "_make", make)

    @property
    def edits(self) -> tuple[Edit, ...]:  # type: ignore[override]
        if self._edits is None:
            object.__setattr__(self, "_edits", tuple(self._make()) if self._make else ())
        return self._edits


@dataclass(frozen=True)
class Finding:
    """One problem in one file. `code` is the stable kebab-case id used in config, ignores, docs and LSP."""

    code: str
    severity: Severity
    message: str
    path: Path | None
    span: Span = FILE_START
    help: str | None = None
    fix: Fix | None = None
    related: tuple[str, ...] = field(default=())

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE_URL}#{self.code}"

    def sort_key(self) -> tuple:
        return (str(self.path or ""), self.span.start, self.severity, self.code)

    def render(self, root: Path | None = None, shown: dict[Path, str] | None = None) -> str:
        """`path:line:col: severity[code]: message` with 1-based line and column, as compilers print.

        `shown` memoises each path's displayed form across the findings of one listing (a file has many).
        """
        where = ""
        if self.path is not None:  # a problem with no file (e.g. an applied migration whose file is gone)
            if shown is None:
                path = _display_path(self.path, root)
            elif (path := shown.get(self.path)) is None:
                path = shown[self.path] = _display_path(self.path, root)
            where = f"{path}:{self.span.start.line + 1}:{self.span.start.column + 1}: "
        text = f"{where}{self.severity.label}[{self.code}]: {self.message}"
        if self.help:
            text += f"\n  help: {self.help}"
        return text

    def to_dict(self, root: Path | None = None) -> dict:
        """Plain data for `--json` and MCP: 1-based lines and columns, like the rendered text."""
        return {
            "code": self.code,
            "severity": self.severity.label,
            "message": self.message,
            "path": _display_path(self.path, root) if self.path else None,
            "line": self.span.start.line + 1,
            "column": self.span.start.column + 1,
            "end_line": self.span.end.line + 1,
            "end_column": self.span.end.column + 1,
            "help": self.help,
            "fix": self.fix.title if self.fix else None,
            "docs": self.docs_url,
        }


def _display_path(path: Path | None, root: Path | None) -> str:
    return "<sql>" if path is None else relative_path(path, root)


def relative_path(path: Path, root: Path | None) -> str:
    """`path` as shown to people: relative to the project root when inside it, else as given."""
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            try:
                return str(path.resolve().relative_to(root.resolve()))
            except ValueError:
                pass
    return str(path)


class LineIndex:
    """Converts character offsets in one text to zero-based (line, column) positions, in O(log n)."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.line_starts = starts

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return Position(line, offset - self.line_starts[line])

    def span(self, start: int, end: int) -> Span:
        return Span(self.position(start), self.position(end))

    def offset(self, position: Position) -> int:
        if position.line >= len(self.line_starts):
            return len(self.text)
        return min(self.line_starts[position.line] + position.column, len(self.text))

    def line_span(self, line: int) -> Span:
        """The whole of one line, without its newline."""
        start = self.line_starts[line]
        end = self.text.find("\n", start)
        end = len(self.text) if end == -1 else end
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return Span(Position(line, 0), Position(line, end - start))


def worst(findings: list[Finding]) -> Severity | None:
    return min((f.severity for f in findings), default=None)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
