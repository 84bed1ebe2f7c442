"""The language server object and `build_server()`: state shared by the features, and their registration."""

from __future__ import annotations

import asyncio
import logging
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from engine.config import load_settings
from engine.errors import PgshiftError
from server.lsp.database import DatabaseWatch
from server.lsp.diagnostics import DiagnosticsPublisher
from server.lsp.project import CONFIG_FILES, Project, load_project, uri_to_path

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("pgshift")
    except metadata.PackageNotFoundError:
        return "0"


class PgshiftLanguageServer(LanguageServer):
    """pygls' server plus the project, the diagnostics scheduler, the database watch and background tasks."""

    def __init__(self) -> None:
        super().__init__("pgshift", _version())
        self.root = Path.cwd()
        self.project: Project = load_project(self.root)
        self._told_problem: str | None = None  # the configuration problem the user was last shown
        self.diagnostics = DiagnosticsPublisher(self)
        self.database = DatabaseWatch(self, on_change=self.state_changed)
        self.stopping: asyncio.Event | None = None
        self._background: list[asyncio.Task] = []

    # --- open documents (pygls keys them by the percent-decoded URI; the client's URI is kept on each) ---

    def document(self, uri: str) -> TextDocument | None:
        """The open document, or None: never a fresh read from disk as `get_text_document` would do."""
        return self.workspace.text_documents.get(unquote(uri))

    def open_uris(self) -> list[str]:
        return [document.uri for document in self.workspace.text_documents.values()]

    # --- what the client can do (each with the fallback the features use) ---

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    def _capability(self, *names: str):
        value = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    @property
    def supports_document_changes(self) -> bool:
        return bool(self._capability("workspace", "workspace_edit", "document_changes"))

    def supports_resource_operation(self, kind: types.ResourceOperationKind) -> bool:
        kinds = self._capability("workspace", "workspace_edit", "resource_operations") or []
        return self.supports_document_changes and kind in kinds

    @property
    def supports_progress(self) -> bool:
        return bool(self._capability("window", "work_done_progress"))

    @property
    def supports_code_lens_refresh(self) -> bool:
        return bool(self._capability("workspace", "code_lens", "refresh_support"))

    # --- lifecycle ---

    def open_workspace(self, params: types.InitializeParams) -> None:
        root = None
        if params.workspace_folders:
            root = uri_to_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            root = uri_to_path(params.root_uri)
        elif params.root_path:
            root = Path(params.root_path)
        self.root = root or Path.cwd()
        self.project = load_project(self.root)

    def start_background(self) -> None:
        from server.lsp.watcher import watch_folder

        from server.lsp.watcher import named

        self.stopping = asyncio.Event()
        if self.project.problem:
            self._told_problem = self.project.problem
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"pgshift: {self.project.problem} (using the default settings until it is fixed)"))
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self.database.run(), name="pgshift-database"),
            loop.create_task(watch_folder(lambda: self.project.migrations_dir, self.files_changed, self.stopping),
                             name="pgshift-watch"),
            loop.create_task(watch_folder(lambda: self.project.settings.project_root, self.config_changed,
                                          self.stopping, wanted=named(*CONFIG_FILES)), name="pgshift-watch-config"),
        ]

    def stop_background(self) -> None:
        if self.stopping is not None:
            self.stopping.set()
        for task in self._background:
            task.cancel()
        self.database.close()

    # --- reacting to change ---

    def files_changed(self, paths: set[Path]) -> None:
        """Migration files changed on disk: re-check open documents, re-read the database soon."""
        log.debug("changed on disk: %s", sorted(map(str, paths)))
        self.diagnostics.request_all()
        self.database.poke()
        self.refresh_code_lenses()

    def config_changed(self, paths: set[Path]) -> None:
        task = asyncio.get_running_loop().create_task(self.reload_project(), name="pgshift-reload")
        self._background.append(task)
        task.add_done_callback(lambda done: done in self._background and self._background.remove(done))

    async def reload_project(self) -> None:
        """[tool.pgshift] was edited: use the new settings, or keep the last good ones and say why, once.

        A half-typed pyproject.toml is normal while the user edits it: the file checks go on with the settings
        in use, and the same problem is not announced again on every save.
        """
        try:
            settings = await asyncio.to_thread(load_settings, self.root)
        except PgshiftError as error:
            if error.message != self._told_problem:
                self._told_problem = error.message
                self.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"pgshift: {error.message} (keeping the settings in use until it is fixed)"))
            return
        except Exception:  # noqa: BLE001 - an unreadable file is a problem to report, never the server's end
            log.exception("reloading the configuration failed")
            return
        recovered = self._told_problem is not None
        self._told_problem = None
        if recovered:
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info, message="pgshift: configuration loaded"))
        if settings == self.project.settings:
            return
        self.project = Project(settings)
        self.database.settings_changed()
        self.state_changed()

    def state_changed(self) -> None:
        """The database view changed (or became unknown): every open document's diagnostics and lenses."""
        self.diagnostics.request_all()
        self.refresh_code_lenses()

    def refresh_code_lenses(self) -> None:
        if self.supports_code_lens_refresh:
            self.workspace_code_lens_refresh(None)


def build_server() -> PgshiftLanguageServer:
    """A new server with every feature registered; nothing is started until `start_io()`."""
    from server.lsp import code_actions, code_lens, commands, diagnostics

    ls = PgshiftLanguageServer()

    @ls.feature(types.INITIALIZE)
    def initialize(ls: PgshiftLanguageServer, params: types.InitializeParams) -> None:
        ls.open_workspace(params)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: PgshiftLanguageServer, params: types.InitializedParams) -> None:
        ls.start_background()

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: PgshiftLanguageServer, params: None) -> None:
        ls.stop_background()

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: PgshiftLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.files_changed({p for c in params.changes if (p := uri_to_path(c.uri)) is not None})

    for feature in (diagnostics, code_actions, code_lens, commands):
        feature.register(ls)
    return ls
