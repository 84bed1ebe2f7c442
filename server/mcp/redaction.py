"""The one place MCP answers leave pgshift: every tool result, resource and prompt is scrubbed of passwords.

A middleware on the server sees each answer as the wire dictionary it becomes, so a tool added tomorrow is
covered without remembering to redact (issue 10, item 9). Listings (tools, resources, prompts) carry only
pgshift's own texts and schemas and are left alone; so are the protocol's own fields.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError

from engine.redaction import Redactor

SCRUBBED_METHODS = frozenset({"tools/call", "resources/read", "prompts/get", "completion/complete"})
_PROTOCOL_KEYS = frozenset({"type", "mimeType", "uri", "resultType", "_meta"})


class RedactingMiddleware:
    """Scrub the answers of the methods that carry engine text (results and the errors MCP raises)."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in SCRUBBED_METHODS:
            return await call_next(ctx)
        try:
            result = await call_next(ctx)
        except MCPError as error:
            raise MCPError(error.code, self.redactor.text(error.message), self.scrub(error.data)) from None
        return self.scrub(result)

    def scrub(self, data: Any) -> Any:
        if hasattr(data, "model_dump"):
            data = data.model_dump(by_alias=True, mode="json", exclude_none=True)
        if isinstance(data, dict):
            return {key: value if key in _PROTOCOL_KEYS else self.scrub(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.scrub(value) for value in data]
        return self.redactor.text(data) if isinstance(data, str) else data


def redactor_of(server: Any) -> Redactor:
    """The redactor installed on `server`, for what it sends on its own (progress, elicitation questions)."""
    for middleware in getattr(server, "middleware", []):
        if isinstance(middleware, RedactingMiddleware):
            return middleware.redactor
    return Redactor()
