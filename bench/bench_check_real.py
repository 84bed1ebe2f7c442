"""Benchmark `pgshift check` against squawk on a real migration history and on one generated 5,000-statement file.

    .venv/bin/python bench/bench_check_real.py --squawk /tmp/benchtools/node_modules/.bin/squawk
        [--corpus ../shared/corpus/kratos] [--rounds 11] [--source DIR]

Each tool is a fresh process per run (what a user or CI waits for), the two alternating within each round on
the same files, so the machine's load hits both alike. Prints each tool's median, the ratio of medians and the
median of each round's own ratio ("paired"). `--source DIR` runs the pgshift of another checkout (e.g.
`git archive OLD | tar -x -C DIR`) in the same run, for before/after. Target (issue 14): <= 1.0x squawk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_check import big_file  # noqa: E402


def run(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from wait4: less swayed by other jobs on a loaded machine)."""
    start = time.perf_counter()
    # `python -m server` imports from its working directory first: run each checkout from its own.
    cwd = env.get("PYTHONPATH") if env else None
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def compare(title: str, tools: dict[str, tuple[list[str], dict | None]], rounds: int) -> None:
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
    for name, (command, env) in tools.items():  # warm the page cache (and write bytecode) once
        run(command, env)
    for _ in range(rounds):
        for name, (command, env) in tools.items():
            times[name].append(run(command, env))
    base = times["squawk"]
    print(f"{title} (median of {rounds} alternating runs, load average {os.getloadavg()[0]:.1f})")
    print(f"  {'':14} {'wall':>9} {'ratio':>7} {'paired':>7} {'cpu':>9} {'ratio':>7}")
    for name, values in times.items():
        row = []
        for k in (0, 1):
            mine, theirs = [v[k] for v in values], [b[k] for b in base]
            row.append((statistics.median(mine), statistics.median(mine) / statistics.median(theirs),
                        statistics.median(m / t for m, t in zip(mine, theirs))))
        (w, wr, wp), (c, cr, _) = row
        print(f"  {name:14} {w * 1000:6.0f} ms {wr:6.2f}x {wp:6.2f}x {c * 1000:6.0f} ms {cr:6.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squawk", default=shutil.which("squawk") or "/tmp/benchtools/node_modules/.bin/squawk")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "kratos")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--source", type=Path, help="another checkout whose pgshift runs too (before/after)")
    args = parser.parse_args()
    if not Path(args.squawk).exists():
        print(f"squawk not found at {args.squawk}: `npm install --prefix /tmp/benchtools squawk-cli`")
        return 2
    version = subprocess.run([args.squawk, "--version"], capture_output=True, text=True).stdout.strip()
    python = str(ROOT / ".venv" / "bin" / "python")
    # An installed pgshift has its bytecode compiled (pip does it); without this a session that sets
    # PYTHONDONTWRITEBYTECODE would recompile every pgshift module on every run. The warm-up run writes it.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "real"
        (root / "migrations").mkdir(parents=True)
        for path in sorted(args.corpus.glob("*.sql")):
            shutil.copy(path, root / "migrations" / path.name)
        files = sorted(str(p) for p in (root / "migrations").glob("*.sql"))
        big = Path(tmp) / "big"
        (big / "migrations").mkdir(parents=True)
        (big / "migrations" / "2024-01-01_0000_big.sql").write_text(big_file(5000), encoding="utf-8")

        def tools(project: Path, paths: list[str]) -> dict[str, tuple[list[str], dict | None]]:
            out: dict[str, tuple[list[str], dict | None]] = {
                "pgshift": ([python, "-m", "server", "-C", str(project), "check"],
                            {**clean, "PYTHONPATH": str(ROOT)})}
            if args.source:
                out["pgshift before"] = ([python, "-m", "server", "-C", str(project), "check"],
                                         {**clean, "PYTHONPATH": str(args.source.resolve())})
            out["squawk"] = ([args.squawk, *paths], None)
            return out

        print(f"squawk: {version}")
        compare(f"{args.corpus.name}: {len(files)} migrations", tools(root, files), args.rounds)
        compare("one generated file of 5,000 statements", tools(big, [str(p) for p in (big / "migrations").glob("*")]),
                args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
