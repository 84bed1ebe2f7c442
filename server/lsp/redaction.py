"""The one place LSP output leaves pgshift: every message to the editor and every log line, scrubbed.

Messages are scrubbed as they are written to the client (pygls' `_send_data`), so a notification, a command's
result or a diagnostic added tomorrow is covered without remembering to redact (issue 10, item 9). Edits'
new text is left alone: it is the user's own SQL, written back into their files.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from engine.redaction import Redactor, redact_logs as engine_redact_logs

_KEPT_KEYS = frozenset({"jsonrpc", "method", "id", "uri", "newText", "insertText", "kind", "type"})


def scrub(data: Any, redactor: Redactor) -> Any:
    """Strings of a JSON-RPC message scrubbed, protocol fields and edits' text kept as they are."""
    if isinstance(data, dict):
        return {key: value if key in _KEPT_KEYS else scrub(value, redactor) for key, value in data.items()}
    if isinstance(data, list):
        return [scrub(value, redactor) for value in data]
    return redactor.text(data) if isinstance(data, str) else data


def redactor_of(server: Any) -> Redactor:
    """The passwords of every project the server has loaded, and of its environment."""
    projects = getattr(server, "projects", None)
    live = list(getattr(projects, "live", {}).values())
    return Redactor.of(tuple(url for p in live for url in (p.project.settings.database_url,
                                                        p.project.settings.shadow_database_url)))


class RedactingProtocol(LanguageServerProtocol):
    """pygls' protocol, scrubbing each outgoing message before it is written (and logged by pygls)."""

    def _send_data(self, data: Any) -> None:
        if data:
            plain = json.loads(json.dumps(data, default=self._serialize_message))
            data = scrub(plain, redactor_of(self._server))
        super()._send_data(data)


def redact_logs(server: LanguageServer, handlers: list[logging.Handler]) -> None:
    """The server's log lines scrubbed with the passwords of the projects it has loaded at that moment."""
    engine_redact_logs(handlers, lambda: redactor_of(server))
