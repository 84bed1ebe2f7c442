"""What the language server costs before it can answer `initialize`."""

from __future__ import annotations

import subprocess
import sys

from tests.lsp.conftest import REPO


def test_building_the_server_imports_neither_the_driver_nor_the_parser():
    # psycopg and pglast take ~100 ms to import; the editor waits for `initialize` meanwhile. They load on
    # the first database read and the first analysis, both in worker threads.
    probe = ("import sys; from server.lsp import build_server; build_server(); "
             "print(sorted(m for m in ('psycopg', 'pglast') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

