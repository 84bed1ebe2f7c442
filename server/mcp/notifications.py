"""Change notifications: the client hears when a migration file or DATABASE.md changes on disk.

Two deliveries, one per protocol generation: sessions of 2025-era clients (Cursor speaks 2025-06-18) get
`notifications/resources/list_changed` when a migration is added, renamed or deleted; 2026-07-28 clients
subscribed through `subscriptions/listen` also get `resources/updated` for an edited migration
(`migration://VERSION`) or DATABASE.md (`pgshift://schema`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any, AsyncIterator

import anyio
import watchfiles
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from engine.config import Settings

log = logging.getLogger("pgshift.mcp")
SCHEMA_URI = "pgshift://schema"


class ResourceNotifier:
    """Watches the migrations folder and DATABASE.md while the server runs, and tells every client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = settings.migrations_dir.resolve()
        self.snapshot = settings.snapshot_path.resolve() if settings.snapshot_path is not None else None
        self.bus = InMemorySubscriptionBus()
        self._sessions: list[Any] = []  # 2025-era sessions, remembered from their requests

    async def remember_sessions(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Middleware: the only way to reach a 2025-era session outside a request is to keep it from one."""
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS and ctx.session not in self._sessions:
            self._sessions.append(ctx.session)
        return await call_next(ctx)

    def uris_changed(self, changes: set[tuple[watchfiles.Change, str]]) -> tuple[bool, list[str]]:
        """(the list of migrations changed, the URIs whose content changed)."""
        listed, updated = False, []
        for change, raw in sorted(changes, key=lambda c: c[1]):
            path = Path(raw)
            if path.suffix.lower() == ".sql":
                listed = listed or change is not watchfiles.Change.modified
                updated.append(f"migration://{path.stem}")
            elif path == self.snapshot:
                updated.append(SCHEMA_URI)
        return listed, updated

    async def publish(self, changes: set[tuple[watchfiles.Change, str]]) -> None:
        listed, updated = self.uris_changed(changes)
        if listed:
            await self.bus.publish(ResourcesListChanged())
        for uri in updated:
            await self.bus.publish(ResourceUpdated(uri=uri))
        if not listed:
            return
        for session in list(self._sessions):
            try:
                await session.send_resource_list_changed()
            except Exception:  # noqa: BLE001 — a client that went away is forgotten, the others still hear
                self._sessions.remove(session)

    def _relevant(self, change: watchfiles.Change, raw: str) -> bool:
        path = Path(raw)
        if path.name.startswith("."):
            return False
        if path.parent == self.folder and path.suffix.lower() == ".sql":
            return True
        return path == self.snapshot

    async def watch(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Runs for the server's life; reports started once the OS watch is in place (the first empty batch)."""
        folders = {self.folder}
        if self.snapshot is not None:
            folders.add(self.snapshot.parent)
        folders = {f for f in folders if f.is_dir()}
        if not folders:
            task_status.started()
            return
        started = False
        try:
            async for batch in watchfiles.awatch(*sorted(folders), watch_filter=self._relevant, recursive=False,
                                                 debounce=300, rust_timeout=500, yield_on_timeout=True):
                if not started:
                    started = True
                    task_status.started()
                if batch:
                    try:
                        await self.publish(batch)
                    except Exception:  # noqa: BLE001 — notifications are a courtesy; the server keeps serving
                        log.exception("pgshift MCP could not send a change notification")
        except Exception as error:  # noqa: BLE001 — e.g. the OS's inotify limit: serve without notifications
            log.warning("pgshift MCP cannot watch %s for changes (%s); no change notifications",
                        ", ".join(map(str, sorted(folders))), error)
            if not started:
                task_status.started()

    @contextlib.asynccontextmanager
    async def running(self, _server: Any) -> AsyncIterator[dict[str, Any]]:
        """The server's lifespan: the watch starts before the first request is answered, and stops with it."""
        async with anyio.create_task_group() as group:
            await group.start(self.watch)
            try:
                yield {}
            finally:
                group.cancel_scope.cancel()
