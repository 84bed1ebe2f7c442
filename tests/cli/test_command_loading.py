"""A command loads only its own module: `pgshift check` in CI does not pay for the servers' imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path) -> str:
    code = ("import sys; from server.cli.main import main; code = main(sys.argv[1:]); "
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('server.cli.commands.')), "
            "code, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return done.stderr.strip().splitlines()[-1]


def test_check_imports_only_the_check_command(tmp_path):
    (tmp_path / "migrations").mkdir()
    assert _run(["-C", str(tmp_path), "check"], tmp_path) == "['check'] 0"


def test_an_alias_and_a_typo_still_see_every_command(tmp_path):
    (tmp_path / "migrations").mkdir()
    assert _run(["--json", "lint"], tmp_path).endswith("] 0")
    assert "'lsp'" in _run(["lint"], tmp_path)
    done = subprocess.run([sys.executable, "-m", "server", "chek"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "invalid choice: 'chek'" in done.stderr and "'check'" in done.stderr
