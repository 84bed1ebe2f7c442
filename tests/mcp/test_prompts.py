"""prompts/get answers bad arguments with the protocol's invalid-params error, not code 0."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from tests.mcp.conftest import serve


async def test_a_missing_or_unknown_prompt_argument_is_invalid_params(project, mode):
    async with serve(project, mode) as client:
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("schema_change", {})
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("no_such_prompt", {"change": "x"})
        still = await client.get_prompt("schema_change", {"change": "add a column"})
    assert missing.value.code == INVALID_PARAMS == -32602
    assert "change" in missing.value.message
    assert unknown.value.code == INVALID_PARAMS and "no_such_prompt" in unknown.value.message
    assert "add a column" in still.messages[0].content.text
