"""Throw-away databases that show what PostgreSQL will really do with a migration before it runs."""
