"""Every pgshift project the editor has met: one Settings and one database watch per project folder, made on
first use, and which project each document belongs to."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lsprotocol import types

from engine.config import load_settings
from engine.errors import PgshiftError
from server.lsp.database import DatabaseWatch
from server.lsp.project import (CONFIG_FILES, Project, load_project, project_folder, uri_to_path,
                                workspace_folder_of)

if TYPE_CHECKING:
    from server.lsp.server import PgshiftLanguageServer

log = logging.getLogger(__name__)


class LiveProject:
    """One project folder while the server runs: its settings (replaced when its config file is edited), its
    database watch, the watchers of its migrations folder and config files, and the configuration problem
    the user was last told about (so a half-typed file is announced once, not on every save)."""

    def __init__(self, ls: "PgshiftLanguageServer", folder: Path, project: Project) -> None:
        self.ls = ls
        self.folder = folder
        self.project = project
        self.told_problem: str | None = None
        self.database = DatabaseWatch(ls, lambda: self.project, on_change=ls.state_changed)
        self._tasks: list[asyncio.Task] = []

    def start(self, stopping: asyncio.Event) -> None:
        if self.project.problem:
            self.told_problem = self.project.problem
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"pgshift: {self.project.problem} (using the default settings until it is fixed)"))
        from server.lsp.watcher import named, watch_folder  # watchfiles (anyio, multiprocessing): after initialize
        loop = asyncio.get_running_loop()
        name = self.folder.name or str(self.folder)
        self._tasks = [
            loop.create_task(self.database.run(), name=f"pgshift-database-{name}"),
            loop.create_task(watch_folder(lambda: self.project.migrations_dir, self.ls.files_changed, stopping),
                             name=f"pgshift-watch-{name}"),
            loop.create_task(watch_folder(lambda: self.project.settings.project_root, self.ls.config_changed,
                                          stopping, wanted=named(*CONFIG_FILES)), name=f"pgshift-config-{name}"),
        ]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.database.close()

    async def reload(self) -> bool:
        """Re-read the settings; True when they changed. A broken file keeps the settings in use, said once."""
        try:
            settings = await asyncio.to_thread(load_settings, self.folder)
        except PgshiftError as error:
            if error.message != self.told_problem:
                self.told_problem = error.message
                self.ls.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"pgshift: {error.message} (keeping the settings in use until it is fixed)"))
            return False
        except Exception:  # noqa: BLE001 - an unreadable file is a problem to report, never the server's end
            log.exception("reloading the configuration of %s failed", self.folder)
            return False
        if self.told_problem is not None:
            self.told_problem = None
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info, message="pgshift: configuration loaded"))
        if settings == self.project.settings:
            return False
        self.project = Project(settings)
        self.database.settings_changed()
        return True


class Projects:
    """The workspace folders, the live projects by folder, and the document-folder -> project-folder answers."""

    def __init__(self, ls: "PgshiftLanguageServer") -> None:
        self.ls = ls
        self.roots: list[Path] = [Path.cwd().resolve()]
        self.live: dict[Path, LiveProject] = {}
        self._folders: dict[Path, Path] = {}  # a document's folder -> its project folder
        self.seen: set[Path] = set()  # project folders whose migrations were opened
        self._told: set[str] = set()
        self._creating: dict[Path, asyncio.Future] = {}
        self._stopping: asyncio.Event | None = None

    def set_roots(self, roots: Sequence[Path]) -> None:
        self.roots = [root.resolve() for root in roots] or [Path.cwd().resolve()]

    # --- which project ---

    async def for_uri(self, uri: str) -> tuple[Path, LiveProject] | None:
        """The document's path and its project; None for a URI that is not a file."""
        path = uri_to_path(uri)
        if path is None:
            return None
        return path, await self.for_path(path)

    async def for_path(self, path: Path) -> LiveProject:
        folder = await self._folder_of(path.parent)
        live = await self.get(folder)
        if live.project.is_migration(path):
            self.seen.add(folder)
        return live

    async def default(self) -> LiveProject:
        """For a command without a document: the only project whose migrations were opened, else the
        (first) workspace folder's."""
        return await self.get(next(iter(self.seen)) if len(self.seen) == 1 else self.roots[0])

    async def _folder_of(self, folder: Path) -> Path:
        known = self._folders.get(folder)
        if known is not None:
            return known
        try:
            found = await asyncio.to_thread(project_folder, folder, self.roots)
        except PgshiftError as error:  # a pyproject.toml on the way up is unreadable: not cached, asked again
            self._tell_once(error.message)
            return workspace_folder_of(folder.resolve(), self.roots) or self.roots[0]
        self._folders[folder] = found
        return found

    def _tell_once(self, message: str) -> None:
        if message not in self._told:
            self._told.add(message)
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error, message=f"pgshift: {message} (using the workspace's settings)"))

    async def get(self, folder: Path) -> LiveProject:
        """The live project of `folder`, loaded (off the event loop) and started on first use."""
        live = self.live.get(folder)
        if live is not None:
            return live
        creating = self._creating.get(folder)
        if creating is None:  # concurrent first uses share one load
            creating = self._creating[folder] = asyncio.get_running_loop().create_task(self._create(folder))
        return await asyncio.shield(creating)

    async def _create(self, folder: Path) -> LiveProject:
        try:
            project = await asyncio.to_thread(load_project, folder)
            live = self.live[folder] = LiveProject(self.ls, folder, project)
            log.info("project %s: migrations in %s", folder, project.migrations_dir)
            if self._stopping is not None:
                live.start(self._stopping)
            return live
        finally:
            self._creating.pop(folder, None)

    # --- lifecycle and change ---

    def start(self, stopping: asyncio.Event) -> None:
        self._stopping = stopping
        for live in self.live.values():
            live.start(stopping)

    def stop(self) -> None:
        for live in self.live.values():
            live.stop()

    async def reload(self) -> bool:
        """A config file changed: re-read every project's settings and re-answer which project each known
        folder belongs to (a new pgshift.toml may claim it). True when anything a document sees changed."""
        changed = False
        for live in list(self.live.values()):
            changed |= await live.reload()
        for folder, before in list(self._folders.items()):
            try:
                after = await asyncio.to_thread(project_folder, folder, self.roots)
            except PgshiftError:
                continue  # keep the last answer while the file is being edited
            if after != before:
                self._folders[folder] = after
                self.seen.clear()  # documents are analysed again after a change and say where they are
                changed = True
        return changed
