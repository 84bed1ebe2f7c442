"""`build_server(settings, read_only)`: the pgshift MCP server, assembled on demand (nothing at import time)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from engine.config import Settings
from server.mcp import texts
from server.mcp.prompts import check_prompt_arguments, register_prompts
from server.mcp.resources import register_resources
from server.mcp.tools import register_tools

try:
    from importlib.metadata import version as _version
    VERSION = _version("pgshift")
except Exception:  # noqa: BLE001 — running from a source tree without metadata
    VERSION = "0"


def build_server(settings: Settings, read_only: bool = False) -> MCPServer:
    """Tools, resources and the workflow prompt for one project.

    `read_only` serves only what cannot change the database or the files (list, check and the resources).
    Rollback is left out when the project sets `allow_rollback = false`.
    """
    async def prompt_arguments(ctx, call_next):  # bound late: it needs the server built below
        return await check_prompt_arguments(server, ctx, call_next)

    server = MCPServer(name="pgshift", title="pgshift migrations", version=VERSION,
                       instructions=texts.INSTRUCTIONS, log_level="WARNING", middleware=[prompt_arguments])
    register_tools(server, settings, read_only=read_only)
    register_resources(server, settings)
    if not read_only:
        register_prompts(server)
    return server
