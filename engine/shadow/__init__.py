"""The shadow database: the schema as of any point of the migration history, and traces of migrations in it."""
