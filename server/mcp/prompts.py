"""The workflow prompt: one schema change, from new_migration to snapshot."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from engine.config import Settings
from server.mcp import texts


def register_prompts(server: MCPServer, settings: Settings) -> None:
    @server.prompt(name="schema_change", title="Make a schema change",
                   description="Walk through one schema change: new_migration, check_migration, verify_migration, "
                               "migrate (dry run, then for real), snapshot.")
    def schema_change(change: str) -> str:
        return texts.schema_change_prompt(change, backup_first=not settings.uses_embedded_database)


async def check_prompt_arguments(server: MCPServer, ctx: ServerRequestContext[Any, Any],
                                 call_next: CallNext) -> HandlerResult:
    """`prompts/get` naming an unknown prompt or leaving out a required argument is invalid params (-32602).

    The SDK raises a plain ValueError for both, which reaches the client as error code 0.
    """
    if ctx.method == "prompts/get" and ctx.request_id is not None and isinstance(ctx.params, dict):
        name = ctx.params.get("name")
        given = ctx.params.get("arguments") or {}
        prompts = {p.name: p for p in await server.list_prompts()}
        if isinstance(name, str) and isinstance(given, dict):
            if name not in prompts:
                raise MCPError(INVALID_PARAMS, f"unknown prompt {name!r}; prompts/list shows the prompts there are")
            missing = [a.name for a in prompts[name].arguments or [] if a.required and a.name not in given]
            if missing:
                raise MCPError(INVALID_PARAMS, f"prompt {name!r} needs the argument(s): {', '.join(missing)}")
    return await call_next(ctx)
