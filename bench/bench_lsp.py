"""Benchmark `pgshift lsp` over stdio, as an editor sees it.

Measures: server start to `initialize` answered; didChange to publishDiagnostics on a small migration and on
a 5,000-statement file; resident memory with 10,000 migration files in the folder.

    .venv/bin/python bench/bench_lsp.py [--database-url URL] [--rounds N] [--starts N] [--start-only]

The start is compared in the same run with the floor pygls sets: a bare pygls LanguageServer with no features
answering `initialize` (the two alternate; medians and their ratio; issue 14's target is <= 1.15x).

Sleeps here are deliberate (a benchmark spaces its edits past the 150 ms throttle window so each edit is
measured alone); the tests never sleep.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).resolve().parents[1]
SMALL = ("CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n"
         "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n"
         "-- ROLLBACK:\n-- DROP TABLE accounts;\n")


def big_text(statements: int = 5000) -> str:
    body = "".join(f"ALTER TABLE big ADD COLUMN c{i} integer;\n" for i in range(statements - 1))
    return "CREATE TABLE big (id bigint);\n" + body + "-- ROLLBACK:\n-- DROP TABLE big;\n"


class Bench:
    def __init__(self, root: Path, database_url: str | None) -> None:
        self.root = root
        self.database_url = database_url
        self.client = LanguageClient("bench", "0")
        self.waiters: dict[str, asyncio.Future] = {}
        self.process: psutil.Process | None = None

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            waiter = self.waiters.pop(params.uri, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())

        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE):
            self.client.feature(method)(lambda params: None)

    async def start(self, command: tuple[str, ...] = ("-m", "server", "lsp"), source: Path = REPO) -> float:
        # No PYTHONDONTWRITEBYTECODE: an installed pgshift has its bytecode (the first start writes it here).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PG") and k not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")}
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env["PYTHONPATH"] = str(source)
        began = time.perf_counter()
        await self.client.start_io(sys.executable, *command, env=env, cwd=str(self.root))
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=self.root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=self.root.as_uri(), name="bench")]))
        answered = time.perf_counter() - began
        self.client.initialized(types.InitializedParams())
        self.process = psutil.Process(self.client._server.pid)
        return answered

    def expect(self, uri: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters[uri] = future
        return future

    async def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        waiter = self.expect(uri)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="sql", version=1, text=text)))
        await asyncio.wait_for(waiter, 60)
        return uri

    async def change_latency(self, uri: str, texts: list[str], first_version: int = 2) -> list[float]:
        """Milliseconds from sending each didChange to its publishDiagnostics."""
        out = []
        for version, text in enumerate(texts, start=first_version):
            await asyncio.sleep(0.2)  # past the throttle window: measure one isolated edit
            waiter = self.expect(uri)
            sent = time.perf_counter()
            self.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
            arrived = await asyncio.wait_for(waiter, 60)
            out.append((arrived - sent) * 1000)
        return out

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms (n={len(ordered)})"


BARE = ("-c", "from pygls.lsp.server import LanguageServer; LanguageServer('bare', '0').start_io()")


async def run(rounds: int, database_url: str | None, count: int = 5, start_only: bool = False,
              source: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="pgshift-bench-lsp-") as folder:
        root = Path(folder)
        migrations = root / "migrations"
        migrations.mkdir()

        starts, bare, before = [], [], []
        servers = [(("-m", "server", "lsp"), REPO, starts), (BARE, REPO, bare)]
        if source:
            servers.append((("-m", "server", "lsp"), source.resolve(), before))
        for i in range(count + 1):  # the first of each is a warm-up (page cache, bytecode)
            for command, checkout, into in servers:
                bench = Bench(root, database_url)
                took = await bench.start(command, checkout) * 1000
                await bench.stop()
                if i:
                    into.append(took)
        print(f"start to initialize answered: {summary(starts)}")
        print(f"bare pygls server, same run:  {summary(bare)}")
        print(f"ratio of medians: {statistics.median(starts) / statistics.median(bare):.2f}x, paired "
              f"{statistics.median(a / b for a, b in zip(starts, bare)):.2f}x (target <= 1.15x)")
        if before:
            print(f"--source {source}: {summary(before)}; ratio {statistics.median(before) / statistics.median(bare):.2f}x,"
                  f" paired {statistics.median(a / b for a, b in zip(before, bare)):.2f}x")
        if start_only:
            return

        bench = Bench(root, database_url)
        await bench.start()
        small_path = migrations / "2024-05-01_1200_create_accounts.sql"
        uri = await bench.open(small_path, SMALL)
        texts = [SMALL.replace("email text", f"email{i} text") for i in range(rounds)]
        print(f"didChange to publishDiagnostics, small migration: {summary(await bench.change_latency(uri, texts))}")

        big = big_text()
        big_path = migrations / "2024-05-02_1200_big.sql"
        uri = await bench.open(big_path, big)
        texts = [big.replace("c4000 integer", f"c4000 integer{'' if i % 2 else ' NOT NULL'}") for i in range(rounds)]
        print(f"didChange to publishDiagnostics, 5,000 statements: {summary(await bench.change_latency(uri, texts))}")
        rss_before = bench.process.memory_info().rss
        await bench.stop()

        for i in range(10_000):
            day, minute = divmod(i, 1440)
            (migrations / f"2020-{1 + day // 28:02d}-{1 + day % 28:02d}_{minute // 60:02d}{minute % 60:02d}_m{i}.sql"
             ).write_text(f"CREATE TABLE t{i} (id int);\n-- ROLLBACK:\n-- DROP TABLE t{i};\n", encoding="utf-8")
        bench = Bench(root, database_url)
        await bench.start()
        uri = await bench.open(small_path, SMALL)
        latency = await bench.change_latency(uri, texts[:5] and [SMALL + f"-- {i}\n" for i in range(5)])
        began = time.perf_counter()
        await bench.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
            context=types.CodeActionContext(diagnostics=[])))
        actions_ms = (time.perf_counter() - began) * 1000
        rss = bench.process.memory_info().rss
        await bench.stop()
        print(f"resident memory: {rss_before / 2**20:.0f} MiB after the 5,000-statement file; "
              f"{rss / 2**20:.0f} MiB with 10,000 migration files in the folder "
              f"(small-file didChange there: {summary(latency)}; code actions {actions_ms:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="also read migration state from this database (default: none)")
    parser.add_argument("--rounds", type=int, default=20, help="edits measured per file (default 20)")
    parser.add_argument("--starts", type=int, default=5, help="starts measured per server (default 5)")
    parser.add_argument("--start-only", action="store_true", help="measure only the start against the floor")
    parser.add_argument("--source", type=Path, help="another checkout whose `pgshift lsp` starts too (before/after)")
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.database_url, args.starts, args.start_only, args.source))


if __name__ == "__main__":
    main()
