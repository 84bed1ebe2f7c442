"""Table lock modes as `pg_locks` names them, and what each one makes other sessions wait for, in words.

From the conflict table in https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-TABLES:
plain reads take AccessShareLock, writes RowExclusiveLock, so a mode's effect on traffic is whether it
conflicts with those two.
"""

from __future__ import annotations

# Weakest first: the order in which a statement's locks are listed.
MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
         "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")

_BLOCKS = {
    "AccessShareLock": "blocks only ACCESS EXCLUSIVE (DROP, most ALTER TABLE); reads and writes go on",
    "RowShareLock": "blocks EXCLUSIVE and ACCESS EXCLUSIVE; reads and writes go on",
    "RowExclusiveLock": "blocks CREATE INDEX and stronger locks; reads and writes go on",
    "ShareUpdateExclusiveLock": "blocks other schema changes and VACUUM; reads and writes go on",
    "ShareLock": "blocks writes; reads go on",
    "ShareRowExclusiveLock": "blocks writes; reads go on",
    "ExclusiveLock": "blocks writes and SELECT FOR UPDATE; plain reads go on",
    "AccessExclusiveLock": "blocks reads and writes",
}

# The modes that make ordinary traffic wait: worth a warning in any output.
BLOCKS_WRITES = frozenset({"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"})


def blocks(mode: str) -> str:
    """What other sessions cannot do on the relation while this mode is held (until COMMIT)."""
    return _BLOCKS.get(mode, "see the PostgreSQL lock conflict table")


def strength(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def sql_name(mode: str) -> str:
    """`AccessExclusiveLock` as the SQL keyword people know from the docs: ACCESS EXCLUSIVE."""
    words, current = [], ""
    for char in mode.removesuffix("Lock"):
        if char.isupper() and current:
            words.append(current)
            current = ""
        current += char
    words.append(current)
    return " ".join(words).upper()
