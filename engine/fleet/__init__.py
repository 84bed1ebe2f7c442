"""Fleets: one migrations folder applied to many databases (tenants, shards, regions), each an ordinary run."""
