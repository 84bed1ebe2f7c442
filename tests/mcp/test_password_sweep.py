"""No password reaches the assistant, whatever shape the URL holding it has (issue 10, item 9).

The real MCP server in-process through mcp.Client: every tool that touches the database, against an address
nothing listens on; the results (text and structured) and progress messages are searched for the password.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from mcp import Client

from engine.config import load_settings
from server.mcp import build_server
from tests.passwords import PASSWORDS, leaks, url_forms

# verify_migration is left out: it works on a scratch server of its own, not on the configured database.
CALLS = [("list_migrations", {}), ("migrate", {"dry_run": True}), ("migrate", {}), ("rollback", {}),
         ("snapshot", {})]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mcp-sweep")
    (root / "migrations").mkdir()
    (root / "migrations" / "2025-01-01_1000_t.sql").write_text("CREATE TABLE t (id int);\n\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    return root


async def answers(folder: Path, url: str) -> list[str]:
    server = build_server(load_settings(folder, database_url=url, environ={}))
    seen: list[str] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with Client(server) as client:
        for name, arguments in CALLS:
            result = await client.call_tool(name, arguments, progress_callback=progress)
            assert result.is_error, (name, result)
            seen += [block.text for block in result.content if getattr(block, "type", None) == "text"]
            seen.append(json.dumps(result.structured_content, ensure_ascii=False))
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PASSWORDS, st.sampled_from(range(6)))
def test_no_password_in_any_tool_result(folder, password, form):
    url = url_forms(password)[form]
    seen = anyio.run(answers, folder, url)
    assert not leaks(password, *seen), seen


def test_a_password_in_any_result_is_scrubbed_on_the_way_out(folder):
    """The scrubbing is where answers leave, so a tool whose result merely quotes the text is covered too."""
    async def check() -> str:
        server = build_server(load_settings(folder, database_url="postgresql://app:Hunter2Hunter2@127.0.0.1:1/x",
                                            environ={}))
        async with Client(server) as client:
            result = await client.call_tool("check_migration", {"sql": "SELECT 1 Hunter2Hunter2 Hunter2Hunter2;"})
        return json.dumps(result.structured_content) + "\n".join(b.text for b in result.content)

    seen = anyio.run(check)
    assert 'syntax error at or near \\"***\\"' in seen and "Hunter2Hunter2" not in seen
