"""Guards between tool arguments and the file system: paths stay in the migrations folder, text stays text."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from engine.config import Settings
from engine.errors import UsageError

_SPACE_RE = re.compile(r"\s+")
MAX_PATH_CHARS = 4096
MAX_SQL_CHARS = 1_000_000  # a migration is reviewed by a person; a megabyte of SQL is a mistake or an attack


def sql_argument(name: str, value: str | None) -> str | None:
    """SQL text from the assistant, refused when PostgreSQL could never run it (NUL) or no one could review it."""
    if value is None:
        return None
    if "\0" in value:
        raise UsageError(f"`{name}` contains a NUL character, which PostgreSQL does not accept in SQL text",
                         help="remove it; SQL text never needs one")
    if len(value) > MAX_SQL_CHARS:
        raise UsageError(f"`{name}` is {len(value):,} characters; the limit is {MAX_SQL_CHARS:,}",
                         help="split the change into several migrations, one change each")
    return value


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def migration_path(settings: Settings, given: str) -> Path:
    """The migration file `given` names, relative to the project root or the migrations folder.

    Refuses anything that resolves (symbolic links followed) outside the migrations folder, is not a `.sql`
    file, or does not exist, so that no argument can make a tool read or write elsewhere.
    """
    folder = settings.migrations_dir.resolve()
    shown = relative(settings.migrations_dir, settings.project_root)
    if "\0" in given or len(given) > MAX_PATH_CHARS:  # the OS refuses these with errors that are not ours
        raise UsageError(f"not a migration file path: {given[:80]!r}",
                         help=f"give the path of a .sql file directly in {shown}/ (list_migrations shows them)")
    raw = Path(given.strip())
    candidates = [raw] if raw.is_absolute() else [settings.project_root / raw, settings.migrations_dir / raw]
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.parent == folder and resolved.suffix.lower() == ".sql" and resolved.is_file():
            return resolved
    raise UsageError(f"{given!r} is not a migration file in {shown}/",
                     help=f"give the path of a .sql file directly in {shown}/ (list_migrations shows them)")


def clean_description(description: str) -> str:
    """One line of printable text: control characters (CR, NUL, …) and line breaks become spaces.

    The description ends up in the file's first comment line; PostgreSQL ends a `--` comment at CR as well as
    LF, so an unsanitised CR could smuggle a statement into the migration.
    """
    printable = "".join(ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else " " for ch in description)
    return _SPACE_RE.sub(" ", printable).strip()[:200]
