"""pgshift's migration engine: files, SQL analysis, tracking, runner and snapshot, with no front-end code.

The command line, the language server and the MCP server all call into this package; it returns data and
raises `engine.errors.PgshiftError`, and never prints. Its modules are grouped by job:

- `engine.analysis`: migration files and what is in them, without a database (files, SQL, lint rules, findings);
- `engine.database`: work against a live database (connections, tracking, the runner, status, snapshot, backup);
- `engine.shadow`: throw-away databases (the shadow and its traces, verify, drift);
- at the top: what every front end shares (config, errors, redaction, project set-up, watching).
"""

__version__ = "0.1.0"  # the package version (pyproject.toml reads it from here)
