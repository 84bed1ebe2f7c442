"""pgshift's migration engine: files, SQL analysis, tracking, runner and snapshot, with no front-end code.

The command line, the language server and the MCP server all call into this package; it returns data and
raises `engine.errors.PgshiftError`, and never prints.
"""
