"""Editor hooks: small programs an editor runs around the AI assistant's actions, answering on stdout."""
