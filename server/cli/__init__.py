"""The `pgshift` command: argument parsing and output only; every decision is the engine's."""

from server.cli.main import main

__all__ = ["main"]
