"""Migration files on disk: naming, the forward/ROLLBACK split, the no-transaction directive, checksums.

No database and no SQL parsing here: this is the format the Node system defined, read exactly once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine.errors import ConfigError
from engine.analysis.findings import Finding, Fix, LineIndex, Position, Severity, Span

NAME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})_(\d{2})(\d{2})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
MARKER_RE = re.compile(r"^[ \t]*--[ \t]*ROLLBACK:[ \t]*$", re.IGNORECASE)
DIRECTIVE_RE = re.compile(r"^[ \t]*--[ \t]*pgshift:[ \t]*(?P<words>.*?)[ \t]*$", re.IGNORECASE)
COMMENT_PREFIX_RE = re.compile(r"^([ \t]*--[ \t]?)")
IGNORE_LINE_RE = re.compile(r"[ \t]*pgshift-ignore(?:-file)?[ \t]")
_LONE_CR_RE = re.compile(r"\r(?!\n)")
BOM = "\ufeff"
ROLLBACK_MARKER = "-- ROLLBACK:"


@dataclass(frozen=True)
class RollbackLine:
    """Where one line of the uncommented rollback SQL sits in the file: its line and the prefix it lost."""

    file_line: int
    prefix_length: int


@dataclass(frozen=True)
class MigrationFile:
    """One migration as written: the forward SQL keeps the file's offsets, the rollback SQL is uncommented."""

    path: Path
    version: str
    text: str
    forward_sql: str
    rollback_sql: str | None
    marker_line: int | None
    rollback_lines: tuple[RollbackLine, ...]
    no_transaction: bool
    checksum: str
    findings: tuple[Finding, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_valid_name(self) -> bool:
        return NAME_RE.match(self.path.name) is not None and valid_timestamp(self.path.name)

    @property
    def description(self) -> str:
        match = NAME_RE.match(self.path.name)
        return match.group(6).replace("_", " ") if match else self.path.stem

    @functools.cached_property
    def has_rollback(self) -> bool:
        return bool(self.rollback_sql and strip_sql_comments(self.rollback_sql).strip())

    @property
    def rollback_is_empty(self) -> bool:
        """A `-- ROLLBACK:` marker with no SQL under it: "nothing to undo" (e.g. a VALIDATE- or SET-only
        migration). A block holding only a TODO placeholder is unwritten, not empty."""
        return self.rollback_sql is not None and is_empty_rollback(self.rollback_sql)

    def matches(self, recorded: str | None) -> bool:
        """Whether a tracking row's checksum says this file is unchanged since it was applied.

        A checksum recorded by the old rule (trailing Unicode spaces ignored) still matches where the file's
        only such spaces end comment lines: PostgreSQL never saw those, so nothing it ran has changed.
        """
        if recorded == self.checksum:
            return True
        if not recorded or not self.checksum or legacy_checksum(self.forward_sql) != recorded:
            return False
        return _odd_spaces_only_in_comments(self.forward_sql)

    @functools.cached_property
    def _rollback_index(self) -> LineIndex:
        """Built once: a finding per rollback statement must not index the whole block again each time."""
        return LineIndex(self.rollback_sql or "")

    def rollback_position(self, offset: int) -> Position:
        """Map an offset in `rollback_sql` to the file, adding back the `-- ` each line lost."""
        assert self.rollback_sql is not None
        pos = self._rollback_index.position(offset)
        if pos.line >= len(self.rollback_lines):
            last = self.rollback_lines[-1] if self.rollback_lines else RollbackLine(self.marker_line or 0, 0)
            return Position(last.file_line, last.prefix_length)
        line = self.rollback_lines[pos.line]
        return Position(line.file_line, pos.column + line.prefix_length)

    def rollback_span(self, start: int, end: int) -> Span:
        return Span(self.rollback_position(start), self.rollback_position(end))


def valid_timestamp(name: str) -> bool:
    match = NAME_RE.match(name)
    if not match:
        return False
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    try:
        datetime(year, month, day, hour, minute)
    except ValueError:
        return False
    return True


def normalise(text: str) -> str:
    """Drop a BOM and turn CRLF/CR into LF, so a checkout's line endings never look like an edit."""
    if text.startswith(BOM):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


# The white space every supported PostgreSQL ignores between tokens (scan.l's `space`; vertical tab only from
# PostgreSQL 16 on, so it is not in here). Python's str.rstrip() also drops U+00A0, U+3000 and other Unicode
# spaces, which PostgreSQL reads as part of an identifier: a trailing one changes the statement (issue 10, 21).
PG_SPACE = " \t\n\r\f"


def checksum(forward_sql: str) -> str:
    """MD5 of the normalised forward SQL with trailing white space (as PostgreSQL defines it) removed.

    The ROLLBACK block is deliberately outside it: correcting the rollback of an applied migration is allowed.
    """
    return _md5_of_lines(forward_sql, PG_SPACE)


def legacy_checksum(forward_sql: str) -> str:
    """The checksum as pgshift recorded it before issue 10: trailing Unicode white space (str.rstrip) dropped."""
    return _md5_of_lines(forward_sql, None)


def _md5_of_lines(forward_sql: str, space: str | None) -> str:
    body = "\n".join(line.rstrip(space) for line in normalise(forward_sql).split("\n")).rstrip(space)
    return hashlib.md5(body.encode("utf-8", errors="surrogatepass")).hexdigest()


def _odd_spaces_only_in_comments(sql: str) -> bool:
    """True when every trailing space that only the old checksum rule dropped sits inside a SQL comment."""
    from engine.analysis.sql import comment_spans
    ends = []
    offset = 0
    for line in sql.split("\n"):
        kept = len(line.rstrip(PG_SPACE))
        if len(line.rstrip()) != kept:
            ends.append(offset + kept - 1)  # the last character PostgreSQL would see on this line
        offset += len(line) + 1
    spans = comment_spans(sql)
    return all(any(start <= end < stop for start, stop in spans) for end in ends)


def is_empty_rollback(rollback_sql: str) -> bool:
    """No SQL (at most comments) and no TODO placeholder: the undo is deliberately nothing."""
    return not strip_sql_comments(rollback_sql).strip() and "TODO" not in rollback_sql


def strip_sql_comments(sql: str) -> str:
    return "\n".join(line for line in sql.split("\n") if not line.lstrip().startswith("--"))


def parse_migration(path: Path, text: str) -> MigrationFile:
    """Split a migration's text into forward SQL and rollback SQL, and report format problems."""
    if text.startswith(BOM):
        text = text[1:]
    if "\r" in text:  # a lone CR (classic Mac) is a line break to editors and to PostgreSQL: one char for one
        text = _LONE_CR_RE.sub("\n", text)
    findings: list[Finding] = []
    findings.extend(check_file_name(path))
    unsendable = unsendable_text(path, text)
    if unsendable and not text.isascii():  # editor text only: a file with one fails to decode (read_migration)
        text = _SURROGATE_RE.sub("\ufffd", text)
    findings.extend(unsendable)
    lines = text.split("\n")
    marker_line = next((i for i, line in enumerate(lines) if MARKER_RE.match(line.rstrip("\r"))), None)

    if marker_line is None:
        forward_sql = text
        rollback_sql = None
        rollback_lines: tuple[RollbackLine, ...] = ()
    else:
        forward_sql = "\n".join(lines[:marker_line])
        mapped: list[RollbackLine] = []
        body: list[str] = []
        for number in range(marker_line + 1, len(lines)):
            raw = lines[number].rstrip("\r")
            prefix = COMMENT_PREFIX_RE.match(raw)
            if prefix and IGNORE_LINE_RE.match(raw, prefix.end()):
                # `-- pgshift-ignore RULE` in the block is an ignore comment, as above the marker: it stays a
                # comment in the rollback SQL instead of becoming the SQL `pgshift-ignore RULE`.
                body.append(raw)
                mapped.append(RollbackLine(number, 0))
            elif prefix:
                body.append(raw[prefix.end():])
                mapped.append(RollbackLine(number, prefix.end()))
            elif raw.strip() == "":
                body.append("")
                mapped.append(RollbackLine(number, 0))
            else:
                findings.append(Finding(
                    "rollback-not-commented", Severity.ERROR,
                    "SQL after '-- ROLLBACK:' is not commented out, so it would run as part of the migration",
                    path, Span.at(number, 0, number, len(raw)),
                    help="comment the line out ('-- ' in front), or move it above the ROLLBACK marker",
                    fix=Fix("Comment out the line", (_edit_comment_out(number),)),
                ))
                body.append("")
                mapped.append(RollbackLine(number, 0))
        rollback_sql = "\n".join(body)
        rollback_lines = tuple(mapped)

    findings.extend(_misplaced_directives(path, lines[:marker_line] if marker_line is not None else lines))
    return MigrationFile(
        path=path,
        version=path.stem,
        text=text,
        forward_sql=forward_sql,
        rollback_sql=rollback_sql,
        marker_line=marker_line,
        rollback_lines=rollback_lines,
        no_transaction=has_no_transaction_directive(forward_sql),
        checksum=checksum(forward_sql),
        findings=tuple(findings),
    )


# Text that cannot reach PostgreSQL: libpq sends a query as a C string, so it ends at a NUL (the rest of the
# file, its tracking row and COMMIT would never arrive), and a lone surrogate (editor text) has no UTF-8 form.
# Other control characters do reach the server: in strings and comments they are data, elsewhere the parser
# rejects them and `syntax-error` reports it.
_UNSENDABLE_RE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def unsendable_text(path: Path, text: str) -> list[Finding]:
    """A `file-encoding` error at the first character PostgreSQL cannot receive; nothing runs while it is there."""
    match = _UNSENDABLE_RE.search(text)
    if match is None:
        return []
    at = match.start()
    line = text.count("\n", 0, at)
    column = at - (text.rfind("\n", 0, at) + 1)
    more = sum(1 for _ in _UNSENDABLE_RE.finditer(text, at + 1))
    others = f" (and {more} more)" if more else ""
    if match.group() == "\x00":
        message = (f"the file holds a NUL byte (0x00){others}: PostgreSQL cannot receive it, and everything after it "
                   "would never reach the server")
        remedy = "delete the NUL byte(s); an editor can show them, or `tr -d '\\000'` removes them"
    else:
        message = f"the text holds a lone UTF-16 surrogate (U+{ord(match.group()):04X}){others}, which is not UTF-8"
        remedy = "delete the character and save the file as UTF-8"
    return [Finding("file-encoding", Severity.ERROR, message, path, Span.at(line, column, line, column + 1),
                    help=remedy)]


def _edit_comment_out(line: int):
    from engine.analysis.findings import Edit
    return Edit(Span.at(line, 0), "-- ")


def has_no_transaction_directive(forward_sql: str) -> bool:
    """True when a `-- pgshift: no-transaction` comment appears in the file's leading comment block."""
    for line in forward_sql.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            return False
        match = DIRECTIVE_RE.match(stripped)
        if match and "no-transaction" in match.group("words").lower().split():
            return True
    return False


def _misplaced_directives(path: Path, forward_lines: list[str]) -> list[Finding]:
    """A `-- pgshift:` directive below the first statement is ignored by the runner: say so, don't guess."""
    findings = []
    in_header = True
    for number, line in enumerate(forward_lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            in_header = False
            continue
        if not in_header and DIRECTIVE_RE.match(stripped):
            findings.append(Finding(
                "misplaced-directive", Severity.ERROR,
                "this `-- pgshift:` directive comes after the first statement, so pgshift ignores it",
                path, Span.at(number, 0, number, len(line.rstrip("\r"))),
                help="move it to the comment lines at the top of the file, before any SQL"))
    return findings


def check_file_name(path: Path) -> list[Finding]:
    """The `YYYY-MM-DD_HHMM_description.sql` convention, with a rename fix where one can be derived."""
    name = path.name
    if NAME_RE.match(name) and valid_timestamp(name):
        return []
    suggestion = suggest_name(name)
    if NAME_RE.match(name):
        message = f"'{name}' has an impossible date or time"
    else:
        message = f"'{name}' does not follow the naming convention YYYY-MM-DD_HHMM_description.sql"
    fix = Fix(f"Rename to {suggestion}", rename_to=path.with_name(suggestion)) if suggestion else None
    return [Finding("file-name", Severity.ERROR, message, path, Span.at(0, 0),
                    help=f"rename it, e.g. to {suggestion}" if suggestion else
                    "rename it to YYYY-MM-DD_HHMM_description.sql (the date and time it was written)",
                    fix=fix)]


_LOOSE_NAME_RE = re.compile(r"^(\d{4})[-_]?(\d{2})[-_]?(\d{2})[-_T ]?(\d{2})[:]?(\d{2})(?:\d{2})?[-_ ]*(.*)$")


def suggest_name(name: str, now: datetime | None = None) -> str | None:
    """A conventional name for a file: keep a recognisable timestamp, else use `now`; None if hopeless."""
    stem = name[:-4] if name.lower().endswith(".sql") else name
    match = _LOOSE_NAME_RE.match(stem)
    if match:
        stamp = "{}-{}-{}_{}{}".format(*match.groups()[:5])
        words = slugify(match.group(6))
        candidate = f"{stamp}_{words or 'migration'}.sql"
        if NAME_RE.match(candidate) and valid_timestamp(candidate):
            return candidate
        return None
    words = slugify(stem)
    if not words:
        return None
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H%M")
    return f"{stamp}_{words}.sql"


# Letters NFKD does not take apart into a base letter and marks (issue 11: `café über` → `cafe_uber`).
_TRANSLITERATIONS = str.maketrans({"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o",
                                   "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "þ": "th", "Þ": "th",
                                   "ð": "d", "Ð": "d", "ı": "i"})


def slugify(description: str) -> str:
    """Lower-case ASCII words joined by `_`: the description part of a migration name.

    Accented letters keep their base letter (NFKD, combining marks dropped) instead of vanishing mid-word.
    """
    decomposed = unicodedata.normalize("NFKD", description.translate(_TRANSLITERATIONS).lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.findall(r"[a-z0-9]+", plain)
    return "_".join(words)


def read_migration(path: Path) -> MigrationFile:
    """Read and parse a file; unreadable or non-UTF-8 files come back with a finding, never an exception."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _broken(path, Finding("file-unreadable", Severity.ERROR, f"cannot read the file: {exc.strerror}",
                                     path, help="check the file's permissions"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        pos = LineIndex(before).position(len(before))
        return _broken(path, Finding(
            "file-encoding", Severity.ERROR,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, Span(pos, pos),
            help="save the file as UTF-8"))
    return parse_migration(path, text)


def _broken(path: Path, finding: Finding) -> MigrationFile:
    return MigrationFile(path=path, version=path.stem, text="", forward_sql="", rollback_sql=None,
                         marker_line=None, rollback_lines=(), no_transaction=False, checksum="",
                         findings=tuple(check_file_name(path)) + (finding,))


def discover(folder: Path) -> list[MigrationFile]:
    """Every `.sql` entry directly in the folder, sorted by version (the file stem).

    A directory or a dangling symbolic link named `*.sql` is not skipped silently: it comes back as a migration
    that cannot be read (`file-unreadable`), so `check` reports it and `migrate` runs nothing while it is there.
    A symbolic link to a file is a migration like any other.
    """
    if not folder.is_dir():
        return []
    try:
        with os.scandir(folder) as entries:  # the directory entry knows if it is a file: no stat per file
            found = sorted(((Path(e.path), e.is_file()) for e in entries if e.name.lower().endswith(".sql")),
                           key=lambda entry: entry[0].stem)
    except OSError as error:
        raise unreadable_folder(folder, error) from None
    return [read_migration(p) if is_file else _not_a_file(p) for p, is_file in found]


def unreadable_folder(folder: Path, error: OSError) -> ConfigError:
    """The folder is there but cannot be listed (permissions, I/O): nothing can be known about the migrations."""
    return ConfigError(f"cannot read the migrations folder {folder}: {error.strerror or error}",
                       help=f"give the user running pgshift read and search permission on it "
                            f"(e.g. `chmod u+rx {folder}`), or point migrations_dir at the right folder")


def _not_a_file(path: Path) -> MigrationFile:
    """A `.sql` name in the folder that is no readable file: say what it is instead."""
    if path.is_symlink() and not path.exists():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        message = f"'{path.name}' is a symbolic link to {target}, which does not exist"
        remedy = "restore the file it points to, or replace the link with the migration file itself"
    elif path.is_dir():
        link = f"a symbolic link to {os.readlink(path)}, " if path.is_symlink() else ""
        message = f"'{path.name}' is {link}a folder, not a migration file"
        remedy = "move the folder out of the migrations folder, or rename it so it does not end in .sql"
    else:
        message = f"'{path.name}' is not a regular file, so it cannot be a migration"
        remedy = "replace it with the migration file, or move it out of the migrations folder"
    return _broken(path, Finding("file-unreadable", Severity.ERROR, message, path, help=remedy))
