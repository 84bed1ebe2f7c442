"""Throw-away databases that show what PostgreSQL will do with migrations: the shadow and its traces, verify, drift."""
