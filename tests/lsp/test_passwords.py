"""No password reaches the editor or its log, whatever shape the URL holding it has (issue 10, item 9).

The real `pgshift lsp`, debug logging on (pygls then logs every message it sends), against an address nothing
listens on: the messages, the command results and the server's standard error are searched for the password.
"""

from __future__ import annotations

import json

import pytest
from lsprotocol import types

from tests.lsp.conftest import open_document, start, stop, wait_for_diagnostics, wait_for_message
from tests.passwords import leaks, url_forms

PASSWORD = "S3c/r@t:%zz?#é"


@pytest.mark.parametrize("form", range(6))
async def test_no_password_in_messages_results_or_logs(tmp_path, capsys, monkeypatch, form):
    monkeypatch.setenv("PGSHIFT_TEST_LSP_LOG", "DEBUG")
    (tmp_path / "migrations").mkdir()
    path = tmp_path / "migrations" / "2025-01-01_1000_t.sql"
    path.write_text("CREATE TABLE t (id int);\n\n-- ROLLBACK:\n-- DROP TABLE t;\n")
    client = await start(tmp_path, url_forms(PASSWORD)[form])
    try:
        open_document(client, path)
        await wait_for_message(client, lambda m: "cannot read migration state" in m.message)
        results = [await client.workspace_execute_command_async(types.ExecuteCommandParams(command=name))
                   for name in ("pgshift.list", "pgshift.migrate")]
    finally:
        await stop(client)
    logs = capsys.readouterr().err
    assert "Sending data" in logs  # the log did record what went out
    shown = [m.message for m in client.messages] + [m.message for m in client.log_messages]
    assert not leaks(PASSWORD, *shown, json.dumps(results, default=str, ensure_ascii=False), logs)


async def test_a_password_quoted_by_any_message_is_scrubbed_on_the_way_out(tmp_path, capsys, monkeypatch):
    """Not only the database messages: the scrubbing is where messages leave, so a diagnostic is covered too."""
    monkeypatch.setenv("PGSHIFT_TEST_LSP_LOG", "DEBUG")
    (tmp_path / "migrations").mkdir()
    path = tmp_path / "migrations" / "2025-01-01_1000_t.sql"
    path.write_text("SELECT 1 Hunter2Hunter2 Hunter2Hunter2;\n")  # pglast: syntax error at or near "Hunter2…"
    client = await start(tmp_path, "postgresql://app:Hunter2Hunter2@127.0.0.1:1/shop")
    try:
        uri = open_document(client, path)
        diagnostics = await wait_for_diagnostics(client, uri, lambda d: any("syntax" in x.message for x in d))
    finally:
        await stop(client)
    assert any('syntax error at or near "***"' in d.message for d in diagnostics)
    assert "Hunter2Hunter2" not in capsys.readouterr().err.split("Sending data")[-1]
