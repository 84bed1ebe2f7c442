"""Migration files and what is in them, without a database: naming, SQL parsing, lint rules, findings."""
