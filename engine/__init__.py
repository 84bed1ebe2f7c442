"""pgshift's migration engine: files, SQL analysis, tracking, runner and snapshot, with no front-end code.

The command line, the language server and the MCP server all call into this package; it returns data and
raises `engine.errors.PgshiftError`, and never prints.
"""

__version__ = "0.1.0"  # the package version (pyproject.toml reads it from here)
