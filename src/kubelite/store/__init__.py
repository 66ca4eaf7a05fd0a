"""Durable object storage for the API server: revisions, preconditions, watch, compaction."""
