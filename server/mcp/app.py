"""`build_server(settings, read_only)`: the pgshift MCP server, assembled on demand (nothing at import time)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.stdio import stdio_server
from mcp_types import Resource

from engine.config import Settings
from server.mcp import texts
from engine.redaction import Redactor
from server.mcp.notifications import ResourceNotifier
from server.mcp.prompts import check_prompt_arguments, register_prompts
from server.mcp.redaction import RedactingMiddleware
from server.mcp.resources import migration_resources, register_resources
from server.mcp.tools import register_tools

try:
    from importlib.metadata import version as _version
    VERSION = _version("pgshift")
except Exception:  # noqa: BLE001 — running from a source tree without metadata
    VERSION = "0"


class PgshiftServer(MCPServer):
    """MCPServer whose resource list also names each migration file, as the folder holds them now."""

    def __init__(self, settings: Settings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pgshift_settings = settings

    async def list_resources(self) -> list[Resource]:
        return [*await super().list_resources(), *migration_resources(self.pgshift_settings)]

    async def run_stdio_async(self) -> None:
        """As the SDK's, but declaring `resources.listChanged` to 2025-era clients, since we send it."""
        lowlevel = self._lowlevel_server  # the SDK offers no other way to pass NotificationOptions
        async with stdio_server() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options(
                NotificationOptions(resources_changed=True)))


def build_server(settings: Settings, read_only: bool = False) -> MCPServer:
    """Tools, resources and the workflow prompt for one project.

    `read_only` serves only what cannot change the database or the files (list, check and the resources).
    Rollback is left out when the project sets `allow_rollback = false`.
    """
    async def prompt_arguments(ctx, call_next):  # bound late: it needs the server built below
        return await check_prompt_arguments(server, ctx, call_next)

    notifier = ResourceNotifier(settings)
    redactor = Redactor.of((settings.database_url, settings.shadow_database_url))
    server = PgshiftServer(settings, name="pgshift", title="pgshift migrations", version=VERSION,
                           instructions=texts.INSTRUCTIONS, log_level="WARNING",
                           middleware=[RedactingMiddleware(redactor),
                                       notifier.remember_sessions, prompt_arguments],
                           subscriptions=notifier.bus, lifespan=notifier.running)
    register_tools(server, settings, read_only=read_only)
    register_resources(server, settings)
    if not read_only:
        register_prompts(server, settings)
    return server
