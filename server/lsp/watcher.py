"""Watch the migrations folder on disk (files added, renamed, edited outside the editor, git checkouts)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Callable

from watchfiles import Change, awatch

log = logging.getLogger(__name__)
FOLDER_RECHECK_SECONDS = 2.0


def _is_sql(change: Change, path: str) -> bool:
    return path.lower().endswith(".sql")


def named(*names: str) -> Callable[[Change, str], bool]:
    """A filter for files with these exact names (the project's pyproject.toml and pgshift.toml)."""
    wanted = frozenset(names)
    return lambda change, path: Path(path).name in wanted


async def watch_folder(folder: Callable[[], Path], on_change: Callable[[set[Path]], None],
                       stop: asyncio.Event, wanted: Callable[[Change, str], bool] = _is_sql) -> None:
    """Call `on_change` with the changed paths `wanted` accepts (`.sql` files by default) until `stop` is set;
    waits for the folder to exist."""
    while not stop.is_set():
        path = folder()
        if not path.is_dir():
            try:  # the folder may be created later (`pgshift init`, the first `pgshift new`)
                await asyncio.wait_for(stop.wait(), FOLDER_RECHECK_SECONDS)
            except TimeoutError:
                pass
            continue
        try:
            async for changes in awatch(path, watch_filter=wanted, debounce=100, step=20, stop_event=stop,
                                        recursive=False):
                on_change({Path(p) for _, p in changes})
        except (OSError, RuntimeError) as error:  # the folder was removed, or the OS ran out of watches
            log.warning("watching %s stopped: %s", path, error)
            try:
                await asyncio.wait_for(stop.wait(), FOLDER_RECHECK_SECONDS)
            except TimeoutError:
                pass
