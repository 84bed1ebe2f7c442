"""The workflow prompt: one schema change, from new_migration to snapshot."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from server.mcp import texts


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="schema_change", title="Make a schema change",
                   description="Walk through one schema change: new_migration, check_migration, verify_migration, "
                               "migrate (dry run, then for real), snapshot.")
    def schema_change(change: str) -> str:
        return texts.schema_change_prompt(change)
