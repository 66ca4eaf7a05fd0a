"""Typed views and helpers over Kubernetes objects (plain dicts at the edges). No I/O."""
