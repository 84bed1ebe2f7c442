"""`new`: the next timestamped migration file, written from the template with a ROLLBACK block."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from engine.analysis import files as migration_files
from engine.config import Settings
from engine.errors import UsageError

TEMPLATE = """\
-- {title}
{directive}{forward}

-- ROLLBACK:
{rollback}
"""

FORWARD_PLACEHOLDER = "-- TODO: write the forward SQL here. One change per migration."
ROLLBACK_PLACEHOLDER = "-- -- TODO: SQL that undoes the change above, each line commented out like this one."


@dataclass(frozen=True)
class NewMigration:
    path: Path
    text: str


def next_timestamp(folder: Path, now: datetime) -> datetime:
    """Now, floored to the minute — or one minute after the newest existing migration if that is later."""
    stamp = now.replace(second=0, microsecond=0)
    newest = None
    if folder.is_dir():
        for path in folder.glob("*.sql"):
            match = migration_files.NAME_RE.match(path.name)
            if match and migration_files.valid_timestamp(path.name):
                year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
                when = datetime(year, month, day, hour, minute)
                newest = when if newest is None or when > newest else newest
    if newest is not None and newest >= stamp:
        stamp = newest + timedelta(minutes=1)
    return stamp


def render(description: str, sql: str | None = None, rollback_sql: str | None = None,
           no_transaction: bool = False) -> str:
    """The file text: a title comment, the forward SQL, and the commented-out ROLLBACK block."""
    forward = (sql or "").strip() or FORWARD_PLACEHOLDER
    if forward != FORWARD_PLACEHOLDER and not forward.rstrip().endswith(";") and not forward.endswith("--"):
        forward += ";"
    if rollback_sql and rollback_sql.strip():
        rollback = "\n".join(f"-- {line}".rstrip() for line in rollback_sql.strip().split("\n"))
    else:
        rollback = ROLLBACK_PLACEHOLDER
    directive = "-- pgshift: no-transaction\n" if no_transaction else ""
    # Every control or white-space character becomes one space: a CR or LS in the description must not end
    # the `--` title comment and turn the rest of it into SQL.
    title = " ".join("".join(c if c.isprintable() else " " for c in description).split())
    return TEMPLATE.format(title=title[:1].upper() + title[1:], directive=directive, forward=forward,
                           rollback=rollback)


def new_migration(settings: Settings, description: str, *, sql: str | None = None, rollback_sql: str | None = None,
                  no_transaction: bool = False, now: datetime | None = None, write: bool = True) -> NewMigration:
    """Create `migrations/<timestamp>_<slug>.sql`; the description is reduced to lower-case words."""
    slug = migration_files.slugify(description)
    if not slug:
        raise UsageError(f"description {description!r} has no letters or digits to name the file after",
                         help='e.g. pgshift new "add instagram url"')
    slug = slug[:80].rstrip("_")
    _refuse_own_marker(sql)
    folder = settings.migrations_dir
    stamp = next_timestamp(folder, now or datetime.now())
    path = folder / f"{stamp:%Y-%m-%d_%H%M}_{slug}.sql"
    if rollback_sql is None and sql:
        rollback_sql = _inferred(sql)
    text = render(description, sql, rollback_sql, no_transaction)
    if write:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # never overwrite
            handle.write(text)
    return NewMigration(path, text)


def _refuse_own_marker(sql: str | None) -> None:
    """The file gets one ROLLBACK marker, the one pgshift writes; a second one would split the file wrongly."""
    for number, line in enumerate((sql or "").split("\n"), start=1):
        if migration_files.MARKER_RE.match(line.rstrip("\r")):
            raise UsageError(f"the forward SQL has its own '-- ROLLBACK:' line (line {number} of `sql`), so the "
                             "file would have two ROLLBACK markers; nothing was written",
                             help="give only the forward SQL in `sql`, and the SQL that undoes it, not commented "
                                  "out, in `rollback_sql`")


def _inferred(sql: str) -> str | None:
    from engine.analysis.inference import infer_rollback, with_notes
    return with_notes(infer_rollback(sql))
