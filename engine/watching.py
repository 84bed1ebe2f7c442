"""Change batches from the migrations folder, for `watch` (and anything else that follows the folder)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import watchfiles

from engine.config import Settings


def _is_migration_file(change: watchfiles.Change, path: str) -> bool:
    return path.endswith(".sql") and not Path(path).name.startswith(".")


def watch_migrations(settings: Settings, stop: threading.Event | None = None,
                     debounce_ms: int = 300) -> Iterator[set[Path]]:
    """Yield the set of `.sql` paths changed together (saves are debounced); ends when `stop` is set.

    The first batch is empty and comes once the watcher is running, so a caller that does its initial work
    then cannot miss a file saved meanwhile.
    """
    settings.migrations_dir.mkdir(parents=True, exist_ok=True)
    ready = False
    for batch in watchfiles.watch(settings.migrations_dir, watch_filter=_is_migration_file, debounce=debounce_ms,
                                  stop_event=stop, recursive=False, raise_interrupt=True, yield_on_timeout=True,
                                  rust_timeout=1000):
        if batch or not ready:
            ready = True
            yield {Path(path) for _, path in batch}
