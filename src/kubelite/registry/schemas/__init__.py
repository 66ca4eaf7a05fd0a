"""Data for the registry's OpenAPI schemas (see ``kubelite.registry.pod_schema``)."""
