"""Work against a live database: connections, the tracking table, the runner, status, snapshot, backup."""
